package dynamutex_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/dynamutex/dynamutex"
)

// Wait at most a bounded time for a lock, then hold it for as long as the
// work takes: the bound ends the wait, never the lock.
func ExampleMutex_LockWithin() {
	ctx := context.Background()
	client := exampleClient()
	table := exampleTable(ctx, client)
	sess, err := dynamutex.NewSession(ctx, client, table, dynamutex.WithOwner("worker-1"))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer sess.Close(ctx)

	m := sess.NewMutex("nightly-report")
	lctx, err := m.LockWithin(ctx, 50*time.Millisecond)
	if err != nil {
		fmt.Println(err)
		return
	}
	time.Sleep(100 * time.Millisecond) // work past the bound
	fmt.Println("still held after the bound:", lctx.Err() == nil)

	// A second caller gives up at its bound and learns who holds the lock.
	_, err = sess.NewMutex("nightly-report").LockWithin(ctx, 50*time.Millisecond)
	var held *dynamutex.HeldError
	if errors.As(err, &held) {
		fmt.Println("busy: held by", held.Owner)
	}

	if err := m.Unlock(ctx); err != nil {
		fmt.Println("the work may have overlapped another holder's:", err)
	}
	// Output:
	// still held after the bound: true
	// busy: held by worker-1
}
