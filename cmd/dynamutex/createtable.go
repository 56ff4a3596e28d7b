package main

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/dynamutex/dynamutex"
)

// createTableTimeout bounds create-table, which waits for a new table to
// become active: seconds on DynamoDB, at once on DynamoDB Local.
const createTableTimeout = 5 * time.Minute

// createTableCommand implements `dynamutex create-table`: an on-demand table
// with the partition key "key" (or --partition-key, and --sort-key if given)
// and TTL on expires_at, or the table of --format's client
// (dynamutex.CreateTable). It is idempotent, so
// provisioning scripts can run it every time, and it says what the table it
// made or found really is.
func (a *app) createTableCommand(c *common, args []string) int {
	fs := c.flagSet("create-table")
	operands, err := c.parseInterleaved("create-table", fs, args)
	if err != nil {
		return a.helpOrUsage(err, createTableHelp)
	}
	if len(operands) > 0 {
		return a.fail(usageError("create-table", "create-table takes no arguments, got %q; name the table with --table", operands))
	}
	ctx, cancel := context.WithTimeout(context.Background(), createTableTimeout)
	defer cancel()
	client, err := newClient(ctx, c)
	if err != nil {
		return a.fail(err)
	}
	var opts []dynamutex.TableOption
	for _, o := range c.tableOptions() {
		opts = append(opts, o)
	}
	if err := dynamutex.CreateTable(ctx, client, c.table, opts...); err != nil {
		return a.fail(err)
	}
	// Say what the table really is, not what a new one would be: an
	// existing table keeps its capacity mode, and another client's TTL.
	what, err := describeLockTable(ctx, client, c.table, c.format)
	if err != nil {
		return a.fail(err)
	}
	fmt.Fprintf(a.stdout, "table %q is ready (%s)\n", c.table, what)
	return exitOK
}

// tableDescriber is the part of the DynamoDB API that describeLockTable reads.
type tableDescriber interface {
	DescribeTable(context.Context, *dynamodb.DescribeTableInput, ...func(*dynamodb.Options)) (*dynamodb.DescribeTableOutput, error)
	DescribeTimeToLive(context.Context, *dynamodb.DescribeTimeToLiveInput, ...func(*dynamodb.Options)) (*dynamodb.DescribeTimeToLiveOutput, error)
}

// describeLockTable says what table is: its capacity mode, its keys and
// where its TTL is, such as `on-demand, partition key "key", TTL on
// "expires_at"`.
func describeLockTable(ctx context.Context, client tableDescriber, table string, f dynamutex.Format) (string, error) {
	d, err := client.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(table)})
	if err != nil {
		return "", fmt.Errorf("dynamutex: describe table %q: %w", table, err)
	}
	ttl, err := client.DescribeTimeToLive(ctx, &dynamodb.DescribeTimeToLiveInput{TableName: aws.String(table)})
	if err != nil {
		return "", fmt.Errorf("dynamutex: describe TTL of table %q: %w", table, err)
	}
	parts := []string{capacityMode(d.Table)}
	for _, k := range d.Table.KeySchema {
		kind := "partition key"
		if k.KeyType == types.KeyTypeRange {
			kind = "sort key"
		}
		parts = append(parts, fmt.Sprintf("%s %q", kind, aws.ToString(k.AttributeName)))
	}
	return strings.Join(append(parts, ttlState(ttl.TimeToLiveDescription, f)), ", "), nil
}

// capacityMode is "on-demand", or "provisioned: 5 read and 5 write units".
func capacityMode(t *types.TableDescription) string {
	if t.BillingModeSummary != nil && t.BillingModeSummary.BillingMode == types.BillingModePayPerRequest {
		return "on-demand"
	}
	pt := t.ProvisionedThroughput
	if pt == nil {
		return "provisioned"
	}
	return fmt.Sprintf("provisioned: %d read and %d write units", aws.ToInt64(pt.ReadCapacityUnits), aws.ToInt64(pt.WriteCapacityUnits))
}

// ttlState says where TTL is, and what it means for the records of format
// f when it is on another attribute than theirs.
func ttlState(t *types.TimeToLiveDescription, f dynamutex.Format) string {
	off := "TTL off: idle records are never deleted"
	if f == dynamutex.FormatJava {
		off = "TTL off, as the Java client's tables have it: idle records are never deleted"
	}
	if t == nil {
		return off
	}
	attr := aws.ToString(t.AttributeName)
	switch {
	case attr == "" || t.TimeToLiveStatus == types.TimeToLiveStatusDisabled:
		return off
	case attr != f.TTLAttribute():
		return fmt.Sprintf("TTL on %q, another client's attribute, left as it was: dynamutex's idle records are never deleted", attr)
	case t.TimeToLiveStatus == types.TimeToLiveStatusEnabling:
		return fmt.Sprintf("TTL being enabled on %q", attr)
	}
	return fmt.Sprintf("TTL on %q", attr)
}
