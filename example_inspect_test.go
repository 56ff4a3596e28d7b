package dynamutex_test

import (
	"context"
	"fmt"

	"github.com/dynamutex/dynamutex"
)

// See who holds a lock without taking it.
func ExampleSession_Inspect() {
	ctx := context.Background()
	client := exampleClient()
	table := exampleTable(ctx, client)
	worker, err := dynamutex.NewSession(ctx, client, table, dynamutex.WithOwner("worker-7"))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer worker.Close(ctx)
	admin, err := dynamutex.NewSession(ctx, client, table, dynamutex.WithOwner("admin"))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer admin.Close(ctx)

	m := worker.NewMutex("reindex", dynamutex.WithData([]byte("shard 3 of 8")))
	if _, err := m.Lock(ctx); err != nil {
		fmt.Println(err)
		return
	}
	info, err := admin.Inspect(ctx, "reindex")
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("%s held by %s (%s), released: %v, free: %v\n",
		info.Key, info.Owner, info.Data, info.Released, info.Free())
	if err := m.Unlock(ctx); err != nil {
		fmt.Println(err)
	}
	// Output:
	// reindex held by worker-7 (shard 3 of 8), released: false, free: false
}

// List every lock record of the table.
func ExampleSession_List() {
	ctx := context.Background()
	client := exampleClient()
	table := exampleTable(ctx, client)
	sess, err := dynamutex.NewSession(ctx, client, table, dynamutex.WithOwner("lister"))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer sess.Close(ctx)

	a, b := sess.NewMutex("alpha"), sess.NewMutex("beta")
	if _, err := a.Lock(ctx); err != nil {
		fmt.Println(err)
		return
	}
	defer func() {
		if err := a.Unlock(ctx); err != nil {
			fmt.Println(err)
		}
	}()
	if _, err := b.Lock(ctx); err != nil {
		fmt.Println(err)
		return
	}
	if err := b.Unlock(ctx); err != nil {
		fmt.Println(err)
	}

	held := map[string]bool{}
	for info, err := range sess.List(ctx) {
		if err != nil {
			fmt.Println(err)
			return
		}
		if info.Err != nil {
			fmt.Println("foreign record:", info.Err)
			continue
		}
		held[info.Key] = !info.Released
	}
	fmt.Println("alpha held:", held["alpha"], "beta held:", held["beta"])
	// Output:
	// alpha held: true beta held: false
}
