package dynamutex

import (
	"context"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go/middleware"

	"github.com/dynamutex/dynamutex/internal/wire"
)

// readMany reads the records of ids (at most wire.MaxBatchRead, all of
// this table) with one strongly consistent BatchGetItem, projected as a
// waiter's read unless full, and returns the items found by id: an id missing from the
// map has no record. Keys that DynamoDB leaves unprocessed are read again,
// after a short growing pause, within the same call: a caller sees every
// key read or an error. requests counts the BatchGetItems sent.
func (s *store) readMany(ctx context.Context, ids []lockID, full bool) (found map[lockID]map[string]types.AttributeValue, requests int, err error) {
	items := make([]wire.Item, len(ids))
	for i, id := range ids {
		items[i] = s.item(id)
	}
	in := wire.WaitReadMany(items)
	if full {
		ka := in.RequestItems[s.table]
		ka.ProjectionExpression, ka.ExpressionAttributeNames = nil, nil
		in.RequestItems[s.table] = ka
	}
	found = make(map[lockID]map[string]types.AttributeValue, len(ids))
	pause := 10 * time.Millisecond
	for len(in.RequestItems) > 0 {
		if requests > 0 {
			if err := sleepUntil(ctx, pause, nil); err != nil {
				return nil, requests, err
			}
			pause = min(2*pause, time.Second)
		}
		out, err := s.batchGet(ctx, in)
		requests++
		if err != nil {
			return nil, requests, err
		}
		for _, item := range out.Responses[s.table] {
			found[s.idOf(item)] = item
		}
		in.RequestItems = out.UnprocessedKeys
	}
	return found, requests, nil
}

// idOf is the id of an item read with its key attributes.
func (s *store) idOf(item map[string]types.AttributeValue) lockID {
	key, _ := stringAttr(item, s.keys.partition)
	var sort string
	if s.keys.sort != "" {
		sort, _ = stringAttr(item, s.keys.sort)
	}
	return lockID{key: key, sort: sort}
}

// batchGet sends one BatchGetItem and checks the clock against its reply,
// as get does.
func (s *store) batchGet(ctx context.Context, in *dynamodb.BatchGetItemInput) (*dynamodb.BatchGetItemOutput, error) {
	sent := time.Now()
	out, err := s.client.BatchGetItem(ctx, in)
	var md middleware.Metadata
	if out != nil {
		md = out.ResultMetadata
	}
	s.clock.observe(sent, md, err)
	return out, err
}
