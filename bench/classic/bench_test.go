package classic_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/google/uuid"

	"github.com/dynamutex/dynamutex"
	"github.com/dynamutex/dynamutex/bench/classic"
	"github.com/dynamutex/dynamutex/internal/wire"
)

// cycleKinds are the four uncontended acquire+release cycles. The two raw
// ones are the requests of each protocol with the raw SDK and nothing around
// them, so their ratio is the best dynamutex/classic ratio any
// implementation could reach.
var cycleKinds = []struct {
	name string
	new  func(testing.TB) (cycle func() error, tr *counter)
}{
	{"raw-two-writes", rawTwoWrites},
	{"raw-read-two-writes", rawReadTwoWrites},
	{"dynamutex", dynamutexCycle},
	{"classic", classicCycle},
}

// BenchmarkCycle is one uncontended acquire+release, four ways, each on its
// own fresh table.
func BenchmarkCycle(b *testing.B) {
	for _, k := range cycleKinds {
		b.Run(k.name, func(b *testing.B) {
			cycle, tr := k.new(b)
			before := tr.total()
			b.ReportAllocs()
			for b.Loop() {
				if err := cycle(); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(tr.total()-before)/float64(b.N), "requests/op")
		})
	}
}

// BenchmarkCycleInterleaved runs the four cycles of BenchmarkCycle in turn,
// one of each per iteration, and reports each one's mean time and the two
// ratios. On a shared machine a burst of load then slows all four alike
// instead of whichever sub-benchmark happened to be running; the
// median-based ratios also ignore the bursts that remain.
func BenchmarkCycleInterleaved(b *testing.B) {
	cycles := make([]func() error, len(cycleKinds))
	for i, k := range cycleKinds {
		cycles[i], _ = k.new(b)
	}
	took := make([][]time.Duration, len(cycles))
	turn := 0
	for b.Loop() {
		// Rotate the order so that no cycle always follows the same one.
		for j := range cycles {
			i := (turn + j) % len(cycles)
			start := time.Now()
			if err := cycles[i](); err != nil {
				b.Fatal(err)
			}
			took[i] = append(took[i], time.Since(start))
		}
		turn++
	}
	mean := make([]float64, len(cycles))
	med := make([]float64, len(cycles))
	for i, d := range took {
		var sum time.Duration
		for _, x := range d {
			sum += x
		}
		mean[i] = ms(sum / time.Duration(len(d)))
		slices.Sort(d)
		med[i] = ms(percentile(d, 0.5))
		b.ReportMetric(mean[i], cycleKinds[i].name+"-ms")
	}
	b.ReportMetric(mean[2]/mean[3], "dynamutex/classic")
	b.ReportMetric(mean[0]/mean[1], "floor")
	b.ReportMetric(med[2]/med[3], "dynamutex/classic-med")
	b.ReportMetric(med[0]/med[1], "floor-med")
}

func dynamutexCycle(tb testing.TB) (func() error, *counter) {
	c, tr := client()
	m := newSession(tb, c, newDynamutexTable(tb, c)).NewMutex("bench")
	ctx := context.Background()
	return func() error {
		if _, err := m.Lock(ctx); err != nil {
			return err
		}
		return m.Unlock(ctx)
	}, tr
}

func classicCycle(tb testing.TB) (func() error, *counter) {
	c, tr := client()
	cl := classic.New(c, newClassicTable(tb, c), classic.Options{})
	ctx := context.Background()
	return func() error {
		l, err := cl.Acquire(ctx, "bench")
		if err != nil {
			return err
		}
		return l.Release(ctx)
	}, tr
}

// rawTwoWrites is dynamutex's cycle with the raw SDK: the acquiring and
// the releasing conditional UpdateItem, built by the library's own
// internal/wire as the library builds them, as BenchmarkRawTwoWrites in
// the library's own benchmarks.
func rawTwoWrites(tb testing.TB) (func() error, *counter) {
	c, tr := client()
	it := wire.Item{Table: newDynamutexTable(tb, c), PartitionKey: dynamutex.DefaultPartitionKey, Key: "bench"}
	ctx := context.Background()
	return func() error {
		v, next := uuid.NewString(), uuid.NewString()
		now := time.Now()
		_, err := c.UpdateItem(ctx, wire.Acquire(wire.AcquireArgs{
			Item: it, Owner: "raw", Version: v, Lease: dynamutex.DefaultLeaseDuration,
			Seed: now, Expires: now.Add(time.Hour), Stamp: wire.Stamp{Sent: uint64(now.UnixMilli())},
		}))
		if err != nil {
			return err
		}
		now = time.Now()
		_, err = c.UpdateItem(ctx, wire.Replace(wire.ReplaceArgs{
			Item: it, Current: []string{v}, Next: next, Released: true,
			Expires: now.Add(time.Hour), Stamp: wire.Stamp{Sent: uint64(now.UnixMilli())},
		}))
		return err
	}, tr
}

// rawReadTwoWrites is the classic cycle with the raw SDK: a consistent
// GetItem that finds nothing, a PutItem conditional on absence, and a
// DeleteItem conditional on the rvn.
func rawReadTwoWrites(tb testing.TB) (func() error, *counter) {
	c, tr := client()
	table := newClassicTable(tb, c)
	ctx := context.Background()
	key := map[string]types.AttributeValue{"key": avS("bench")}
	return func() error {
		out, err := c.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(table), Key: key, ConsistentRead: aws.Bool(true)})
		if err != nil {
			return err
		}
		if out.Item != nil {
			return errors.New("the lock item was not deleted")
		}
		rvn := uuid.NewString()
		_, err = c.PutItem(ctx, &dynamodb.PutItemInput{
			TableName: aws.String(table),
			Item: map[string]types.AttributeValue{
				"key": avS("bench"), "owner_name": avS("raw"), "lease_duration": avN("20000"),
				"record_version_number": avS(rvn), "expiry_time": avN(itoa(time.Now().Add(time.Hour).Unix())),
			},
			ConditionExpression:      aws.String("attribute_not_exists(#pk)"),
			ExpressionAttributeNames: map[string]string{"#pk": "key"},
		})
		if err != nil {
			return err
		}
		_, err = c.DeleteItem(ctx, &dynamodb.DeleteItemInput{
			TableName: aws.String(table), Key: key,
			ConditionExpression:       aws.String("attribute_exists(#pk) AND #rvn = :rvn"),
			ExpressionAttributeNames:  map[string]string{"#pk": "key", "#rvn": "record_version_number"},
			ExpressionAttributeValues: map[string]types.AttributeValue{":rvn": avS(rvn)},
		})
		return err
	}, tr
}

// Handoff settings. Both protocols get the same lease and heartbeat; the
// classic client keeps its default 1 s refresh period, dynamutex its default
// backoff (capped at min(1 s, lease/4)).
const (
	contenders     = 8
	hold           = 5 * time.Millisecond
	handoffLease   = 5 * time.Second
	handoffBeat    = time.Second
	handoffSafe    = 3 * time.Second
	handoffLockKey = "handoff"
)

// acquireFunc blocks until its contender holds the lock and returns the
// function that releases it.
type acquireFunc func(context.Context) (release func(context.Context) error, err error)

// BenchmarkHandoff8 has 8 contenders, each with its own client, connections
// and Session (goroutines of one process, not separate processes), loop
// Lock, hold 5 ms, Unlock, and at once Lock again. One b.N iteration is one
// acquisition. Handoff latency is the time from one holder's Unlock
// returning to the next acquisition's Lock returning, whoever makes it; since
// the holder that just unlocked competes at once, it is mostly a re-acquire
// by the same contender (moved-frac says how often the lock changed hands).
func BenchmarkHandoff8(b *testing.B) {
	b.Run("dynamutex", func(b *testing.B) { handoff(b, false, dynamutexContenders(b)) })
	b.Run("classic", func(b *testing.B) { handoff(b, false, classicContenders(b)) })
}

// BenchmarkHandoff8Yield is BenchmarkHandoff8 with contenders that, after
// Unlock, wait until another one has acquired before they Lock again. Every
// handoff then goes to a waiter, so its latency is how soon a waiting
// contender notices the release: the polling of each protocol.
func BenchmarkHandoff8Yield(b *testing.B) {
	b.Run("dynamutex", func(b *testing.B) { handoff(b, true, dynamutexContenders(b)) })
	b.Run("classic", func(b *testing.B) { handoff(b, true, classicContenders(b)) })
}

func dynamutexContenders(b *testing.B) func(int) (acquireFunc, *counter) {
	var table string
	return func(int) (acquireFunc, *counter) {
		c, tr := client()
		if table == "" {
			table = newDynamutexTable(b, c)
		}
		m := newSession(b, c, table, dynamutex.WithLeaseDuration(handoffLease),
			dynamutex.WithHeartbeatPeriod(handoffBeat), dynamutex.WithSafeTime(handoffSafe)).NewMutex(handoffLockKey)
		return func(ctx context.Context) (func(context.Context) error, error) {
			if _, err := m.Lock(ctx); err != nil {
				return nil, err
			}
			return m.Unlock, nil
		}, tr
	}
}

func classicContenders(b *testing.B) func(int) (acquireFunc, *counter) {
	var table string
	return func(i int) (acquireFunc, *counter) {
		c, tr := client()
		if table == "" {
			table = newClassicTable(b, c)
		}
		cl := classic.New(c, table, classic.Options{
			Owner: "contender-" + strconv.Itoa(i), LeaseDuration: handoffLease, HeartbeatPeriod: handoffBeat,
		})
		return func(ctx context.Context) (func(context.Context) error, error) {
			l, err := cl.Acquire(ctx, handoffLockKey)
			if err != nil {
				return nil, err
			}
			return l.Release, nil
		}, tr
	}
}

// handoff runs the contenders until b.N acquisitions; with yield, a
// contender sits out after its Unlock until someone else has acquired.
func handoff(b *testing.B, yield bool, newContender func(i int) (acquireFunc, *counter)) {
	acquire := make([]acquireFunc, contenders)
	counters := make([]*counter, contenders)
	for i := range contenders {
		acquire[i], counters[i] = newContender(i)
	}
	requests := func() int {
		n := 0
		for _, c := range counters {
			n += c.total()
		}
		return n
	}
	n := b.N
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	r := &handoffRun{
		b: b, n: n, yield: yield, acquire: acquire, ctx: ctx, cancel: cancel,
		owner:  make([]int, 0, n),
		locked: make([]time.Time, 0, n),
		unlock: make([]time.Time, n),
		next:   make(chan struct{}),
	}
	before := requests()
	b.ResetTimer()
	var wg sync.WaitGroup
	for i := range contenders {
		wg.Go(func() { r.contend(i) })
	}
	wg.Wait()
	b.StopTimer()
	if b.Failed() || len(r.owner) < n {
		return
	}
	b.ReportMetric(float64(requests()-before)/float64(n), "requests/acq")
	r.report()
}

// handoffRun is what the contenders of one handoff run share: the
// acquisitions so far and the times around them.
type handoffRun struct {
	b       *testing.B
	n       int
	yield   bool
	acquire []acquireFunc
	ctx     context.Context
	cancel  context.CancelFunc

	mu      sync.Mutex
	owner   []int       // contender of each acquisition, in order
	locked  []time.Time // when its Lock returned
	unlock  []time.Time // when its Unlock returned
	holders atomic.Int32
	next    chan struct{} // closed at the next acquisition
}

// contend is contender i's loop: Lock, hold, Unlock, until the n-th
// acquisition or the run is cancelled.
func (r *handoffRun) contend(i int) {
	for {
		release, err := r.acquire[i](r.ctx)
		if err != nil {
			if r.ctx.Err() == nil {
				r.b.Errorf("contender %d: lock: %v", i, err)
				r.cancel()
			}
			return
		}
		k, mine := r.acquired(i, time.Now())
		if k < r.n {
			time.Sleep(hold)
		}
		r.holders.Add(-1)
		err = release(context.Background())
		at := time.Now()
		if err != nil {
			r.b.Errorf("contender %d: unlock: %v", i, err)
		}
		if k < r.n {
			r.mu.Lock()
			r.unlock[k] = at
			r.mu.Unlock()
		}
		if k >= r.n-1 {
			r.cancel() // the last acquisition: stop the waiters
			return
		}
		if r.yield {
			select {
			case <-mine:
			case <-r.ctx.Done():
				return
			}
		}
	}
}

// acquired records that contender i's Lock returned at at, and returns the
// acquisition's index and the channel closed at the next one.
func (r *handoffRun) acquired(i int, at time.Time) (int, chan struct{}) {
	if r.holders.Add(1) != 1 {
		r.b.Errorf("contender %d: two holders at once", i)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	k := len(r.owner)
	if k < r.n {
		r.owner, r.locked = append(r.owner, i), append(r.locked, at)
	}
	close(r.next)
	r.next = make(chan struct{})
	return k, r.next
}

// report reports how the acquisitions were shared and the handoff latencies.
func (r *handoffRun) report() {
	b, n := r.b, r.n
	perContender := make([]int, contenders)
	for _, o := range r.owner {
		perContender[o]++
	}
	b.ReportMetric(float64(slices.Min(perContender)), "min-acq")
	b.ReportMetric(float64(slices.Max(perContender)), "max-acq")
	if n < 2 {
		return
	}
	lat := make([]time.Duration, 0, n-1)
	moves := 0
	for k := 1; k < n; k++ {
		// The next holder may read its reply before the previous one reads
		// the reply to its release: that is a handoff of zero.
		lat = append(lat, max(r.locked[k].Sub(r.unlock[k-1]), 0))
		if r.owner[k] != r.owner[k-1] {
			moves++
		}
	}
	slices.Sort(lat)
	b.ReportMetric(ms(percentile(lat, 0.50)), "p50-ms")
	b.ReportMetric(ms(percentile(lat, 0.99)), "p99-ms")
	b.ReportMetric(float64(moves)/float64(n-1), "moved-frac")
}

// percentile is the nearest-rank percentile of sorted durations.
func percentile(sorted []time.Duration, p float64) time.Duration {
	i := int(float64(len(sorted))*p+0.5) - 1
	return sorted[min(max(i, 0), len(sorted)-1)]
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// TestRequestsPerOperation pins the request counts the comparison rests on:
// an uncontended classic acquire is a GetItem and a PutItem and its release
// a DeleteItem; dynamutex makes one UpdateItem for each.
func TestRequestsPerOperation(t *testing.T) {
	ctx := ctxFor(t, time.Minute)
	check := func(what string, got map[string]int, want map[string]int) {
		t.Helper()
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("%s: requests %v, want %v", what, got, want)
		}
	}
	t.Run("classic", func(t *testing.T) {
		c, tr := client()
		cl := classic.New(c, newClassicTable(t, c), classic.Options{})
		for range 3 {
			before := tr.snapshot()
			l, err := cl.Acquire(ctx, "k")
			if err != nil {
				t.Fatal(err)
			}
			check("acquire", tr.since(before), map[string]int{"GetItem": 1, "PutItem": 1})
			before = tr.snapshot()
			if err := l.Release(ctx); err != nil {
				t.Fatal(err)
			}
			check("release", tr.since(before), map[string]int{"DeleteItem": 1})
		}
	})
	t.Run("dynamutex", func(t *testing.T) {
		c, tr := client()
		m := newSession(t, c, newDynamutexTable(t, c)).NewMutex("k")
		for range 3 {
			before := tr.snapshot()
			if _, err := m.Lock(ctx); err != nil {
				t.Fatal(err)
			}
			check("lock", tr.since(before), map[string]int{"UpdateItem": 1})
			before = tr.snapshot()
			if err := m.Unlock(ctx); err != nil {
				t.Fatal(err)
			}
			check("unlock", tr.since(before), map[string]int{"UpdateItem": 1})
		}
	})
}

func avS(v string) types.AttributeValue { return &types.AttributeValueMemberS{Value: v} }
func avN(v string) types.AttributeValue { return &types.AttributeValueMemberN{Value: v} }
func itoa(v int64) string               { return strconv.FormatInt(v, 10) }
