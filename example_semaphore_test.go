package dynamutex_test

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/dynamutex/dynamutex"
)

// Bound how many jobs run at once across every process: here 8 jobs, at
// most 3 at a time.
func ExampleSemaphore() {
	ctx := context.Background()
	client := exampleClient()
	table := exampleTable(ctx, client)
	sess, err := dynamutex.NewSession(ctx, client, table, dynamutex.WithOwner("runner"))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer sess.Close(ctx)

	deploys := sess.NewSemaphore("deploys", 3)
	var running, most atomic.Int32
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			jobCtx, permit, err := deploys.Acquire(ctx)
			if err != nil {
				fmt.Println(err)
				return
			}
			defer permit.Release(ctx)
			n := running.Add(1)
			for m := most.Load(); n > m && !most.CompareAndSwap(m, n); m = most.Load() {
			}
			select { // the job: it stops if the permit is lost
			case <-time.After(20 * time.Millisecond):
			case <-jobCtx.Done():
			}
			running.Add(-1)
		}()
	}
	wg.Wait()
	fmt.Println("most jobs at once:", most.Load() <= 3)
	// Output:
	// most jobs at once: true
}
