package dynamutex_test

import (
	"context"
	"fmt"
	"strings"

	"github.com/dynamutex/dynamutex"
)

// Hold many locks for one write per heartbeat period: with a session lease
// the Session renews its own record, and every lock it holds lives as long
// as that record does. Inspect names the Session that keeps a lock.
func ExampleWithSessionLease() {
	ctx := context.Background()
	client := exampleClient()
	table := exampleTable(ctx, client)
	sess, err := dynamutex.NewSession(ctx, client, table, dynamutex.WithSessionLease(), dynamutex.WithOwner("indexer"))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer sess.Close(ctx)

	for i := range 3 {
		shard := fmt.Sprintf("shard-%d", i)
		if _, err := sess.NewMutex(shard).Lock(ctx); err != nil {
			fmt.Println(err)
			return
		}
	}
	info, err := sess.Inspect(ctx, "shard-1")
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(info.Key, "held by", info.Owner, "under a session lease:", strings.HasPrefix(info.Session, "dynamutex-session:"))
	fmt.Println("session alive:", !info.SessionEnded)
	// Output:
	// shard-1 held by indexer under a session lease: true
	// session alive: true
}
