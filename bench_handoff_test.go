package dynamutex_test

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dynamutex/dynamutex"
)

// Contended handoff, takeover delay and many held locks.
// All of them run against DynamoDB Local on loopback, which shares the
// machine's cores with the benchmark; their times say how the library's
// waiting and scheduling behave, not what DynamoDB itself would take.

// handoffOptions are explicit so that Lock's backoff cap, min(1 s, lease/4),
// is known: 500 ms. A waiter in another Session sleeps at most 1.5 × the cap
// (750 ms, the cap plus its +50 % jitter) between polls, so every waiting
// Session sees a release within 750 ms and a request: that bounds a handoff
// to another Session, and with it p99 and max. Most handoffs are much
// faster, and not because of polling: a Session that loops re-locks with a
// single request right after its Unlock, usually before any waiter polls,
// so the lock tends to stay where it is (switch-%, min/max-acq/session).
// Holds of 2 ms never reach the first renewal, due 300 to 400 ms after the
// acquire.
func handoffOptions() []dynamutex.Option {
	return leaseOptions(2*time.Second, 1200*time.Millisecond, 400*time.Millisecond)
}

const handoffHold = 2 * time.Millisecond

// BenchmarkHandoff has N Sessions, one goroutine each, take turns on one
// key: Lock, hold 2 ms, Unlock, again at once. One iteration is one
// acquisition. Handoff latency is the time from one holder's Unlock
// returning to the next acquisition's Lock returning, the next acquisition
// being the one with the next fencing token. switch-% is how many
// acquisitions went to a Session other than the previous holder's; only
// those wait for a poll. min/max-acq/session show fairness.
func BenchmarkHandoff(b *testing.B) {
	for _, n := range []int{2, 8, 32} {
		b.Run(fmt.Sprintf("sessions=%d", n), func(b *testing.B) {
			var (
				workers []handoffWorker
				trs     []*tap
				table   string
			)
			for i := range n {
				// A client per Session: one Session's goroutines queue
				// locally, and the benchmark is about Sessions that cannot.
				c, tr := newClient(b)
				if i == 0 {
					table = newTable(b, c)
				}
				s := newSession(b, c, table, handoffOptions()...)
				workers = append(workers, handoffWorker{m: s.NewMutex("handoff"), group: i})
				trs = append(trs, tr)
			}
			runHandoff(b, handoff{workers: workers, groups: n, groupName: "session", taps: trs})
		})
	}
}

// BenchmarkHandoffLocal is BenchmarkHandoff with 8 goroutines of one
// Session: they queue in memory, so a handoff is the next goroutine's single
// acquire write, sent the moment the release write returns, and never a poll.
func BenchmarkHandoffLocal(b *testing.B) {
	c, _, s := setup(b, handoffOptions()...)
	const goroutines = 8
	workers := make([]handoffWorker, goroutines)
	for i := range workers {
		workers[i] = handoffWorker{m: s.NewMutex("handoff"), group: i}
	}
	runHandoff(b, handoff{workers: workers, groups: goroutines, groupName: "goroutine", taps: []*tap{c}})
}

type handoffWorker struct {
	m     *dynamutex.Mutex
	group int // the Session, or the goroutine, that fairness is counted by
}

type acquisition struct {
	token            uint64
	group            int
	locked, unlocked time.Duration // when Lock and Unlock returned, since the start
}

// handoff is one contended set-up: the workers, the groups they belong to
// (Sessions or goroutines, named for the metrics), and the taps that count
// their requests.
type handoff struct {
	workers   []handoffWorker
	groups    int
	groupName string
	taps      []*tap
}

func (h handoff) requests() int {
	n := 0
	for _, tr := range h.taps {
		n += tr.count(opAcquire) + tr.count(opRelease)
	}
	return n
}

func runHandoff(b *testing.B, h handoff) {
	before := h.requests()
	b.ReportAllocs()
	b.ResetTimer()
	acqs := h.contend(b)
	b.StopTimer()
	if b.Failed() {
		return
	}
	slices.SortFunc(acqs, func(x, y acquisition) int { return cmp.Compare(x.token, y.token) })
	var lat, switched []time.Duration
	for i := 1; i < len(acqs); i++ {
		// The next holder's Lock can return before the previous holder has
		// read its own release reply; that handoff cost nothing.
		d := max(acqs[i].locked-acqs[i-1].unlocked, 0)
		lat = append(lat, d)
		if acqs[i].group != acqs[i-1].group {
			switched = append(switched, d)
		}
	}
	per := make([]int, h.groups)
	for _, a := range acqs {
		per[a.group]++
	}
	ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
	b.ReportMetric(ms(percentile(lat, 0.50)), "p50-ms")
	b.ReportMetric(ms(percentile(lat, 0.99)), "p99-ms")
	b.ReportMetric(ms(percentile(lat, 1)), "max-ms")
	b.ReportMetric(ms(percentile(switched, 0.50)), "switch-p50-ms")
	b.ReportMetric(float64(len(switched))*100/float64(max(len(lat), 1)), "switch-%")
	b.ReportMetric(float64(h.requests()-before)/float64(b.N), "requests/acquisition")
	b.ReportMetric(float64(slices.Min(per)), "min-acq/"+h.groupName)
	b.ReportMetric(float64(slices.Max(per)), "max-acq/"+h.groupName)
}

// contend runs the workers until they have made b.N acquisitions between
// them, and returns those.
func (h handoff) contend(b *testing.B) []acquisition {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	var (
		mu      sync.Mutex
		acqs    = make([]acquisition, 0, b.N)
		tickets atomic.Int64
		wg      sync.WaitGroup
	)
	start := time.Now()
	for _, w := range h.workers {
		wg.Go(func() {
			// A ticket per acquisition, taken before Lock, so that exactly
			// b.N acquisitions happen and every waiter holding a ticket
			// eventually gets its turn.
			for tickets.Add(1) <= int64(b.N) {
				lctx, err := w.m.Lock(ctx)
				if err != nil {
					b.Errorf("Lock: %v", err)
					return
				}
				locked := time.Since(start)
				l, _ := dynamutex.LeaseFrom(lctx)
				time.Sleep(handoffHold)
				if err := w.m.Unlock(ctx); err != nil {
					b.Errorf("Unlock: %v", err)
					return
				}
				unlocked := time.Since(start)
				mu.Lock()
				acqs = append(acqs, acquisition{token: l.Token(), group: w.group, locked: locked, unlocked: unlocked})
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	return acqs
}

// percentile of ds by the nearest-rank method; 0 for no samples. It sorts ds.
func percentile(ds []time.Duration, p float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	slices.Sort(ds)
	i := int(math.Ceil(p*float64(len(ds)))) - 1
	return ds[min(max(i, 0), len(ds)-1)]
}

func percentileF(xs []float64, p float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	slices.Sort(xs)
	i := int(math.Ceil(p*float64(len(xs)))) - 1
	return xs[min(max(i, 0), len(xs)-1)]
}
