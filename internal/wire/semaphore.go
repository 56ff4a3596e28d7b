package wire

import (
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// SemaphoreKeyPrefix begins the partition-key value of every permit record
// of a semaphore: permit i of semaphore name is the ordinary lock record
// SemaphoreKeyPrefix + name + ":" + i. User keys may not begin with it, so
// that a Mutex never takes a permit behind the semaphore's back.
const SemaphoreKeyPrefix = "dynamutex-semaphore:"

// MaxBatchRead is how many keys one BatchGetItem may read.
const MaxBatchRead = 100

// WaitReadMany builds one strongly consistent BatchGetItem of the records
// named by items, all of one table, with the projection of WaitRead: the
// read a semaphore's acquirer makes of all its permits at once.
func WaitReadMany(items []Item) *dynamodb.BatchGetItemInput {
	if len(items) == 0 {
		return &dynamodb.BatchGetItemInput{}
	}
	one := WaitRead(items[0])
	keys := make([]map[string]types.AttributeValue, len(items))
	for i, it := range items {
		keys[i] = it.KeyMap()
	}
	proj := *one.ProjectionExpression + ", #pk"
	one.ExpressionAttributeNames["#pk"] = items[0].PartitionKey
	if items[0].SortKey != "" {
		proj += ", #sk"
		one.ExpressionAttributeNames["#sk"] = items[0].SortKey
	}
	return &dynamodb.BatchGetItemInput{RequestItems: map[string]types.KeysAndAttributes{
		*one.TableName: {Keys: keys, ConsistentRead: aws.Bool(true), ProjectionExpression: aws.String(proj),
			ExpressionAttributeNames: one.ExpressionAttributeNames},
	}}
}
