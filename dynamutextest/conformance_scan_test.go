package dynamutextest_test

import (
	"fmt"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

func TestConformanceScan(t *testing.T) {
	runConformance(t, []conformanceCase{
		{"PaginationReadsEveryItemOnce", caseScanPagination},
		{"SortKeyPagination", caseScanSortKeyPagination},
		{"FilterProjectionCount", caseScanFilter},
		{"ParallelSegments", caseScanSegments},
		{"Errors", caseScanErrors},
	})
}

// scanAll pages through a scan with limit, checks each page's counts, and
// returns how often each pk was read.
func scanAll(t *testing.T, c api, in *dynamodb.ScanInput) map[string]int {
	t.Helper()
	seen := map[string]int{}
	for page := 0; ; page++ {
		if page > 1000 {
			t.Fatal("scan does not end")
		}
		out, err := c.Scan(ctx, in)
		mustOK(t, err)
		if int(out.Count) != len(out.Items) {
			t.Errorf("page %d: Count %d, %d items", page, out.Count, len(out.Items))
		}
		if in.Limit != nil && out.ScannedCount > *in.Limit {
			t.Errorf("page %d: ScannedCount %d over Limit %d", page, out.ScannedCount, *in.Limit)
		}
		for _, it := range out.Items {
			seen[it["pk"].(*types.AttributeValueMemberS).Value+sortSuffix(it)]++
		}
		if out.LastEvaluatedKey == nil {
			return seen
		}
		in.ExclusiveStartKey = out.LastEvaluatedKey
	}
}

func sortSuffix(it item) string {
	if sk, ok := it["sk"].(*types.AttributeValueMemberN); ok {
		return "/" + sk.Value
	}
	return ""
}

func wantEachOnce(t *testing.T, seen map[string]int, want []string) {
	t.Helper()
	if len(seen) != len(want) {
		t.Errorf("read %d distinct items, want %d", len(seen), len(want))
	}
	for _, k := range want {
		if seen[k] != 1 {
			t.Errorf("item %s read %d times, want once", k, seen[k])
		}
	}
}

func caseScanPagination(t *testing.T, c api) {
	table := pkTable(t, c)
	var want []string
	for i := range 30 {
		k := fmt.Sprintf("k%02d", i)
		want = append(want, k)
		put(t, c, table, item{"pk": S(k), "n": N(fmt.Sprint(i))})
	}
	for _, limit := range []int32{1, 7, 10, 30, 100} {
		wantEachOnce(t, scanAll(t, c, &dynamodb.ScanInput{TableName: aws.String(table), Limit: aws.Int32(limit)}), want)
	}
	// A page that stops at Limit has a LastEvaluatedKey even at the end;
	// the page after it is empty.
	out, err := c.Scan(ctx, &dynamodb.ScanInput{TableName: aws.String(table), Limit: aws.Int32(30)})
	mustOK(t, err)
	if out.Count != 30 || out.LastEvaluatedKey == nil {
		t.Fatalf("Limit 30 of 30: Count %d, LastEvaluatedKey %s", out.Count, show(out.LastEvaluatedKey))
	}
	out, err = c.Scan(ctx, &dynamodb.ScanInput{TableName: aws.String(table), ExclusiveStartKey: out.LastEvaluatedKey})
	mustOK(t, err)
	if out.Count != 0 || out.ScannedCount != 0 || out.LastEvaluatedKey != nil {
		t.Errorf("page after the end: Count %d, ScannedCount %d, LastEvaluatedKey %s", out.Count, out.ScannedCount, show(out.LastEvaluatedKey))
	}
	// Without Limit, one page holds everything.
	out, err = c.Scan(ctx, &dynamodb.ScanInput{TableName: aws.String(table)})
	mustOK(t, err)
	if out.Count != 30 || out.ScannedCount != 30 || out.LastEvaluatedKey != nil {
		t.Errorf("full scan: Count %d, ScannedCount %d, LastEvaluatedKey %s", out.Count, out.ScannedCount, show(out.LastEvaluatedKey))
	}
	// A start key whose item is gone still resumes after it.
	out, err = c.Scan(ctx, &dynamodb.ScanInput{TableName: aws.String(table), ExclusiveStartKey: item{"pk": S("no-such-item")}})
	mustOK(t, err)
	if out.ScannedCount > 30 {
		t.Errorf("ScannedCount %d", out.ScannedCount)
	}
}

func caseScanSortKeyPagination(t *testing.T, c api) {
	table := createTable(t, c, keyDef{"pk", types.ScalarAttributeTypeS}, keyDef{"sk", types.ScalarAttributeTypeN})
	var want []string
	for i := range 5 {
		for j := range 6 {
			put(t, c, table, item{"pk": S(fmt.Sprintf("p%d", i)), "sk": N(fmt.Sprint(j - 2))})
			want = append(want, fmt.Sprintf("p%d/%d", i, j-2))
		}
	}
	wantEachOnce(t, scanAll(t, c, &dynamodb.ScanInput{TableName: aws.String(table), Limit: aws.Int32(4)}), want)
}

func caseScanFilter(t *testing.T, c api) {
	table := pkTable(t, c)
	for i := range 10 {
		put(t, c, table, item{"pk": S(fmt.Sprintf("k%d", i)), "n": N(fmt.Sprint(i)), "other": S("x")})
	}
	filter := &dynamodb.ScanInput{TableName: aws.String(table), FilterExpression: aws.String("#n >= :x"),
		ExpressionAttributeNames: map[string]string{"#n": "n"}, ExpressionAttributeValues: item{":x": N("7")}}
	out, err := c.Scan(ctx, filter)
	mustOK(t, err)
	if out.Count != 3 || out.ScannedCount != 10 {
		t.Errorf("filter: Count %d, ScannedCount %d, want 3 and 10", out.Count, out.ScannedCount)
	}
	// Limit counts items read, not items kept.
	var kept int32
	filter.Limit = aws.Int32(3)
	seen := scanAll(t, c, filter)
	for _, n := range seen {
		kept += int32(n)
	}
	if kept != 3 {
		t.Errorf("filtered pages kept %d items, want 3", kept)
	}

	out, err = c.Scan(ctx, &dynamodb.ScanInput{TableName: aws.String(table), Select: types.SelectCount,
		FilterExpression: aws.String("n < :x"), ExpressionAttributeValues: item{":x": N("4")}})
	mustOK(t, err)
	if out.Count != 4 || out.ScannedCount != 10 || len(out.Items) != 0 {
		t.Errorf("COUNT: Count %d, ScannedCount %d, %d items", out.Count, out.ScannedCount, len(out.Items))
	}
	out, err = c.Scan(ctx, &dynamodb.ScanInput{TableName: aws.String(table), ProjectionExpression: aws.String("n"),
		FilterExpression: aws.String("pk = :k"), ExpressionAttributeValues: item{":k": S("k5")}})
	mustOK(t, err)
	if len(out.Items) != 1 {
		t.Fatalf("projection: %d items, want 1", len(out.Items))
	}
	wantItem(t, "projected item", out.Items[0], item{"n": N("5")})
}

func caseScanSegments(t *testing.T, c api) {
	table := pkTable(t, c)
	var want []string
	for i := range 25 {
		k := fmt.Sprintf("k%02d", i)
		want = append(want, k)
		put(t, c, table, item{"pk": S(k)})
	}
	seen := map[string]int{}
	for seg := range int32(3) {
		for k, n := range scanAll(t, c, &dynamodb.ScanInput{TableName: aws.String(table), Segment: aws.Int32(seg),
			TotalSegments: aws.Int32(3), Limit: aws.Int32(4)}) {
			seen[k] += n
		}
	}
	wantEachOnce(t, seen, want)
}

func caseScanErrors(t *testing.T, c api) {
	table := pkTable(t, c)
	bad := []*dynamodb.ScanInput{
		{Limit: aws.Int32(0)},
		{ExclusiveStartKey: item{"x": S("a")}},
		{Select: types.SelectSpecificAttributes},
		{Select: types.SelectAllAttributes, ProjectionExpression: aws.String("a")},
		{Select: types.SelectCount, ProjectionExpression: aws.String("a")},
		{Select: types.SelectAllProjectedAttributes},
		{FilterExpression: aws.String("n >= :x"), ExpressionAttributeValues: item{":x": N("3"), ":y": N("1")}},
		{FilterExpression: aws.String("n >= ")},
		{Segment: aws.Int32(3), TotalSegments: aws.Int32(3)},
	}
	for i, in := range bad {
		in.TableName = aws.String(table)
		_, err := c.Scan(ctx, in)
		if err == nil {
			t.Errorf("bad scan %d succeeded", i)
			continue
		}
		wantAPIError(t, err, "Scan", "ValidationException")
	}
}
