package dynamutextest

import (
	"context"
	"hash/fnv"
	"slices"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// maxScanPageBytes is how much item data one Scan page reads at most, as
// in DynamoDB.
const maxScanPageBytes = 1 << 20

// Scan reads a table's items in a fixed order (not DynamoDB's hash order,
// but stable, so pagination with Limit, LastEvaluatedKey and
// ExclusiveStartKey reads every item exactly once). It supports
// FilterExpression, ProjectionExpression, Select (ALL_ATTRIBUTES,
// SPECIFIC_ATTRIBUTES, COUNT) and parallel scans (Segment, TotalSegments).
// As in DynamoDB, Limit counts items read before the filter, a page stops
// after 1 MB of items, and a page that stops at Limit returns a
// LastEvaluatedKey even when no items follow. Secondary indexes are not
// supported.
func (s *Store) Scan(ctx context.Context, in *dynamodb.ScanInput, _ ...func(*dynamodb.Options)) (*dynamodb.ScanOutput, error) {
	return serve(ctx, s, in, func(in *dynamodb.ScanInput) (*dynamodb.ScanOutput, error) {
		if err := checkParams("ScanInput", []param{{"TableName", in.TableName != nil}},
			map[string]bool{"AttributesToGet": in.AttributesToGet != nil, "ScanFilter": in.ScanFilter != nil,
				"ConditionalOperator": in.ConditionalOperator != ""}); err != nil {
			return nil, err
		}
		if in.IndexName != nil {
			return nil, unsupported("secondary indexes (IndexName)")
		}
		t, err := s.lookup(in.TableName)
		if err != nil {
			return nil, err
		}
		q, err := newScanQuery(t, in)
		if err != nil {
			return nil, err
		}
		return q.run(), nil
	})
}

// scanQuery is a checked Scan request.
type scanQuery struct {
	t          *table
	limit      int // 0: none
	start      string
	hasStart   bool
	filter     cond
	projection []docPath
	count      bool
	segment    int
	segments   int // 0: not a parallel scan
}

func newScanQuery(t *table, in *dynamodb.ScanInput) (*scanQuery, error) {
	q := &scanQuery{t: t}
	if in.Limit != nil {
		if *in.Limit < 1 {
			return nil, validation("Limit must be greater than or equal to 1")
		}
		q.limit = int(*in.Limit)
	}
	if err := q.setSegment(in.Segment, in.TotalSegments); err != nil {
		return nil, err
	}
	if err := q.setSelect(in.Select, in.ProjectionExpression != nil); err != nil {
		return nil, err
	}
	if in.ExclusiveStartKey != nil {
		enc, _, err := t.keyFromParam(in.ExclusiveStartKey)
		if err != nil {
			return nil, validation("The provided starting key is invalid: %s", apiMessage(err))
		}
		q.start, q.hasStart = enc, true
	}
	return q, q.parseExprs(in)
}

func (q *scanQuery) setSegment(segment, total *int32) error {
	switch {
	case segment == nil && total == nil:
		return nil
	case segment == nil || total == nil:
		return validation("The Segment parameter is required but was not present in the request when parameter TotalSegments is present")
	case *total < 1 || *total > 1000000:
		return validation("1 validation error detected: Value '%d' at 'totalSegments' failed to satisfy constraint: "+
			"Member must have value between 1 and 1000000", *total)
	case *segment < 0 || *segment >= *total:
		return validation("The Segment parameter is zero-based and must be less than parameter TotalSegments: "+
			"Segment: %d is not less than TotalSegments: %d", *segment, *total)
	}
	q.segment, q.segments = int(*segment), int(*total)
	return nil
}

func (q *scanQuery) setSelect(sel types.Select, hasProjection bool) error {
	switch sel {
	case "":
	case types.SelectAllAttributes:
		if hasProjection {
			return validation("Cannot specify the ProjectionExpression when choosing to get ALL_ATTRIBUTES")
		}
	case types.SelectSpecificAttributes:
		if !hasProjection {
			return validation("Must specify the AttributesToGet or ProjectionExpression when choosing to get SPECIFIC_ATTRIBUTES")
		}
	case types.SelectCount:
		if hasProjection {
			return validation("Cannot specify the ProjectionExpression when choosing to get only the Count")
		}
		q.count = true
	case types.SelectAllProjectedAttributes:
		return validation("ALL_PROJECTED_ATTRIBUTES can be used only when Querying using an IndexName")
	default:
		return validation("1 validation error detected: Value '%s' at 'select' failed to satisfy constraint: Member must "+
			"satisfy enum value set: [SPECIFIC_ATTRIBUTES, COUNT, ALL_ATTRIBUTES, ALL_PROJECTED_ATTRIBUTES]", sel)
	}
	return nil
}

func (q *scanQuery) parseExprs(in *dynamodb.ScanInput) error {
	params, err := newExprParams(in.ExpressionAttributeNames, in.ExpressionAttributeValues,
		in.FilterExpression != nil || in.ProjectionExpression != nil)
	if err != nil {
		return err
	}
	if q.filter, err = parseInto("FilterExpression", in.FilterExpression, func(s string) (cond, error) {
		return parseCondition(s, params)
	}); err != nil {
		return err
	}
	if q.projection, err = parseInto("ProjectionExpression", in.ProjectionExpression, func(s string) ([]docPath, error) {
		return parseProjection(s, params)
	}); err != nil {
		return err
	}
	return params.checkUnused()
}

// run reads one page.
func (q *scanQuery) run() *dynamodb.ScanOutput {
	out := &dynamodb.ScanOutput{}
	if !q.count {
		out.Items = []item{}
	}
	from := 0
	if q.hasStart {
		from, _ = slices.BinarySearch(q.t.order, q.start)
		if from < len(q.t.order) && q.t.order[from] == q.start {
			from++
		}
	}
	bytes := 0
	for i := from; i < len(q.t.order); i++ {
		enc := q.t.order[i]
		if q.segments > 0 && segmentOf(enc, q.segments) != q.segment {
			continue
		}
		it := q.t.items[enc]
		out.ScannedCount++
		bytes += itemSize(it)
		if q.filter == nil || evalCond(q.filter, it) {
			out.Count++
			if !q.count {
				out.Items = append(out.Items, q.shape(it))
			}
		}
		if int(out.ScannedCount) == q.limit || bytes >= maxScanPageBytes {
			if q.limit > 0 || i+1 < len(q.t.order) {
				out.LastEvaluatedKey = q.t.keyAttrs(it)
			}
			break
		}
	}
	return out
}

// shape returns the copy of it that the caller gets.
func (q *scanQuery) shape(it item) item {
	return shaped(it, q.projection)
}

// segmentOf assigns an item to a parallel-scan segment by a hash of its
// key, so that the segments split the table without overlap.
func segmentOf(enc string, segments int) int {
	h := fnv.New32a()
	h.Write([]byte(enc))
	return int(h.Sum32() % uint32(segments))
}
