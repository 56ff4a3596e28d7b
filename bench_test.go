package dynamutex_test

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/google/uuid"
)

// BenchmarkLockUnlock is one uncontended Lock+Unlock cycle through the
// library: two conditional writes. Compare with BenchmarkRawTwoWrites.
func BenchmarkLockUnlock(b *testing.B) {
	c, _, sess := setup(b)
	m := sess.NewMutex("bench")
	ctx := context.Background()
	before := c.total()
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if _, err := m.Lock(ctx); err != nil {
			b.Fatal(err)
		}
		if err := m.Unlock(ctx); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(c.total()-before)/float64(b.N), "requests/op")
}

// BenchmarkRawTwoWrites makes the same two conditional writes with the raw
// SDK, with nothing around them: the floor for BenchmarkLockUnlock.
func BenchmarkRawTwoWrites(b *testing.B) {
	c, tr := newClient(b)
	table := newTable(b, c)
	ctx := context.Background()
	key := map[string]types.AttributeValue{"key": avS("bench")}
	names := map[string]string{"#pk": "key", "#o": "owner", "#v": "version", "#t": "token", "#l": "lease_ms", "#r": "released", "#e": "expires_at", "#d": "data"}
	before := tr.total()
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		v, next := uuid.NewString(), uuid.NewString()
		now := time.Now()
		exp := avN(itoa(now.Add(time.Hour).Unix()))
		_, err := c.UpdateItem(ctx, &dynamodb.UpdateItemInput{
			TableName: aws.String(table), Key: key,
			UpdateExpression:         aws.String("SET #o = :o, #v = :v, #l = :l, #r = :f, #e = :e, #t = if_not_exists(#t, :seed) + :one REMOVE #d"),
			ConditionExpression:      aws.String("attribute_not_exists(#pk) OR #r = :true"),
			ExpressionAttributeNames: names,
			ExpressionAttributeValues: map[string]types.AttributeValue{
				":o": avS("raw"), ":v": avS(v), ":l": avN("600"), ":f": avB(false), ":true": avB(true),
				":e": exp, ":seed": avN(itoa(now.UnixMicro())), ":one": avN("1"),
			},
			ReturnValues:                        types.ReturnValueUpdatedNew,
			ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
		})
		if err != nil {
			b.Fatal(err)
		}
		_, err = c.UpdateItem(ctx, &dynamodb.UpdateItemInput{
			TableName: aws.String(table), Key: key,
			UpdateExpression:         aws.String("SET #v = :nv, #e = :e, #r = :true"),
			ConditionExpression:      aws.String("#v = :cur"),
			ExpressionAttributeNames: map[string]string{"#v": "version", "#e": "expires_at", "#r": "released"},
			ExpressionAttributeValues: map[string]types.AttributeValue{
				":nv": avS(next), ":cur": avS(v), ":e": exp, ":true": avB(true),
			},
			ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(tr.total()-before)/float64(b.N), "requests/op")
}

func itoa(v int64) string { return strconv.FormatInt(v, 10) }
