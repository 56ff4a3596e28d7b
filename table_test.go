package dynamutex_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/dynamutex/dynamutex"
)

// A table made by another lock client keeps its TTL attribute: CreateTable
// on python-dynamodb-lock's layout (lock_key, sort_key, TTL on expiry_time)
// succeeds, leaves the TTL where it was, and a Session locks on it.
func TestCreateTableKeepsAnotherClientsTTL(t *testing.T) {
	c, _ := newClient(t)
	ctx := ctxTimeout(t, 10*time.Second)
	table := fmt.Sprintf("python_%d_%d", time.Now().UnixNano()%1e9, tableSeq.Add(1))
	_, err := c.CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName:   aws.String(table),
		BillingMode: types.BillingModePayPerRequest,
		AttributeDefinitions: []types.AttributeDefinition{
			{AttributeName: aws.String("lock_key"), AttributeType: types.ScalarAttributeTypeS},
			{AttributeName: aws.String("sort_key"), AttributeType: types.ScalarAttributeTypeS},
		},
		KeySchema: []types.KeySchemaElement{
			{AttributeName: aws.String("lock_key"), KeyType: types.KeyTypeHash},
			{AttributeName: aws.String("sort_key"), KeyType: types.KeyTypeRange},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.UpdateTimeToLive(ctx, &dynamodb.UpdateTimeToLiveInput{TableName: aws.String(table),
		TimeToLiveSpecification: &types.TimeToLiveSpecification{AttributeName: aws.String("expiry_time"), Enabled: aws.Bool(true)}}); err != nil {
		t.Fatal(err)
	}
	keys := []dynamutex.KeyOption{dynamutex.WithPartitionKey("lock_key"), dynamutex.WithSortKey("sort_key")}
	if err := dynamutex.CreateTable(ctx, c, table, keys[0], keys[1]); err != nil {
		t.Fatalf("CreateTable on a table whose TTL is on another attribute: %v", err)
	}
	ttl, err := c.DescribeTimeToLive(ctx, &dynamodb.DescribeTimeToLiveInput{TableName: aws.String(table)})
	if err != nil {
		t.Fatal(err)
	}
	if got := aws.ToString(ttl.TimeToLiveDescription.AttributeName); got != "expiry_time" {
		t.Fatalf("TTL moved to %q, want it left on expiry_time", got)
	}
	s := newSession(t, c, table, keys[0], keys[1])
	m := s.NewMutex("job", dynamutex.WithSortKeyValue("-"))
	if _, err := m.Lock(ctx); err != nil {
		t.Fatal(err)
	}
	if err := m.Unlock(ctx); err != nil {
		t.Fatal(err)
	}
}
