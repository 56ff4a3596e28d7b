package dynamutex_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/dynamutex/dynamutex"
	"github.com/dynamutex/dynamutex/dynamutextest"
)

// Timings of the example, short so that it runs in a moment. A real function
// keeps the defaults (a 20 s lease) and Amazon Time Sync's bound, about 1 ms.
var lambdaOptions = []dynamutex.Option{
	dynamutex.WithClockBound(time.Millisecond),
	dynamutex.WithLeaseDuration(300 * time.Millisecond),
	dynamutex.WithSafeTime(225 * time.Millisecond),
	dynamutex.WithHeartbeatPeriod(75 * time.Millisecond),
}

// handle is one invocation of a short-lived process: an AWS Lambda function,
// a cron run, a CI step. It opens a Session of its own, tries the lock once,
// and skips the job when a live holder has it. With a clock bound, a holder
// that died without unlocking (a timeout, an out-of-memory kill) does not
// block the next invocation: the deadline in its record has passed, and
// TryLock takes the lock over in its one write.
func handle(ctx context.Context, db dynamutex.DynamoDBAPI, job string) (out string, err error) {
	sess, err := dynamutex.NewSession(ctx, db, "locks", lambdaOptions...)
	if err != nil {
		return "", err
	}
	defer sess.Close(ctx)
	m := sess.NewMutex(job)
	lctx, err := m.TryLock(ctx)
	var held *dynamutex.HeldError
	if errors.As(err, &held) {
		return "skipped: " + held.Owner + " has it", nil
	}
	if err != nil {
		return "", err
	}
	defer func() {
		// ErrLockLost here: the job may have overlapped another holder's.
		err = errors.Join(err, m.Unlock(ctx))
	}()
	lease, _ := dynamutex.LeaseFrom(lctx)
	return fmt.Sprintf("ran %s with token %d", job, lease.Token()), nil
}

// A Session per invocation, TryLock with a clock bound: the cold start that
// follows a crashed invocation takes the lock at once. It costs a
// DescribeTable (NewSession checks the table), one UpdateItem to take the
// lock and one to release it.
func ExampleWithClockBound_lambda() {
	ctx := context.Background()
	db := dynamutextest.New()
	if err := dynamutex.CreateTable(ctx, db, "locks"); err != nil {
		fmt.Println(err)
		return
	}

	// An invocation takes the lock and is killed: no Unlock, no renewals.
	dead, _ := dynamutex.NewSession(ctx, db, "locks", append(lambdaOptions, dynamutex.WithOwner("invocation-1"))...)
	if _, err := dead.NewMutex("nightly-report").Lock(ctx); err != nil {
		fmt.Println(err)
		return
	}
	dead.Close(ctx) // a crash: Close does not release the record
	fmt.Println(handle(ctx, db, "nightly-report"))

	// Past its deadline (the lease plus both bounds), the next cold start
	// takes it.
	time.Sleep(320 * time.Millisecond)
	counted := newTap(db) // counts requests
	out, err := handle(ctx, counted, "nightly-report")
	fmt.Println(out[:len("ran nightly-report")], err)
	n := counted.byOperation()
	fmt.Println("requests:", n["DescribeTable"], "DescribeTable,", n["UpdateItem"], "UpdateItem")
	// Output:
	// skipped: invocation-1 has it <nil>
	// ran nightly-report <nil>
	// requests: 1 DescribeTable, 2 UpdateItem
}
