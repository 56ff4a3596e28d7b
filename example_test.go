package dynamutex_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"golang.org/x/sync/errgroup"

	"github.com/dynamutex/dynamutex"
	"github.com/dynamutex/dynamutex/internal/localdb"
)

// exampleClient connects to AWS_ENDPOINT_URL_DYNAMODB (DynamoDB Local under
// `make test`), or without one to the in-memory store of dynamutextest. In
// production use config.LoadDefaultConfig and dynamodb.NewFromConfig
// instead.
func exampleClient() testDB {
	ep := os.Getenv(localdb.EndpointVar)
	if ep == "" {
		if localdb.Required {
			fmt.Println(localdb.EndpointVar + " is not set: run `make test`")
		}
		return memory
	}
	return localdb.Client(ep, localdb.Transport())
}

// exampleTable creates a fresh table, so each example starts from nothing.
func exampleTable(ctx context.Context, client testDB) string {
	table := fmt.Sprintf("example_%d_%d", time.Now().UnixNano(), tableSeq.Add(1))
	if err := dynamutex.CreateTable(ctx, client, table); err != nil {
		fmt.Println("CreateTable:", err)
	}
	return table
}

// Lock, work under the lock's context, Unlock.
func Example() {
	ctx := context.Background()
	client := exampleClient()
	table := exampleTable(ctx, client)

	sess, err := dynamutex.NewSession(ctx, client, table)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer sess.Close(ctx)

	m := sess.NewMutex("invoice/42")
	lctx, err := m.Lock(ctx)
	if err != nil {
		fmt.Println(err)
		return
	}
	lease, _ := dynamutex.LeaseFrom(lctx)
	fmt.Println("holding", lease.Key())

	if err := m.Unlock(ctx); err != nil {
		fmt.Println(err)
	}
	fmt.Println("lock context ended:", context.Cause(lctx))
	// Output:
	// holding invoice/42
	// lock context ended: dynamutex: unlocked
}

// Pass the lock's context to downstream calls: they stop when the lock ends.
func ExampleMutex_Lock_downstream() {
	ctx := context.Background()
	client := exampleClient()
	table := exampleTable(ctx, client)
	sess, err := dynamutex.NewSession(ctx, client, table)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer sess.Close(ctx)

	// handle is a request handler that does its work under a lock.
	handle := func(ctx context.Context, id string) (err error) {
		m := sess.NewMutex("order/" + id)
		lctx, err := m.Lock(ctx)
		if err != nil {
			return err
		}
		// Unlock with the request's ctx: it releases even after the request
		// has been cancelled. Its error wraps ErrLockLost if the lock was
		// lost under the work, which may then have overlapped another
		// holder's, so it joins the handler's result.
		defer func() { err = errors.Join(err, m.Unlock(ctx)) }()
		return charge(lctx, id)
	}
	fmt.Println(handle(ctx, "17"))
	// Output:
	// charged 17
	// <nil>
}

// charge stands for any downstream call that honours its context.
func charge(ctx context.Context, id string) error {
	select {
	case <-ctx.Done():
		return context.Cause(ctx)
	case <-time.After(10 * time.Millisecond):
		fmt.Println("charged", id)
		return nil
	}
}

// errgroup workers share the lock's context and stop together when the lock
// is lost. Here another writer replaces the record, as a process that took
// the lock over would.
func ExampleMutex_Lock_errgroup() {
	ctx := context.Background()
	client := exampleClient()
	table := exampleTable(ctx, client)
	sess, err := dynamutex.NewSession(ctx, client, table,
		dynamutex.WithLeaseDuration(2*time.Second),
		dynamutex.WithSafeTime(1500*time.Millisecond),
		dynamutex.WithHeartbeatPeriod(100*time.Millisecond))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer sess.Close(ctx)

	m := sess.NewMutex("nightly-report")
	lctx, err := m.Lock(ctx)
	if err != nil {
		fmt.Println(err)
		return
	}
	g, gctx := errgroup.WithContext(lctx)
	for range 3 {
		g.Go(func() error {
			<-gctx.Done() // real workers do their part of the job here
			return context.Cause(gctx)
		})
	}

	stealRecord(ctx, client, table, "nightly-report")

	err = g.Wait()
	fmt.Println("workers stopped, lock lost:", errors.Is(err, dynamutex.ErrLockLost))
	fmt.Println("unlock:", errors.Is(m.Unlock(ctx), dynamutex.ErrLockLost))
	// Output:
	// workers stopped, lock lost: true
	// unlock: true
}

func stealRecord(ctx context.Context, client testDB, table, key string) {
	_, err := client.PutItem(ctx, &dynamodb.PutItemInput{
		TableName: aws.String(table),
		Item:      heldRecord(key, "other", 1, 2*time.Second),
	})
	if err != nil {
		fmt.Println(err)
	}
}

// TryLock does not wait: it says who holds the lock.
func ExampleMutex_TryLock() {
	ctx := context.Background()
	client := exampleClient()
	table := exampleTable(ctx, client)
	a, err := dynamutex.NewSession(ctx, client, table, dynamutex.WithOwner("host-a"))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer a.Close(ctx)
	b, err := dynamutex.NewSession(ctx, client, table, dynamutex.WithOwner("host-b"))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer b.Close(ctx)

	ma := a.NewMutex("cron/cleanup")
	if _, err := ma.TryLock(ctx); err != nil {
		fmt.Println(err)
		return
	}

	_, err = b.NewMutex("cron/cleanup").TryLock(ctx)
	var held *dynamutex.HeldError
	if errors.As(err, &held) {
		fmt.Println("skipped: held by", held.Owner)
	}
	fmt.Println("unlock:", ma.Unlock(ctx))
	// Output:
	// skipped: held by host-a
	// unlock: <nil>
}

// Fencing tokens grow with every acquisition; give them to the store you
// write to so it can refuse a stale holder.
func ExampleLease_Token() {
	ctx := context.Background()
	client := exampleClient()
	table := exampleTable(ctx, client)
	sess, err := dynamutex.NewSession(ctx, client, table)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer sess.Close(ctx)

	m := sess.NewMutex("ledger")
	var tokens []uint64
	for range 3 {
		lctx, err := m.Lock(ctx)
		if err != nil {
			fmt.Println(err)
			return
		}
		lease, _ := dynamutex.LeaseFrom(lctx)
		tokens = append(tokens, lease.Token())
		if err := m.Unlock(ctx); err != nil {
			fmt.Println(err)
			return
		}
	}
	fmt.Println(tokens[1]-tokens[0], tokens[2]-tokens[1])
	// Output:
	// 1 1
}

// The heartbeat period and the safe time follow the lease unless set: a
// quarter and three quarters of it, as in the defaults.
func ExampleDeriveTimings() {
	for _, lease := range []time.Duration{10 * time.Second, 5 * time.Minute} {
		t := dynamutex.DeriveTimings(dynamutex.Timings{Lease: lease})
		fmt.Printf("lease %v: renew every %v, danger after %v\n", t.Lease, t.Heartbeat, t.Safe)
	}
	// Output:
	// lease 10s: renew every 2.5s, danger after 7.5s
	// lease 5m0s: renew every 1m15s, danger after 3m45s
}
