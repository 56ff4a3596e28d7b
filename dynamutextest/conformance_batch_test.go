package dynamutextest_test

import (
	"fmt"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

func TestConformanceBatchGet(t *testing.T) {
	runConformance(t, []conformanceCase{
		{"FoundMissingProjected", caseBatchGetProjected},
		{"Errors", caseBatchGetErrors},
	})
}

// batchKeys names pk values k0..k(n-1).
func batchKeys(n int) []item {
	keys := make([]item, n)
	for i := range keys {
		keys[i] = item{"pk": S(fmt.Sprintf("k%d", i))}
	}
	return keys
}

// A strongly consistent, projected BatchGetItem returns the items that
// exist, projected, with their keys when asked, and leaves out the rest.
func caseBatchGetProjected(t *testing.T, c api) {
	table := pkTable(t, c)
	put(t, c, table, item{"pk": S("k0"), "owner": S("a"), "data": S("big")})
	put(t, c, table, item{"pk": S("k2"), "owner": S("c")})
	out, err := c.BatchGetItem(ctx, &dynamodb.BatchGetItemInput{RequestItems: map[string]types.KeysAndAttributes{
		table: {Keys: batchKeys(4), ConsistentRead: aws.Bool(true), ProjectionExpression: aws.String("#o, #k"),
			ExpressionAttributeNames: map[string]string{"#o": "owner", "#k": "pk"}},
	}})
	mustOK(t, err)
	if len(out.UnprocessedKeys) != 0 {
		t.Fatalf("unprocessed keys %v in a 4-key batch", out.UnprocessedKeys)
	}
	got := map[string]string{}
	for _, it := range out.Responses[table] {
		if _, ok := it["data"]; ok {
			t.Errorf("item %s carries an attribute the projection left out", show(it))
		}
		got[it["pk"].(*types.AttributeValueMemberS).Value] = it["owner"].(*types.AttributeValueMemberS).Value
	}
	if len(got) != 2 || got["k0"] != "a" || got["k2"] != "c" {
		t.Errorf("responses %v, want k0 by a and k2 by c", got)
	}
}

// More than 100 keys, a key listed twice, and a missing table are refused.
func caseBatchGetErrors(t *testing.T, c api) {
	table := pkTable(t, c)
	get := func(name string, keys []item) error {
		_, err := c.BatchGetItem(ctx, &dynamodb.BatchGetItemInput{RequestItems: map[string]types.KeysAndAttributes{
			name: {Keys: keys}}})
		return err
	}
	wantAPIError(t, get(table, batchKeys(101)), "BatchGetItem", "ValidationException")
	wantAPIError(t, get(table, append(batchKeys(2), item{"pk": S("k0")})), "BatchGetItem", "ValidationException")
	wantAPIError(t, get(table+"-missing", batchKeys(1)), "BatchGetItem", "ResourceNotFoundException")
}
