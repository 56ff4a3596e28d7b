package dynamutex_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/dynamutex/dynamutex"
)

// runScheduler stands for the work only the leader may do: it runs jobs
// until the leadership context ends, and reports why it stopped.
func runScheduler(lead context.Context, jobs chan<- string) error {
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for n := 1; ; n++ {
		select {
		case <-lead.Done():
			return context.Cause(lead)
		case <-tick.C:
			jobs <- fmt.Sprintf("job %d", n)
		}
	}
}

// A leader runs a scheduler under its Campaign context and steps down when
// that context ends: here because it resigns; in production also when
// leadership is lost or in danger, when the loop must stop at once.
func ExampleElection() {
	ctx := context.Background()
	client := exampleClient()
	table := exampleTable(ctx, client)
	sess, err := dynamutex.NewSession(ctx, client, table, dynamutex.WithOwner("scheduler-1"))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer sess.Close(ctx)

	election := sess.NewElection("scheduler")
	lead, err := election.Campaign(ctx, []byte("10.0.0.7:8080"))
	if err != nil {
		fmt.Println(err)
		return
	}
	info, err := election.Leader(ctx)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("leader %s at %s\n", info.Owner, info.Value)

	jobs := make(chan string)
	stopped := make(chan error, 1)
	go func() { stopped <- runScheduler(lead, jobs) }()
	for range 3 {
		fmt.Println(<-jobs)
	}
	if err := election.Resign(ctx); err != nil {
		fmt.Println(err)
	}
	for {
		select {
		case <-jobs: // a job due as it resigned
			continue
		case err := <-stopped:
			fmt.Println("stepped down:", errors.Is(err, dynamutex.ErrResigned))
		}
		break
	}
	if _, err := election.Leader(ctx); errors.Is(err, dynamutex.ErrNoLeader) {
		fmt.Println("no leader")
	}
	// Output:
	// leader scheduler-1 at 10.0.0.7:8080
	// job 1
	// job 2
	// job 3
	// stepped down: true
	// no leader
}
