package main

import (
	"cmp"
	"context"
	"fmt"
	"time"

	"github.com/dynamutex/dynamutex"
)

// createTableTimeout bounds create-table, which waits for a new table to
// become active: seconds on DynamoDB, at once on DynamoDB Local.
const createTableTimeout = 5 * time.Minute

// createTableCommand implements `dynamutex create-table`: an on-demand table
// with the partition key "key" (or --partition-key, and --sort-key if given)
// and TTL on expires_at (dynamutex.CreateTable).
// It is idempotent, so provisioning scripts can run it every time.
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
	keys := c.keyOptions()
	if err := dynamutex.CreateTable(ctx, client, c.table, keys[0], keys[1]); err != nil {
		return a.fail(err)
	}
	pk, sk := cmp.Or(c.partitionKey, dynamutex.DefaultPartitionKey), ""
	if c.sortKey != "" {
		sk = fmt.Sprintf(", sort key %q", c.sortKey)
	}
	fmt.Fprintf(a.stdout, "table %q is ready (on-demand, partition key %q%s, TTL on %q)\n",
		c.table, pk, sk, dynamutex.ExpiresAttribute)
	return exitOK
}
