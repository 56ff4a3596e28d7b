package dynamutex_test

import (
	"context"
	"fmt"
	"time"

	"github.com/dynamutex/dynamutex"
)

// Share a table with python-dynamodb-lock: the Session writes the records
// that client reads, on the table it expects (partition key lock_key, sort
// key sort_key, whose value defaults to "-").
func ExampleWithFormat() {
	ctx := context.Background()
	client := exampleClient()
	table := fmt.Sprintf("example_python_%d_%d", time.Now().UnixNano(), tableSeq.Add(1))
	if err := dynamutex.CreateTable(ctx, client, table, dynamutex.WithFormat(dynamutex.FormatPython)); err != nil {
		fmt.Println(err)
		return
	}
	sess, err := dynamutex.NewSession(ctx, client, table,
		dynamutex.WithFormat(dynamutex.FormatPython), dynamutex.WithOwner("go-worker"))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer sess.Close(ctx)

	m := sess.NewMutex("nightly-report")
	if _, err := m.Lock(ctx); err != nil {
		fmt.Println(err)
		return
	}
	info, err := sess.Inspect(ctx, "nightly-report")
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("%s (sort key %q) held by %s\n", info.Key, info.SortKey, info.Owner)
	if err := m.Unlock(ctx); err != nil {
		fmt.Println(err)
	}
	// Output:
	// nightly-report (sort key "-") held by go-worker
}
