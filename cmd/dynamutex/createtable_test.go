package main

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/dynamutex/dynamutex"
	"github.com/dynamutex/dynamutex/dynamutextest"
)

// create-table says what the table it made or found really is: a table
// made elsewhere keeps its capacity mode and its TTL attribute, and the
// report must not claim otherwise.
func TestDescribeLockTable(t *testing.T) {
	ctx := context.Background()
	db := dynamutextest.New()
	if err := dynamutex.CreateTable(ctx, db, "ours"); err != nil {
		t.Fatal(err)
	}
	_, err := db.CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName:             aws.String("theirs"),
		ProvisionedThroughput: &types.ProvisionedThroughput{ReadCapacityUnits: aws.Int64(5), WriteCapacityUnits: aws.Int64(2)},
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
	want := map[string]string{
		"ours":   `on-demand, partition key "key", TTL on "expires_at"`,
		"theirs": `provisioned: 5 read and 2 write units, partition key "lock_key", sort key "sort_key", TTL off: idle records are never deleted`,
	}
	check := func() {
		for table, w := range want {
			if got, err := describeLockTable(ctx, db, table, dynamutex.FormatNative); err != nil || got != w {
				t.Errorf("%s: %q, %v; want %q", table, got, err, w)
			}
		}
	}
	check()
	if _, err := db.UpdateTimeToLive(ctx, &dynamodb.UpdateTimeToLiveInput{TableName: aws.String("theirs"),
		TimeToLiveSpecification: &types.TimeToLiveSpecification{AttributeName: aws.String("expiry_time"), Enabled: aws.Bool(true)}}); err != nil {
		t.Fatal(err)
	}
	if err := dynamutex.CreateTable(ctx, db, "theirs", dynamutex.WithPartitionKey("lock_key"), dynamutex.WithSortKey("sort_key")); err != nil {
		t.Fatal(err)
	}
	want["theirs"] = `provisioned: 5 read and 2 write units, partition key "lock_key", sort key "sort_key", ` +
		`TTL on "expiry_time", another client's attribute, left as it was: dynamutex's idle records are never deleted`
	check()
	// In the format of the client whose table it is, its TTL is the
	// records' own, and a Java table has none.
	if got, _ := describeLockTable(ctx, db, "theirs", dynamutex.FormatPython); got !=
		`provisioned: 5 read and 2 write units, partition key "lock_key", sort key "sort_key", TTL on "expiry_time"` {
		t.Errorf("the Python table in the Python format: %q", got)
	}
	if err := dynamutex.CreateTable(ctx, db, "java", dynamutex.WithFormat(dynamutex.FormatJava)); err != nil {
		t.Fatal(err)
	}
	if got, _ := describeLockTable(ctx, db, "java", dynamutex.FormatJava); got !=
		`on-demand, partition key "key", TTL off, as the Java client's tables have it: idle records are never deleted` {
		t.Errorf("a Java table in the Java format: %q", got)
	}
}
