package interop

import (
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// Key attribute names of each client's default table layout (FORMATS.md).
const (
	JavaPartitionKey   = "key"
	PythonPartitionKey = "lock_key"
	PythonSortKey      = "sort_key"
	PythonTTL          = "expiry_time"
	// PythonDefaultSort is the sort key value python-dynamodb-lock writes
	// when the caller gives none.
	PythonDefaultSort = "-"
)

// CreateJavaTable creates a table as the Java client's README creates one:
// a string partition key named "key", no sort key, no TTL.
func (h *Harness) CreateJavaTable(name string) error {
	return h.createTable(name, []types.KeySchemaElement{
		{AttributeName: aws.String(JavaPartitionKey), KeyType: types.KeyTypeHash},
	})
}

// CreatePythonTable creates a table as python-dynamodb-lock's
// create_dynamodb_table does: string keys lock_key and sort_key, and TTL on
// expiry_time.
func (h *Harness) CreatePythonTable(name string) error {
	err := h.createTable(name, []types.KeySchemaElement{
		{AttributeName: aws.String(PythonPartitionKey), KeyType: types.KeyTypeHash},
		{AttributeName: aws.String(PythonSortKey), KeyType: types.KeyTypeRange},
	})
	if err != nil {
		return err
	}
	_, err = h.DB.UpdateTimeToLive(ctx(), &dynamodb.UpdateTimeToLiveInput{
		TableName: aws.String(name),
		TimeToLiveSpecification: &types.TimeToLiveSpecification{
			AttributeName: aws.String(PythonTTL), Enabled: aws.Bool(true)},
	})
	return err
}

func (h *Harness) createTable(name string, keys []types.KeySchemaElement) error {
	defs := make([]types.AttributeDefinition, len(keys))
	for i, k := range keys {
		defs[i] = types.AttributeDefinition{AttributeName: k.AttributeName, AttributeType: types.ScalarAttributeTypeS}
	}
	_, err := h.DB.CreateTable(ctx(), &dynamodb.CreateTableInput{
		TableName:            aws.String(name),
		KeySchema:            keys,
		AttributeDefinitions: defs,
		BillingMode:          types.BillingModePayPerRequest,
	})
	if err != nil {
		return fmt.Errorf("interop: create table %s: %w", name, err)
	}
	// DynamoDB Local creates tables at once; the waiter costs one request.
	return dynamodb.NewTableExistsWaiter(h.DB).Wait(ctx(),
		&dynamodb.DescribeTableInput{TableName: aws.String(name)}, 30*time.Second)
}

// RawItem reads an item with a plain, strongly consistent GetItem. key maps
// key attribute names to string values. It returns nil when there is none.
func (h *Harness) RawItem(table string, key map[string]string) (map[string]types.AttributeValue, error) {
	k := make(map[string]types.AttributeValue, len(key))
	for n, v := range key {
		k[n] = &types.AttributeValueMemberS{Value: v}
	}
	out, err := h.DB.GetItem(ctx(), &dynamodb.GetItemInput{
		TableName: aws.String(table), Key: k, ConsistentRead: aws.Bool(true)})
	if err != nil {
		return nil, err
	}
	return out.Item, nil
}
