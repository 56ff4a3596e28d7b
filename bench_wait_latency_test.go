package dynamutex_test

import (
	"cmp"
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dynamutex/dynamutex"
)

// yieldHold bounds the random hold of BenchmarkWaitLatency: uniform in
// [5 ms, 205 ms), so that a release falls anywhere in a waiter's backoff
// rather than always at the same point of it.
const (
	yieldHoldMin  = 5 * time.Millisecond
	yieldHoldSpan = 200 * time.Millisecond
)

// waitContender is one Session of a contention benchmark, with the
// transport that counts its requests.
type waitContender struct {
	m  *dynamutex.Mutex
	tr *tap
}

func openContenders(b *testing.B, n int, opts []dynamutex.Option) []waitContender {
	var (
		cs    []waitContender
		table string
	)
	for i := range n {
		c, tr := newClient(b)
		if i == 0 {
			table = newTable(b, c)
		}
		cs = append(cs, waitContender{m: openSession(b, c, table, opts...).NewMutex("wait"), tr: tr})
	}
	return cs
}

// reportRequests reports the contenders' acquire writes, claim writes and
// reads per acquisition.
func reportRequests(b *testing.B, cs []waitContender, acquisitions int) {
	var writes, claims, reads int
	for _, c := range cs {
		writes += c.tr.count(opAcquire)
		claims += c.tr.count(opClaim)
		reads += c.tr.count("GetItem")
	}
	b.ReportMetric(float64(writes)/float64(max(acquisitions, 1)), "acquire-writes/acq")
	b.ReportMetric(float64(claims)/float64(max(acquisitions, 1)), "claim-writes/acq")
	b.ReportMetric(float64(reads)/float64(max(acquisitions, 1)), "reads/acq")
}

// BenchmarkWaitLatency (not named Handoff, to stay out of the Handoff
// group's pattern and CI's) measures handoff to a waiter in another Session,
// from the holder's Unlock returning to the next holder's Lock returning.
// A contender that unlocked waits until another has the lock before it
// locks again, so every handoff goes to a waiter: with 2 Sessions there is
// always exactly one waiter, with 8 there are seven. Each hold is random in
// [5 ms, 205 ms). Default lease (20 s). One iteration is one acquisition.
func BenchmarkWaitLatency(b *testing.B) {
	for _, n := range []int{2, 8} {
		for _, mode := range waitModes {
			b.Run(fmt.Sprintf("sessions=%d/wait=%s", n, mode.name), func(b *testing.B) {
				cs := openContenders(b, n, mode.options(b))
				runYieldHandoff(b, cs)
			})
		}
	}
}

type yieldAcq struct {
	token            uint64
	locked, unlocked time.Time
}

func runYieldHandoff(b *testing.B, cs []waitContender) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	var (
		mu       sync.Mutex
		acqs     = make([]yieldAcq, 0, b.N)
		tickets  atomic.Int64
		acquired atomic.Int64
		wg       sync.WaitGroup
	)
	b.ResetTimer()
	for i, c := range cs {
		rng := rand.New(rand.NewPCG(uint64(i), 1))
		wg.Go(func() {
			for tickets.Add(1) <= int64(b.N) {
				lctx, err := c.m.Lock(ctx)
				if err != nil {
					b.Errorf("Lock: %v", err)
					return
				}
				a := yieldAcq{locked: time.Now()}
				mine := acquired.Add(1)
				l, _ := dynamutex.LeaseFrom(lctx)
				a.token = l.Token()
				time.Sleep(yieldHoldMin + time.Duration(rng.Int64N(int64(yieldHoldSpan))))
				if err := c.m.Unlock(ctx); err != nil {
					b.Errorf("Unlock: %v", err)
					return
				}
				a.unlocked = time.Now()
				mu.Lock()
				acqs = append(acqs, a)
				mu.Unlock()
				// Yield: lock again only once someone else has, or all
				// the acquisitions are done.
				for acquired.Load() == mine && mine < int64(b.N) {
					time.Sleep(time.Millisecond)
				}
			}
		})
	}
	wg.Wait()
	b.StopTimer()
	if b.Failed() {
		return
	}
	slices.SortFunc(acqs, func(x, y yieldAcq) int { return cmp.Compare(x.token, y.token) })
	var lat []time.Duration
	for i := 1; i < len(acqs); i++ {
		lat = append(lat, max(acqs[i].locked.Sub(acqs[i-1].unlocked), 0))
	}
	ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
	// With 100 acquisitions (99 handoffs) p99 is the largest: p90 says more.
	b.ReportMetric(ms(percentile(lat, 0.50)), "p50-ms")
	b.ReportMetric(ms(percentile(lat, 0.90)), "p90-ms")
	b.ReportMetric(ms(percentile(lat, 0.99)), "p99-ms")
	b.ReportMetric(ms(percentile(lat, 1)), "max-ms")
	reportRequests(b, cs, len(acqs))
}

// fairnessRun is how long BenchmarkWaitFairness lets its Sessions contend.
const fairnessRun = 20 * time.Second

// BenchmarkWaitFairness has 8 Sessions lock one key at once for 20 s,
// each holding it 5 ms and locking again the moment it unlocks. It reports
// acquisitions per Session (min, max), Jain's fairness index (sum x)² /
// (n · sum x²) over them (1 when every Session got as many, 1/n when one
// got all), the longest wait of any Lock call (a call still waiting when
// the run ends counts with what it had waited), and throughput. Default
// lease (20 s). Run it with -benchtime 1x: one iteration is one 20 s run.
func BenchmarkWaitFairness(b *testing.B) {
	for _, mode := range waitModes {
		b.Run("sessions=8/wait="+mode.name, func(b *testing.B) {
			cs := openContenders(b, 8, mode.options(b))
			b.ResetTimer()
			var per []int
			var longest time.Duration
			for range b.N {
				p, w := contend(b, cs)
				if per == nil {
					per = make([]int, len(p))
				}
				for i := range p {
					per[i] += p[i]
				}
				longest = max(longest, w)
			}
			b.StopTimer()
			total, squares := 0.0, 0.0
			for _, x := range per {
				total += float64(x)
				squares += float64(x) * float64(x)
			}
			b.ReportMetric(float64(slices.Min(per)), "min-acq/session")
			b.ReportMetric(float64(slices.Max(per)), "max-acq/session")
			b.ReportMetric(total*total/(float64(len(per))*squares), "jain")
			b.ReportMetric(float64(longest)/float64(time.Millisecond), "max-wait-ms")
			b.ReportMetric(total/(fairnessRun.Seconds()*float64(b.N)), "acq/s")
			reportRequests(b, cs, int(total))
		})
	}
}

// contend runs cs against each other for fairnessRun and returns each
// one's acquisitions and the longest wait of a Lock call.
func contend(b *testing.B, cs []waitContender) ([]int, time.Duration) {
	ctx, cancel := context.WithTimeout(context.Background(), fairnessRun)
	defer cancel()
	per := make([]int, len(cs))
	waits := make([]time.Duration, len(cs))
	var wg sync.WaitGroup
	for i, c := range cs {
		wg.Go(func() {
			for {
				start := time.Now()
				_, err := c.m.Lock(ctx)
				waits[i] = max(waits[i], time.Since(start))
				if err != nil {
					if ctx.Err() == nil {
						b.Errorf("Lock: %v", err)
					}
					return
				}
				per[i]++
				time.Sleep(5 * time.Millisecond)
				if err := c.m.Unlock(context.Background()); err != nil {
					b.Errorf("Unlock: %v", err)
					return
				}
			}
		})
	}
	wg.Wait()
	return per, slices.Max(waits)
}
