package dynamutex_test

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/cenkalti/backoff/v4"

	"github.com/dynamutex/dynamutex"
)

// The wait path, old against new, in one run: sub-benchmarks wait=writes
// (SetWaitByWriting and the backoff policy of the release before reads)
// beside wait=reads (the library as it is). Everything uses the default
// lease (20 s), so the pace is the one a user gets.

// waitMode is one of the two wait paths.
type waitMode struct {
	name      string
	byWriting bool
}

var waitModes = []waitMode{{"writes", true}, {"reads", false}}

// options switches the test binary to m's wait path until b ends and
// returns the Session options that go with it.
func (m waitMode) options(b *testing.B) []dynamutex.Option {
	dynamutex.SetWaitByWriting(m.byWriting)
	b.Cleanup(func() { dynamutex.SetWaitByWriting(false) })
	if !m.byWriting {
		return nil
	}
	return []dynamutex.Option{dynamutex.WithBackoff(writingBackoff(defaultLease))}
}

const defaultLease = 20 * time.Second

// writingBackoff is the default policy of the release before reads:
// exponential from 20 ms, factor 1.6, jitter ±50 %, capped at
// min(1 s, lease/4), no time limit.
func writingBackoff(lease time.Duration) func() backoff.BackOff {
	maxInterval := min(time.Second, lease/4)
	return func() backoff.BackOff {
		return backoff.NewExponentialBackOff(
			backoff.WithInitialInterval(min(20*time.Millisecond, maxInterval)),
			backoff.WithMultiplier(1.6),
			backoff.WithRandomizationFactor(0.5),
			backoff.WithMaxInterval(maxInterval),
			backoff.WithMaxElapsedTime(0),
		)
	}
}

// openSession opens a Session with the library's default timings, apart
// from opts, and closes it when b ends.
func openSession(b *testing.B, c dynamutex.DynamoDBAPI, table string, opts ...dynamutex.Option) *dynamutex.Session {
	b.Helper()
	s, err := dynamutex.NewSession(context.Background(), c, table, append([]dynamutex.Option{dynamutex.WithExpiry(time.Hour)}, opts...)...)
	if err != nil {
		b.Fatalf("NewSession: %v", err)
	}
	b.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := s.Close(ctx); err != nil {
			b.Errorf("Close: %v", err)
		}
	})
	return s
}

// waitRequest is one request a waiter sent: when, which kind, and the
// capacity units it cost.
type waitRequest struct {
	at    time.Time
	write bool
	units float64
	// reported is true when the units came from ConsumedCapacity, false
	// when they are what DynamoDB bills for a failed conditional write.
	reported bool
}

// requestLog is a DynamoDBAPI that asks for ConsumedCapacity on every
// UpdateItem and GetItem and logs each one with its send time.
type requestLog struct {
	dynamutex.DynamoDBAPI

	mu   sync.Mutex
	reqs []waitRequest
}

func (l *requestLog) add(r waitRequest) {
	l.mu.Lock()
	l.reqs = append(l.reqs, r)
	l.mu.Unlock()
}

func (l *requestLog) UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error) {
	withCap := *in
	withCap.ReturnConsumedCapacity = types.ReturnConsumedCapacityTotal
	r := waitRequest{at: time.Now(), write: true}
	out, err := l.DynamoDBAPI.UpdateItem(ctx, &withCap, optFns...)
	var ccf *types.ConditionalCheckFailedException
	switch {
	case err == nil && out.ConsumedCapacity != nil:
		r.units, r.reported = aws.ToFloat64(out.ConsumedCapacity.CapacityUnits), true
	case errors.As(err, &ccf):
		// DynamoDB Local's failure reply carries no capacity; DynamoDB
		// bills a failed conditional write as a write of the larger of
		// the old and the new item, 1 unit per KB begun, and the lock
		// record is well under 1 KB.
		r.units = math.Max(1, math.Ceil(float64(itemSize(ccf.Item))/1024))
	}
	l.add(r)
	return out, err
}

func (l *requestLog) GetItem(ctx context.Context, in *dynamodb.GetItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error) {
	withCap := *in
	withCap.ReturnConsumedCapacity = types.ReturnConsumedCapacityTotal
	r := waitRequest{at: time.Now()}
	out, err := l.DynamoDBAPI.GetItem(ctx, &withCap, optFns...)
	if err == nil && out.ConsumedCapacity != nil {
		r.units, r.reported = aws.ToFloat64(out.ConsumedCapacity.CapacityUnits), true
	}
	l.add(r)
	return out, err
}

// itemSize approximates DynamoDB's item size: attribute names plus values.
func itemSize(item map[string]types.AttributeValue) int {
	n := 0
	for k, v := range item {
		n += len(k)
		switch v := v.(type) {
		case *types.AttributeValueMemberS:
			n += len(v.Value)
		case *types.AttributeValueMemberN:
			n += len(v.Value)
		case *types.AttributeValueMemberB:
			n += len(v.Value)
		default:
			n++
		}
	}
	return n
}

// waitTally sums the requests of a window, reads and writes apart.
type waitTally struct {
	reads, writes       int
	rru, wru            float64
	unreportedReadUnits int // reads whose reply carried no capacity
}

func (l *requestLog) tally(from, to time.Time) waitTally {
	l.mu.Lock()
	defer l.mu.Unlock()
	var t waitTally
	for _, r := range l.reqs {
		if r.at.Before(from) || !r.at.Before(to) {
			continue
		}
		if r.write {
			t.writes++
			t.wru += r.units
			continue
		}
		t.reads++
		t.rru += r.units
		if !r.reported {
			t.unreportedReadUnits++
		}
	}
	return t
}

// BenchmarkWaitCost has one holder hold a key for 10 s while 1 waiter, or
// 8 waiters in 8 Sessions, wait for it, and counts the waiters' requests
// and capacity units per waiter-second: in the first second of waiting
// (first-*) and from then to the end of the hold (steady, unprefixed).
// Capacity comes from ReturnConsumedCapacity, except for failed
// conditional writes, counted as DynamoDB bills them (1 write unit per KB).
// cost-rru/waiter-s prices both at on-demand rates, a write request unit
// at 5 read request units. One iteration is one 10 s hold; the waiters are
// stopped before the holder unlocks, so no handoff is counted.
//
// The lone/* sub-benchmarks follow one waiter through a whole Lock call, the
// write that takes the lock included, behind a holder that holds for
// loneHold and then unlocks (lone/hold), or behind a dead holder, a Session
// closed without Unlock (lone/dead), at the default timings and at a 2 s
// lease with a 500 ms heartbeat. They report the waiter's reads per second
// and its writes (acquire and claim writes) while the lock was held, its
// requests per Lock call, and how long after the holder's Unlock returned
// (hold) or after the Lock call began (dead) it had the lock, as means over
// loneCalls calls per iteration. The cap=500ms case is the 2 s lease with
// the backoff cap of the release before this one, for comparison.
func BenchmarkWaitCost(b *testing.B) {
	for _, t := range loneTimings {
		for _, dead := range []bool{false, true} {
			name := "lone/hold=3s/" + t.name
			if dead {
				name = "lone/dead/" + t.name
			}
			b.Run(name, func(b *testing.B) { runLoneWait(b, t.opts, dead) })
		}
	}
	for _, n := range []int{1, 8} {
		for _, mode := range waitModes {
			b.Run(fmt.Sprintf("waiters=%d/wait=%s", n, mode.name), func(b *testing.B) {
				runWaitCost(b, n, mode)
			})
		}
	}
}

const waitHold = 10 * time.Second

func runWaitCost(b *testing.B, n int, mode waitMode) {
	opts := mode.options(b)
	hc, _ := newClient(b)
	table := newTable(b, hc)
	holder := openSession(b, hc, table, opts...)
	var (
		logs    []*requestLog
		waiters []*dynamutex.Session
	)
	for range n {
		c, _ := newClient(b)
		l := &requestLog{DynamoDBAPI: c}
		logs = append(logs, l)
		waiters = append(waiters, openSession(b, l, table, opts...))
	}
	var first, steady waitTally
	b.ResetTimer()
	for i := range b.N {
		start, end := holdWhileWaiting(b, holder, waiters, fmt.Sprintf("cost-%d", i))
		for _, l := range logs {
			first = addTally(first, l.tally(start, start.Add(time.Second)))
			steady = addTally(steady, l.tally(start.Add(time.Second), end))
		}
	}
	b.StopTimer()
	report := func(prefix string, t waitTally, seconds float64) {
		ws := float64(n*b.N) * seconds
		b.ReportMetric(float64(t.reads)/ws, prefix+"reads/waiter-s")
		b.ReportMetric(float64(t.writes)/ws, prefix+"writes/waiter-s")
		b.ReportMetric(t.rru/ws, prefix+"rru/waiter-s")
		b.ReportMetric(t.wru/ws, prefix+"wru/waiter-s")
		b.ReportMetric((t.rru+5*t.wru)/ws, prefix+"cost-rru/waiter-s")
	}
	report("first-", first, 1)
	report("", steady, (waitHold - time.Second).Seconds())
	if u := first.unreportedReadUnits + steady.unreportedReadUnits; u > 0 {
		b.Errorf("%d reads came back without ConsumedCapacity", u)
	}
}

// holdWhileWaiting locks key in holder, has every waiter Lock it for
// waitHold, then stops the waiters and unlocks. It returns the window the
// waiters waited in: from just before their Lock calls to just before
// they were stopped.
func holdWhileWaiting(b *testing.B, holder *dynamutex.Session, waiters []*dynamutex.Session, key string) (time.Time, time.Time) {
	ctx := context.Background()
	hm := holder.NewMutex(key)
	if _, err := hm.Lock(ctx); err != nil {
		b.Fatalf("holder's Lock: %v", err)
	}
	wctx, stop := context.WithCancel(ctx)
	var wg sync.WaitGroup
	start := time.Now()
	for _, w := range waiters {
		wg.Go(func() {
			if _, err := w.NewMutex(key).Lock(wctx); !errors.Is(err, context.Canceled) {
				b.Errorf("waiter's Lock: %v, want context.Canceled while the holder holds", err)
			}
		})
	}
	time.Sleep(waitHold)
	end := time.Now()
	stop()
	wg.Wait()
	if err := hm.Unlock(ctx); err != nil {
		b.Fatalf("holder's Unlock: %v", err)
	}
	return start, end
}

func addTally(a, b waitTally) waitTally {
	return waitTally{reads: a.reads + b.reads, writes: a.writes + b.writes, rru: a.rru + b.rru, wru: a.wru + b.wru,
		unreportedReadUnits: a.unreportedReadUnits + b.unreportedReadUnits}
}

// loneHold is how long the holder of BenchmarkWaitCost's lone/hold cases
// holds the lock.
const loneHold = 3 * time.Second

// loneTimings are the timings of BenchmarkWaitCost's lone-waiter cases.
var loneTimings = []struct {
	name string
	opts []dynamutex.Option
}{
	{"lease=20s", nil},
	{"lease=2s", lease2s},
	// The backoff cap before it became min(1 s, lease/2): min(1 s, lease/4).
	{"lease=2s/cap=500ms", append(slices.Clip(lease2s), dynamutex.WithBackoff(func() backoff.BackOff {
		return backoff.NewExponentialBackOff(backoff.WithInitialInterval(250*time.Millisecond),
			backoff.WithMultiplier(1.5), backoff.WithRandomizationFactor(0.5),
			backoff.WithMaxInterval(500*time.Millisecond), backoff.WithMaxElapsedTime(0))
	}))},
}

var lease2s = []dynamutex.Option{dynamutex.WithLeaseDuration(2 * time.Second),
	dynamutex.WithHeartbeatPeriod(500 * time.Millisecond), dynamutex.WithSafeTime(1500 * time.Millisecond)}

// loneCalls is how many Lock calls one iteration of a lone case makes:
// five behind a hold, whose handoff latency varies with where the release
// falls in the waiter's sleep, and two behind a dead holder, whose takeover
// hardly varies.
func loneCalls(dead bool) int {
	if dead {
		return 2
	}
	return 5
}

// loneRun is one Lock call of a lone waiter: when it began, when the lock
// was released (or, behind a dead holder, when the call began), and when
// the waiter had the lock.
type loneRun struct {
	start, released, got time.Time
}

func runLoneWait(b *testing.B, opts []dynamutex.Option, dead bool) {
	hc, _ := newClient(b)
	table := newTable(b, hc)
	wc, _ := newClient(b)
	l := &requestLog{DynamoDBAPI: wc}
	waiter := openSession(b, l, table, opts...)
	var held, after waitTally
	var waited, late time.Duration
	b.ResetTimer()
	calls := b.N * loneCalls(dead)
	for i := range calls {
		r := loneLock(b, hc, table, waiter, loneCase{key: fmt.Sprintf("lone-%d", i), dead: dead, opts: opts})
		held = addTally(held, l.tally(r.start, r.released))
		after = addTally(after, l.tally(r.released, r.got))
		waited += r.released.Sub(r.start)
		late += r.got.Sub(r.released)
	}
	b.StopTimer()
	n := float64(calls)
	if dead {
		// Behind a dead holder the whole call is the wait.
		held, after, waited = addTally(held, after), waitTally{}, late
	}
	b.ReportMetric(float64(held.reads)/waited.Seconds(), "held-reads/s")
	b.ReportMetric(float64(held.writes)/n, "held-writes/lock")
	b.ReportMetric(float64(held.reads+after.reads)/n, "reads/lock")
	b.ReportMetric(float64(held.writes+after.writes)/n, "writes/lock")
	b.ReportMetric(float64(late)/n/float64(time.Millisecond), "got-after-ms")
}

// loneCase is one lone-waiter Lock call of BenchmarkWaitCost: its key,
// whether the holder is dead, and the Sessions' options.
type loneCase struct {
	key  string
	dead bool
	opts []dynamutex.Option
}

// loneLock has a holder lock c.key and either hold it for loneHold and
// unlock, or die holding it (its Session closed without Unlock), while the
// waiter Locks it; the waiter unlocks once it has the lock.
func loneLock(b *testing.B, hc dynamutex.DynamoDBAPI, table string, waiter *dynamutex.Session, c loneCase) loneRun {
	ctx := context.Background()
	holder, err := dynamutex.NewSession(ctx, hc, table, append([]dynamutex.Option{dynamutex.WithExpiry(time.Hour)}, c.opts...)...)
	if err != nil {
		b.Fatalf("NewSession: %v", err)
	}
	hm := holder.NewMutex(c.key)
	if _, err := hm.Lock(ctx); err != nil {
		b.Fatalf("holder's Lock: %v", err)
	}
	if c.dead {
		if err := holder.Close(ctx); err != nil {
			b.Fatalf("holder's Close: %v", err)
		}
	}
	var r loneRun
	r.start = time.Now()
	got := make(chan time.Time, 1)
	wm := waiter.NewMutex(c.key)
	go func() {
		if _, err := wm.Lock(ctx); err != nil {
			b.Errorf("waiter's Lock: %v", err)
		}
		got <- time.Now()
	}()
	r.released = r.start
	if !c.dead {
		time.Sleep(loneHold)
		if err := hm.Unlock(ctx); err != nil {
			b.Fatalf("holder's Unlock: %v", err)
		}
		r.released = time.Now()
		if err := holder.Close(ctx); err != nil {
			b.Fatalf("holder's Close: %v", err)
		}
	}
	r.got = <-got
	if err := wm.Unlock(ctx); err != nil {
		b.Fatalf("waiter's Unlock: %v", err)
	}
	return r
}
