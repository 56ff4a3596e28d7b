package dynamutextest_test

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/dynamutex/dynamutex"
	"github.com/dynamutex/dynamutex/dynamutextest"
)

// A unit test of code that takes a dynamutex lock, with no DynamoDB at all:
// the Store stands in for the *dynamodb.Client.
func Example() {
	ctx := context.Background()
	db := dynamutextest.New()
	if err := dynamutex.CreateTable(ctx, db, "locks"); err != nil {
		panic(err)
	}
	s, err := dynamutex.NewSession(ctx, db, "locks", dynamutex.WithOwner("worker-1"))
	if err != nil {
		panic(err)
	}
	defer s.Close(ctx)

	m := s.NewMutex("invoice/42")
	lctx, err := m.Lock(ctx)
	if err != nil {
		panic(err)
	}
	lease, _ := dynamutex.LeaseFrom(lctx)
	fmt.Println("locked", lease.Key(), "by", lease.Owner(), "with a token:", lease.Token() > 0)

	_, err = s.NewMutex("invoice/42").TryLock(ctx)
	fmt.Println("second TryLock:", err != nil)

	if err := m.Unlock(ctx); err != nil {
		panic(err)
	}
	fmt.Println("unlocked:", context.Cause(lctx))
	// Output:
	// locked invoice/42 by worker-1 with a token: true
	// second TryLock: true
	// unlocked: dynamutex: unlocked
}

// ExpireTTL runs DynamoDB's TTL when the test says so, by the Store's
// clock: here a fixed one.
func ExampleStore_ExpireTTL() {
	ctx := context.Background()
	now := time.Unix(1_700_000_000, 0)
	db := dynamutextest.New(dynamutextest.WithClock(func() time.Time { return now }))
	if err := dynamutex.CreateTable(ctx, db, "locks"); err != nil { // enables TTL on expires_at
		panic(err)
	}
	for key, expires := range map[string]int64{"idle": now.Unix() - 1, "fresh": now.Unix() + 60} {
		_, err := db.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("locks"), Item: map[string]types.AttributeValue{
			"key":                      &types.AttributeValueMemberS{Value: key},
			dynamutex.ExpiresAttribute: &types.AttributeValueMemberN{Value: strconv.FormatInt(expires, 10)},
		}})
		if err != nil {
			panic(err)
		}
	}
	fmt.Println("deleted:", db.ExpireTTL())
	out, err := db.Scan(ctx, &dynamodb.ScanInput{TableName: aws.String("locks")})
	if err != nil {
		panic(err)
	}
	fmt.Println("left:", out.Items[0]["key"].(*types.AttributeValueMemberS).Value)
	// Output:
	// deleted: 1
	// left: fresh
}
