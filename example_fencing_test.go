package dynamutex_test

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/dynamutex/dynamutex"
)

// Fence writes to another store with the token: the store keeps the highest
// token it has accepted and refuses lower ones. Here the store is a DynamoDB
// table of the caller's; docs/FENCING.md shows the same with SQL.
func ExampleLease_Token_fencedStore() {
	ctx := context.Background()
	client := exampleClient()
	locks := exampleTable(ctx, client)
	docs := exampleTable(ctx, client) // any table with a string key "key"
	sess, err := dynamutex.NewSession(ctx, client, locks)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer sess.Close(ctx)

	// write lands only if no higher token has written the document.
	write := func(ctx context.Context, token uint64, body string) error {
		_, err := client.UpdateItem(ctx, &dynamodb.UpdateItemInput{
			TableName:           aws.String(docs),
			Key:                 map[string]types.AttributeValue{"key": &types.AttributeValueMemberS{Value: "doc-1"}},
			UpdateExpression:    aws.String("SET body = :b, fence = :t"),
			ConditionExpression: aws.String("attribute_not_exists(fence) OR fence <= :t"),
			ExpressionAttributeValues: map[string]types.AttributeValue{
				":b": &types.AttributeValueMemberS{Value: body},
				":t": &types.AttributeValueMemberN{Value: strconv.FormatUint(token, 10)},
			},
		})
		var stale *types.ConditionalCheckFailedException
		if errors.As(err, &stale) {
			return fmt.Errorf("refused: a newer holder has written")
		}
		return err
	}

	m := sess.NewMutex("doc-1")
	lctx, err := m.Lock(ctx)
	if err != nil {
		fmt.Println(err)
		return
	}
	old, _ := dynamutex.LeaseFrom(lctx)
	if err := m.Unlock(ctx); err != nil {
		fmt.Println(err)
	}

	lctx, err = m.Lock(ctx) // the next holder
	if err != nil {
		fmt.Println(err)
		return
	}
	cur, _ := dynamutex.LeaseFrom(lctx)
	fmt.Println("new holder:", write(lctx, cur.Token(), "v2"))
	// The previous holder's write arrives late, say after a long GC pause.
	fmt.Println("old holder:", write(ctx, old.Token(), "v1"))
	if err := m.Unlock(ctx); err != nil {
		fmt.Println(err)
	}
	// Output:
	// new holder: <nil>
	// old holder: refused: a newer holder has written
}

// Write a DynamoDB item only while the lock is held. Unlike a token fence,
// the guard refuses a stale holder even before the new holder has written.
func ExampleLease_GuardedWrite() {
	ctx := context.Background()
	client := exampleClient()
	locks := exampleTable(ctx, client)
	docs := exampleTable(ctx, client)
	sess, err := dynamutex.NewSession(ctx, client, locks)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer sess.Close(ctx)

	m := sess.NewMutex("doc-1")
	lctx, err := m.Lock(ctx)
	if err != nil {
		fmt.Println(err)
		return
	}
	lease, _ := dynamutex.LeaseFrom(lctx)
	put := types.TransactWriteItem{Put: &types.Put{
		TableName: aws.String(docs),
		Item: map[string]types.AttributeValue{
			"key":  &types.AttributeValueMemberS{Value: "doc-1"},
			"body": &types.AttributeValueMemberS{Value: "v1"},
		},
	}}
	fmt.Println("while held:", lease.GuardedWrite(lctx, put))

	if err := m.Unlock(ctx); err != nil {
		fmt.Println(err)
	}
	err = lease.GuardedWrite(ctx, put)
	fmt.Println("after unlock, lock lost:", errors.Is(err, dynamutex.ErrLockLost))
	// Output:
	// while held: <nil>
	// after unlock, lock lost: true
}

// Put the guard into a transaction of your own, here to move an amount
// between two accounts only while the lock on the ledger is held.
func ExampleLease_Guard() {
	ctx := context.Background()
	client := exampleClient()
	locks := exampleTable(ctx, client)
	accounts := exampleTable(ctx, client)
	sess, err := dynamutex.NewSession(ctx, client, locks)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer sess.Close(ctx)

	m := sess.NewMutex("ledger")
	lctx, err := m.Lock(ctx)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer func() {
		if err := m.Unlock(ctx); err != nil {
			fmt.Println(err)
		}
	}()
	lease, _ := dynamutex.LeaseFrom(lctx)

	add := func(id, amount string) types.TransactWriteItem {
		return types.TransactWriteItem{Update: &types.Update{
			TableName:                 aws.String(accounts),
			Key:                       map[string]types.AttributeValue{"key": &types.AttributeValueMemberS{Value: id}},
			UpdateExpression:          aws.String("ADD balance :a"),
			ExpressionAttributeValues: map[string]types.AttributeValue{":a": &types.AttributeValueMemberN{Value: amount}},
		}}
	}
	_, err = client.TransactWriteItems(lctx, &dynamodb.TransactWriteItemsInput{
		TransactItems: []types.TransactWriteItem{lease.Guard(), add("alice", "-30"), add("bob", "30")},
	})
	var cancelled *types.TransactionCanceledException
	if errors.As(err, &cancelled) && aws.ToString(cancelled.CancellationReasons[0].Code) == "ConditionalCheckFailed" {
		fmt.Println("lock lost: nothing was written")
		return
	}
	fmt.Println("transfer:", err)
	// Output:
	// transfer: <nil>
}
