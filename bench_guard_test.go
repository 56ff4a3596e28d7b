package dynamutex_test

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/dynamutex/dynamutex"
)

// The guarded-write benchmarks write one item three ways, so that the cost
// of the guard shows against the same write without it: GuardedWrite (a
// transaction of the guard and the Put), the bare transaction of the Put
// alone, and a plain PutItem.

func BenchmarkGuardedWrite(b *testing.B) {
	c, _ := newClient(b)
	table := newTable(b, c)
	data := newTable(b, c)
	m := newSession(b, c, table).NewMutex("bench")
	ctx := context.Background()
	lctx, err := m.Lock(ctx)
	if err != nil {
		b.Fatal(err)
	}
	defer m.Unlock(ctx)
	l, _ := dynamutex.LeaseFrom(lctx)
	b.ReportAllocs()
	for b.Loop() {
		if err := l.GuardedWrite(ctx, putDoc(data, "doc", l.Token())); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkTransactPut(b *testing.B) {
	c, _ := newClient(b)
	data := newTable(b, c)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		in := &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{putDoc(data, "doc", 1)}}
		if _, err := c.TransactWriteItems(ctx, in); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkPutItem(b *testing.B) {
	c, _ := newClient(b)
	data := newTable(b, c)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		put := putDoc(data, "doc", 1).Put
		if _, err := c.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(data), Item: put.Item}); err != nil {
			b.Fatal(err)
		}
	}
}
