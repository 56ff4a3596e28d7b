package dynamutex_test

import (
	"context"
	"fmt"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/google/uuid"

	"github.com/dynamutex/dynamutex"
	"github.com/dynamutex/dynamutex/internal/localdb"
	"github.com/dynamutex/dynamutex/internal/wire"
)

// BenchmarkHeldLocks holds many locks in one Session through several
// heartbeat periods. One iteration acquires them all, holds them for 2.5
// periods and unlocks them all; run it with -benchtime 1x. Reported:
//
//   - goroutines: the most seen while holding, HTTP connections included;
//     goroutines-base is the count before acquiring. Compare the two sizes:
//     it must not grow with the number of locks.
//   - heap-bytes/lock: live heap after acquiring all, minus before, over N;
//     the Mutex, the lock context and the Session's bookkeeping included.
//   - cpu-us/renewal: user+system CPU of the whole process (library, SDK,
//     HTTP, this benchmark's recorder) over the holding window, per renewal
//     sent in it. DynamoDB Local runs in another process and is not counted.
//     raw-cpu-us/write is the same for raw SDK writes at the same pace, so
//     the difference is the library's own cost.
//   - late-%: of the intervals between consecutive renewals of a lock sent
//     before the Unlock phase, those longer than 1.5 heartbeats; and the
//     longest and 99th-percentile interval in heartbeats. A renewal is due
//     one period after the previous one was sent, so a punctual Session
//     keeps every interval at 1. max-first is the longest time from the
//     acquire to the first renewal (due 0.75 to 1 period later), and
//     max-unlocking the longest interval ending while all locks are being
//     released, when the releases and the renewals still due share the
//     emulator.
//   - renewals/s during the hold, against locks/heartbeat needed, and the
//     rate at which 16 goroutines acquired the locks: what DynamoDB Local
//     and this machine sustain. renewal-rtt-ms is a renewal's mean round
//     trip and renewals-in-flight the mean number outstanding; near the
//     loop's limit of 16 (WithParallelism), that limit is what holds
//     renewals back.
//
// The heartbeats leave DynamoDB Local room: measured on the 2-core machine,
// the loop's 16 requests in flight renewed about 1,000 locks a second on a
// fresh emulator and 600 to 870 on a cold or busy one, and 16 goroutines
// acquired 200 to 1,400 locks a second (a cold JVM at the low end; creating
// an item costs the emulator more than updating one). With a 10 s heartbeat
// 10,000 locks need 1,000 renewals a second: on a busy machine that fell
// behind, and a fifth of the renewal intervals exceeded 1.5 periods, which
// measures the emulator, not the Session. So 10,000 locks get 15 s (667 a
// second) and 1,000 locks 5 s (200 a second, since they run first, against
// the coldest JVM).
func BenchmarkHeldLocks(b *testing.B) {
	for _, tc := range []struct {
		locks                  int
		lease, heartbeat, safe time.Duration
	}{
		{1000, 15 * time.Second, 5 * time.Second, 10 * time.Second},
		{10000, 45 * time.Second, 15 * time.Second, 30 * time.Second},
	} {
		b.Run(fmt.Sprintf("locks=%d", tc.locks), func(b *testing.B) {
			benchHeldLocks(b, tc.locks, tc.heartbeat,
				dynamutex.WithLeaseDuration(tc.lease), dynamutex.WithHeartbeatPeriod(tc.heartbeat),
				dynamutex.WithSafeTime(tc.safe), dynamutex.WithExpiry(time.Hour))
		})
	}
}

func benchHeldLocks(b *testing.B, n int, heartbeat time.Duration, opts ...dynamutex.Option) {
	const (
		workers  = 16
		periods  = 2.5 // holding, after all are acquired
		perKey   = 16  // write send times kept per lock: far more than it makes
		sampleGo = 100 * time.Millisecond
	)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()

	// Everything the recorder keeps is allocated here, before the heap
	// baseline, so that it is not charged to the held locks.
	var (
		mu        sync.Mutex
		sends     = make([]time.Duration, n*perKey)
		nsends    = make([]int, n)
		overflow  int
		renewals  int
		renewTime time.Duration // summed over the renewals' round trips
		maxRTT    time.Duration
		epoch     = time.Now()
	)
	keys := make([]string, n)
	for i := range keys {
		keys[i] = "held/" + strconv.Itoa(i)
	}
	tr := localdb.Transport()
	// The recorder goes straight to the network transport: the counting
	// transport of the other tests decodes every body into maps, which would
	// be charged to CPU per renewal.
	rec := &sendRecorder{next: tr, onSend: func(op, key string, at time.Time) {
		if op != opAcquire && op != opRenew {
			return
		}
		i, err := strconv.Atoi(strings.TrimPrefix(key, "held/"))
		if err != nil || i < 0 || i >= n {
			return
		}
		mu.Lock()
		if op == opRenew {
			renewals++
		}
		if nsends[i] < perKey {
			sends[i*perKey+nsends[i]] = at.Sub(epoch)
			nsends[i]++
		} else {
			overflow++
		}
		mu.Unlock()
	}, onDone: func(op string, took time.Duration) {
		if op == opRenew {
			mu.Lock()
			renewTime += took
			maxRTT = max(maxRTT, took)
			mu.Unlock()
		}
	}}
	c := localdb.Client(endpoint(b), rec, func(o *dynamodb.Options) { o.RetryMaxAttempts = 1 })
	table := newTable(b, c)
	sess := newSession(b, c, table, opts...)
	ms := make([]*dynamutex.Mutex, n)
	lctxs := make([]context.Context, n)

	// A JVM that has not yet compiled the emulator's write path answers
	// renewals ten times slower, which the first of these benchmarks to run
	// would report as late renewals. Lock/Unlock cycles warm it up; they also
	// create the first records, so that part of the acquisitions below
	// update an item instead of creating one.
	var warm sync.WaitGroup
	var warmNext atomic.Int64
	for range workers {
		warm.Go(func() {
			for i := int(warmNext.Add(1)) - 1; i < min(n, 2000); i = int(warmNext.Add(1)) - 1 {
				m := sess.NewMutex(keys[i])
				if _, err := m.Lock(ctx); err != nil {
					b.Errorf("warm-up Lock %d: %v", i, err)
					return
				}
				if err := m.Unlock(ctx); err != nil {
					b.Errorf("warm-up Unlock %d: %v", i, err)
					return
				}
			}
		})
	}
	warm.Wait()
	if b.Failed() {
		return
	}
	renewCount := func() (int, time.Duration) {
		mu.Lock()
		defer mu.Unlock()
		return renewals, renewTime
	}

	var (
		maxGo, maxOthers, baseGo         int
		heapPerLock, cpuPerRenewal, rate float64
		acqRate, inFlight, rtt           float64
		late, total                      int
		ratios, firsts, unlockRatios     []float64
		ended                            int
	)
	b.ResetTimer()
	for range b.N {
		b.StopTimer()
		mu.Lock()
		clear(nsends)
		mu.Unlock()
		clear(ms) // the previous iteration's must not count in the baseline
		clear(lctxs)
		baseGo = quietGoroutines()
		base := liveHeap()
		b.StartTimer()

		var wg sync.WaitGroup
		var next atomic.Int64
		t0 := time.Now()
		for range workers {
			wg.Go(func() {
				for i := int(next.Add(1)) - 1; i < n; i = int(next.Add(1)) - 1 {
					ms[i] = sess.NewMutex(keys[i])
					lctx, err := ms[i].Lock(ctx)
					if err != nil {
						b.Errorf("Lock %d: %v", i, err)
						return
					}
					lctxs[i] = lctx
				}
			})
		}
		wg.Wait()
		if b.Failed() {
			return
		}
		acqRate = float64(n) / time.Since(t0).Seconds()

		// Connections left idle by the acquiring goroutines are closed, so
		// that neither their buffers nor their goroutines count. Renewals may
		// be in flight at any moment, with their request buffers; the least
		// of a few samples is the closest to the locks' own cost.
		localdb.CloseIdle()
		held := liveHeap()
		for range 2 {
			time.Sleep(50 * time.Millisecond)
			if h := liveHeap(); h.bytes < held.bytes {
				held = h
			}
		}
		heapPerLock = float64(int64(held.bytes)-int64(base.bytes)) / float64(n)

		from := time.Now()
		cpu0 := cpuTime()
		r0, rt0 := renewCount()
		var ticks int
		for time.Since(from) < time.Duration(periods*float64(heartbeat)) {
			maxGo = max(maxGo, runtime.NumGoroutine())
			// A full stack dump stops the world, so only now and then.
			if ticks%10 == 0 {
				o, _ := goroutineCounts()
				maxOthers = max(maxOthers, o)
			}
			ticks++
			time.Sleep(sampleGo)
		}
		window := time.Since(from)
		r1, rt1 := renewCount()
		renewed := r1 - r0
		// By Little's law, the renewals in flight on average: against the
		// Session's limit of 16, it tells whether that limit or the table
		// held renewals back.
		inFlight = float64(rt1-rt0) / float64(window)
		rtt = float64(rt1-rt0) / float64(max(renewed, 1)) / float64(time.Millisecond)
		cpuPerRenewal = float64(cpuTime()-cpu0) / float64(time.Microsecond) / float64(max(renewed, 1))
		rate = float64(renewed) / window.Seconds()
		for _, lctx := range lctxs {
			if lctx.Err() != nil {
				ended++
			}
		}

		unlocking := time.Since(epoch)
		next.Store(0)
		for range workers {
			wg.Go(func() {
				for i := int(next.Add(1)) - 1; i < n; i = int(next.Add(1)) - 1 {
					if err := ms[i].Unlock(ctx); err != nil {
						b.Errorf("Unlock %d: %v", i, err)
					}
				}
			})
		}
		wg.Wait()

		b.StopTimer()
		// Every release has returned, so no renewal of these locks is in
		// flight and the recorder's arrays are final.
		mu.Lock()
		for i := range n {
			s := sends[i*perKey : i*perKey+nsends[i]]
			for j := 1; j < len(s); j++ {
				r := float64(s[j]-s[j-1]) / float64(heartbeat)
				if j == 1 {
					// From the acquire, the first renewal is due 0.75 to 1
					// period later: kept apart from the renewal intervals.
					firsts = append(firsts, r)
					continue
				}
				if s[j] >= unlocking {
					// 16 goroutines releasing every lock saturate the
					// emulator, and renewals still due wait behind them.
					// That is the benchmark's burst, not the holding.
					unlockRatios = append(unlockRatios, r)
					continue
				}
				ratios = append(ratios, r)
				if r > 1.5 {
					late++
				}
				total++
			}
		}
		mu.Unlock()
		b.StartTimer()
	}
	b.StopTimer()
	raw := rawWriteCPU(ctx, b, rawKeys{c, table, keys}, rate)
	if overflow > 0 {
		b.Logf("%d write sends did not fit the recorder", overflow)
	}
	b.ReportMetric(float64(baseGo), "goroutines-base")
	b.ReportMetric(float64(maxGo), "goroutines")
	b.ReportMetric(float64(maxOthers), "goroutines-non-http")
	b.ReportMetric(heapPerLock, "heap-bytes/lock")
	b.ReportMetric(cpuPerRenewal, "cpu-us/renewal")
	b.ReportMetric(raw, "raw-cpu-us/write")
	b.ReportMetric(rate, "renewals/s")
	b.ReportMetric(float64(n)/heartbeat.Seconds(), "needed-renewals/s")
	b.ReportMetric(acqRate, "acquires/s")
	b.ReportMetric(rtt, "renewal-rtt-ms")
	b.ReportMetric(inFlight, "renewals-in-flight")
	mu.Lock()
	b.ReportMetric(float64(maxRTT)/float64(time.Millisecond), "max-renewal-rtt-ms")
	mu.Unlock()
	b.ReportMetric(float64(late)*100/float64(max(total, 1)), "late-%")
	b.ReportMetric(percentileF(ratios, 0.99), "p99-interval/heartbeat")
	b.ReportMetric(percentileF(ratios, 1), "max-interval/heartbeat")
	b.ReportMetric(percentileF(firsts, 1), "max-first/heartbeat")
	b.ReportMetric(percentileF(unlockRatios, 1), "max-unlocking/heartbeat")
	b.Logf("%d renewal intervals in heartbeats: %s; %d acquire-to-first-renewal: %s; %d ending while unlocking: %s",
		total, histogram(ratios), len(firsts), histogram(firsts), len(unlockRatios), histogram(unlockRatios))
	b.ReportMetric(float64(ended), "ended-locks")
}

// rawKeys are the records a raw write goes to.
type rawKeys struct {
	c     *dynamodb.Client
	table string
	keys  []string
}

// rawWriteCPU is the floor under cpu-us/renewal: the process CPU per write
// of renewal-shaped conditional writes sent with the raw SDK through the same
// client and recorder, paced at rate a second over 16 goroutines like the
// heartbeat loop's renewals, for about two seconds. The recorder counts them
// as renewals; its figures have been read by then.
func rawWriteCPU(ctx context.Context, b *testing.B, at rawKeys, rate float64) float64 {
	c, table, keys := at.c, at.table, at.keys
	count := min(len(keys), int(2*rate)+1)
	if rate <= 0 || count == 0 {
		return 0
	}
	// Lighter than wire.Replace on purpose: conditional on the record existing
	// rather than on its version, so no version need be tracked per key.
	names := map[string]string{"#v": wire.AttrVersion, "#e": wire.AttrExpires}
	exp := avN(itoa(time.Now().Add(time.Hour).Unix()))
	jobs := make(chan string)
	var wg sync.WaitGroup
	for range 16 {
		wg.Go(func() {
			for k := range jobs {
				_, err := c.UpdateItem(ctx, &dynamodb.UpdateItemInput{
					TableName: aws.String(table), Key: map[string]types.AttributeValue{"key": avS(k)},
					UpdateExpression:                    aws.String("SET #v = :nv, #e = :e"),
					ConditionExpression:                 aws.String("attribute_exists(#v)"),
					ExpressionAttributeNames:            names,
					ExpressionAttributeValues:           map[string]types.AttributeValue{":nv": avS(uuid.NewString()), ":e": exp},
					ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
				})
				if err != nil {
					b.Errorf("raw write: %v", err)
				}
			}
		})
	}
	cpu0 := cpuTime()
	t := time.NewTicker(time.Duration(float64(time.Second) / rate))
	for _, k := range keys[:count] {
		<-t.C
		jobs <- k
	}
	t.Stop()
	close(jobs)
	wg.Wait()
	return float64(cpuTime()-cpu0) / float64(time.Microsecond) / float64(count)
}

// cpuTime is the user plus system CPU time the process has used.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// histogram counts xs, in heartbeats, in the ranges a reader of
// BenchmarkHeldLocks cares about.
func histogram(xs []float64) string {
	bounds := []float64{0.75, 1.0, 1.01, 1.05, 1.1, 1.5}
	counts := make([]int, len(bounds)+1)
	for _, x := range xs {
		i, _ := slices.BinarySearch(bounds, x)
		counts[i]++
	}
	var sb strings.Builder
	for i, n := range counts {
		if i > 0 {
			sb.WriteString(" ")
		}
		switch {
		case i == 0:
			fmt.Fprintf(&sb, "<%.2f:%d", bounds[0], n)
		case i == len(bounds):
			fmt.Fprintf(&sb, ">%.2f:%d", bounds[i-1], n)
		default:
			fmt.Fprintf(&sb, "%.2f-%.2f:%d", bounds[i-1], bounds[i], n)
		}
	}
	return sb.String()
}
