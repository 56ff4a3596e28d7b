package wire

import (
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// SemaphoreKeyPrefix begins the partition-key value of every permit record
// of a semaphore: permit i of semaphore name is the ordinary lock record
// SemaphoreKeyPrefix + name + ":" + i. User keys may not begin with it, so
// that a Mutex never takes a permit behind the semaphore's back.
const SemaphoreKeyPrefix = "dynamutex-semaphore:"

// PermitKey is the partition-key value of permit i of semaphore name.
func PermitKey(name string, i int) string {
	return SemaphoreKeyPrefix + name + ":" + strconv.Itoa(i)
}

// ParsePermitKey splits a permit key into its semaphore's name and its
// index, and reports whether key is one: the prefix, a name, a colon and
// an index of 0 or more. The index follows the last colon, so a name may
// hold colons.
func ParsePermitKey(key string) (name string, i int, ok bool) {
	rest, ok := strings.CutPrefix(key, SemaphoreKeyPrefix)
	cut := strings.LastIndexByte(rest, ':')
	if !ok || cut < 0 {
		return "", 0, false
	}
	i, err := strconv.Atoi(rest[cut+1:])
	if err != nil || i < 0 {
		return "", 0, false
	}
	return rest[:cut], i, true
}

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
