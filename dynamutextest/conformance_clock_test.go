package dynamutextest_test

import (
	"errors"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/dynamutex/dynamutex"
)

const clockBound = 10 * time.Millisecond

// crashed leaves key held by a Session with a clock bound that closed
// without Unlock, and waits until that holder's deadline has passed.
func crashed(t *testing.T, c api, table, key string) {
	t.Helper()
	s := librarySession(t, c, table, dynamutex.WithOwner("crashed"), dynamutex.WithClockBound(clockBound))
	_, err := s.NewMutex(key).Lock(ctx)
	mustOK(t, err)
	mustOK(t, s.Close(ctx))
	time.Sleep(testLease + 2*clockBound + 20*time.Millisecond)
}

// A Session that has never seen the record takes it over by clock in its
// first write: the condition compares the deadline and checks that the
// stamp belongs to the current version, one attribute against another.
func caseLibraryClockTakeover(t *testing.T, c api) {
	table := tableName(t, c)
	crashed(t, c, table, "job")
	s := librarySession(t, c, table, dynamutex.WithOwner("cold-start"), dynamutex.WithClockBound(clockBound))
	m := s.NewMutex("job")
	_, err := m.TryLock(ctx)
	mustOK(t, err)
	mustOK(t, m.Unlock(ctx))
}

// A write that changes the version but not the stamp, as releases before
// the stamp existed renew, leaves a deadline that no longer counts.
func caseLibraryStaleStamp(t *testing.T, c api) {
	table := tableName(t, c)
	crashed(t, c, table, "job")
	key := item{"key": S("job")}
	cur := get(t, c, table, key)["version"]
	_, err := c.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                 aws.String(table),
		Key:                       key,
		UpdateExpression:          aws.String("SET #v = :nv"),
		ConditionExpression:       aws.String("#v = :cur"),
		ExpressionAttributeNames:  map[string]string{"#v": "version"},
		ExpressionAttributeValues: item{":nv": S("renewed-the-old-way"), ":cur": cur},
		ReturnValues:              types.ReturnValueNone,
	})
	mustOK(t, err)
	s := librarySession(t, c, table, dynamutex.WithOwner("cold-start"), dynamutex.WithClockBound(clockBound))
	if _, err := s.NewMutex("job").TryLock(ctx); !errors.Is(err, dynamutex.ErrLocked) {
		t.Fatalf("TryLock of a record whose deadline belongs to an earlier version = %v, want ErrLocked", err)
	}
}
