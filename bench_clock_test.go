package dynamutex_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/dynamutex/dynamutex"
	"github.com/dynamutex/dynamutex/internal/localdb"
)

// The dead-holder benchmarks crash a holder and time how soon its lock is
// taken over, with and without a clock bound (WithClockBound), counted from
// the holder's last write. Their name matches none of the patterns CI runs
// at 10 iterations: a late arrival costs three leases of sleep each.

const (
	deadLease = 500 * time.Millisecond
	deadBound = 10 * time.Millisecond
	// deadLate is how long after the holder's last write a late waiter, or
	// a cold start, arrives.
	deadLate = 3 * deadLease
)

// deadHolderOptions are the Session options of every party: a 500 ms lease
// renewed every 100 ms, and with bound a 10 ms clock bound.
func deadHolderOptions(bound bool) []dynamutex.Option {
	opts := leaseOptions(deadLease, 350*time.Millisecond, 100*time.Millisecond)
	if bound {
		opts = append(opts, dynamutex.WithClockBound(deadBound))
	}
	return opts
}

// BenchmarkDeadHolder crashes a holder per iteration and measures its lock's
// takeover three ways, each with bound=none and bound=10ms:
//
//   - waiter=watching: a waiter Session that calls Lock right after the
//     crash;
//   - waiter=late: the same, arriving three leases after the last write;
//   - waiter=cold-trylock: a brand-new Session on a new client, arriving as
//     late, which runs NewSession and one TryLock, as a Lambda cold start
//     would. Without a bound it gets ErrLocked, which is what it reports.
//
// ns/op times only the waiter's Lock, or NewSession + TryLock.
func BenchmarkDeadHolder(b *testing.B) {
	bounds := []struct {
		name  string
		bound bool
	}{{"none", false}, {"10ms", true}}
	for _, w := range []string{"watching", "late", "cold-trylock"} {
		b.Run("waiter="+w, func(b *testing.B) {
			for _, bd := range bounds {
				b.Run("bound="+bd.name, func(b *testing.B) {
					switch w {
					case "watching":
						benchDeadWaiter(b, bd.bound, 0)
					case "late":
						benchDeadWaiter(b, bd.bound, deadLate)
					default:
						benchColdTryLock(b, bd.bound)
					}
				})
			}
		})
	}
}

// crashRig crashes holders on one table and remembers when each holder's
// last acquire or renewal was handed to the network, per key.
type crashRig struct {
	client *dynamodb.Client
	table  string
	opts   []dynamutex.Option

	mu   sync.Mutex
	last map[string]time.Time
}

func newCrashRig(b *testing.B, table string, opts []dynamutex.Option) *crashRig {
	r := &crashRig{table: table, opts: opts, last: map[string]time.Time{}}
	rec := &sendRecorder{next: localdb.Transport(), onSend: func(op, key string, at time.Time) {
		if op == opAcquire || op == opRenew {
			r.mu.Lock()
			r.last[key] = at
			r.mu.Unlock()
		}
	}}
	r.client = localdb.Client(localdb.Endpoint(b), rec, func(o *dynamodb.Options) { o.RetryMaxAttempts = 1 })
	return r
}

// crash runs iteration i's holder of key: it locks, holds for 0 to 120 ms
// (0 to 1 renewals, so the last write is an acquire or a renewal, and the
// crash comes 0 to 80 ms after it), and closes without Unlock. It returns
// the send time of the holder's last write. Close waits for renewals in
// flight, so that send is final.
func (r *crashRig) crash(ctx context.Context, b *testing.B, key string, i int) time.Time {
	h, err := dynamutex.NewSession(ctx, r.client, r.table, r.opts...)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := h.NewMutex(key).Lock(ctx); err != nil {
		b.Fatal(err)
	}
	time.Sleep(time.Duration(i%4) * 40 * time.Millisecond)
	if err := h.Close(ctx); err != nil {
		b.Fatal(err)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.last[key]
}

// takeoverStats gathers one sub-benchmark's samples.
type takeoverStats struct {
	fromWrite []float64       // takeover − holder's last write, in leases
	fromLook  []float64       // takeover − the waiter's first attempt, in leases
	latency   []time.Duration // the timed call
	requests  int             // UpdateItem requests of the timed calls
	taken     int             // timed calls that took the lock
}

func (st *takeoverStats) report(b *testing.B) {
	b.StopTimer()
	ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
	if len(st.fromWrite) > 0 {
		b.ReportMetric(percentileF(st.fromWrite, 0), "min-leases")
		b.ReportMetric(percentileF(st.fromWrite, 0.5), "p50-leases")
		b.ReportMetric(percentileF(st.fromWrite, 1), "max-leases")
		b.ReportMetric(percentileF(st.fromWrite, 0.5)*ms(deadLease), "p50-ms")
	}
	if len(st.fromLook) > 0 {
		b.ReportMetric(percentileF(st.fromLook, 0.5), "p50-leases-after-look")
	}
	b.ReportMetric(ms(percentile(st.latency, 0.5)), "p50-call-ms")
	b.ReportMetric(ms(percentile(st.latency, 1)), "max-call-ms")
	b.ReportMetric(float64(st.requests)/float64(b.N), "updates/op")
	b.ReportMetric(float64(st.taken)/float64(b.N), "taken/op")
}

func leases(d time.Duration) float64 { return float64(d) / float64(deadLease) }

// benchDeadWaiter times a waiter Session's Lock on a crashed holder's key,
// called late after the holder's last write (at once for 0).
func benchDeadWaiter(b *testing.B, bound bool, late time.Duration) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	wc, wtr := newClient(b)
	table := newTable(b, wc)
	opts := deadHolderOptions(bound)
	rig := newCrashRig(b, table, opts)
	waiter := newSession(b, wc, table, opts...)
	var st takeoverStats
	b.ResetTimer()
	for i := range b.N {
		b.StopTimer()
		key := fmt.Sprintf("dead/%d", i)
		last := rig.crash(ctx, b, key, i)
		if late > 0 {
			time.Sleep(time.Until(last.Add(late)))
		}
		m := waiter.NewMutex(key)
		before := wtr.count(opAcquire)
		look := time.Now()
		b.StartTimer()
		_, err := m.Lock(ctx)
		b.StopTimer()
		done := time.Now()
		if err != nil {
			b.Fatal(err)
		}
		st.fromWrite = append(st.fromWrite, leases(done.Sub(last)))
		st.fromLook = append(st.fromLook, leases(done.Sub(look)))
		st.latency = append(st.latency, done.Sub(look))
		st.requests += wtr.count(opAcquire) - before
		st.taken++
		if err := m.Unlock(ctx); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
	}
	st.report(b)
}

// benchColdTryLock times NewSession + TryLock on a new client, three leases
// after a crashed holder's last write, and counts its requests.
func benchColdTryLock(b *testing.B, bound bool) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	c, _ := newClient(b)
	table := newTable(b, c)
	opts := deadHolderOptions(bound)
	rig := newCrashRig(b, table, opts)
	var (
		st       takeoverStats
		describe int
	)
	b.ResetTimer()
	for i := range b.N {
		b.StopTimer()
		key := fmt.Sprintf("cold/%d", i)
		last := rig.crash(ctx, b, key, i)
		time.Sleep(time.Until(last.Add(deadLate)))
		cc, tr := coldClient(b)
		start := time.Now()
		b.StartTimer()
		s, m, err := deadLock{table: table, key: key, opts: opts}.coldStart(ctx, cc)
		b.StopTimer()
		done := time.Now()
		if s == nil {
			b.Fatal(err)
		}
		if err != nil && (bound || !errors.Is(err, dynamutex.ErrLocked)) {
			b.Fatalf("cold TryLock, bound %v: %v", bound, err)
		}
		if err == nil && !bound {
			b.Fatal("a brand-new Session without a bound took a lock it never watched")
		}
		st.latency = append(st.latency, done.Sub(start))
		n := cc.byOperation()
		describe += n["DescribeTable"]
		st.requests += n["UpdateItem"]
		if err == nil {
			st.taken++
			if err := m.Unlock(ctx); err != nil {
				b.Fatal(err)
			}
		}
		if err := s.Close(ctx); err != nil {
			b.Fatal(err)
		}
		if tr != nil {
			tr.CloseIdleConnections()
		}
		b.StartTimer()
	}
	b.ReportMetric(float64(describe)/float64(b.N), "describes/op")
	st.report(b)
}
