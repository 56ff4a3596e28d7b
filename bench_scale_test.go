package dynamutex_test

import (
	"context"
	"fmt"
	"net"
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
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/google/uuid"

	"github.com/dynamutex/dynamutex"
	"github.com/dynamutex/dynamutex/internal/localdb"
	"github.com/dynamutex/dynamutex/internal/wire"
)

// BenchmarkHeldLocks holds many locks in one Session through several
// heartbeat periods. One iteration acquires them all, holds them for 2.5
// periods (20 in the third case) and unlocks them all; run it with
// -benchtime 1x. Reported:
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
//     loop's limit (DefaultParallelism), that limit is what holds renewals
//     back.
//   - new-conns/period: TCP connections dialled per heartbeat period while
//     holding, after the first period, in which the renewals open their
//     pool (first-period-conns). Against DynamoDB each is a TLS handshake.
//     The client keeps as many idle connections per host as the SDK's
//     default client does (awshttp.DefaultHTTPTransportMaxIdleConnsPerHost),
//     so that this is what a caller on the defaults gets: 0 once the
//     renewals in flight never outnumber the idle pool.
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
//
// The third case, 1,000 locks on a 2 s lease renewed every 500 ms for 20
// periods, asks for 2,000 renewals a second, more than the emulator
// sustains here: the renewals in flight stay at the loop's limit, which is
// where a limit above the client's idle pool makes it dial a connection
// again and again. Its intervals measure the emulator's backlog.
func BenchmarkHeldLocks(b *testing.B) {
	for _, tc := range []struct {
		name                   string
		locks                  int
		lease, heartbeat, safe time.Duration
		periods                float64 // holding, after all are acquired
	}{
		{"locks=1000", 1000, 15 * time.Second, 5 * time.Second, 10 * time.Second, 2.5},
		{"locks=10000", 10000, 45 * time.Second, 15 * time.Second, 30 * time.Second, 2.5},
		{"locks=1000,heartbeat=2s", 1000, 8 * time.Second, 2 * time.Second, 6 * time.Second, 8},
	} {
		b.Run(tc.name, func(b *testing.B) {
			benchHeldLocks(b, heldCase{tc.locks, tc.heartbeat, tc.periods},
				dynamutex.WithLeaseDuration(tc.lease), dynamutex.WithHeartbeatPeriod(tc.heartbeat),
				dynamutex.WithSafeTime(tc.safe), dynamutex.WithExpiry(time.Hour))
		})
	}
}

// heldCase is one size of BenchmarkHeldLocks.
type heldCase struct {
	locks     int
	heartbeat time.Duration
	periods   float64 // how long the locks are held, once all are acquired
}

const (
	heldWorkers  = 16
	heldPerKey   = 32 // write send times kept per lock: more than it makes
	heldSampleGo = 100 * time.Millisecond
)

func benchHeldLocks(b *testing.B, hc heldCase, opts ...dynamutex.Option) {
	n, heartbeat := hc.locks, hc.heartbeat
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()

	// Everything the recorder keeps is allocated here, before the heap
	// baseline, so that it is not charged to the held locks.
	rec := newHeldRecorder(n)
	keys := make([]string, n)
	for i := range keys {
		keys[i] = "held/" + strconv.Itoa(i)
	}
	tr := localdb.Transport()
	tr.MaxIdleConnsPerHost = awshttp.DefaultHTTPTransportMaxIdleConnsPerHost
	dial := tr.DialContext
	tr.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		rec.dials.Add(1)
		return dial(ctx, network, addr)
	}
	// The recorder goes straight to the network transport: the counting
	// transport of the other tests decodes every body into maps, which would
	// be charged to CPU per renewal.
	send := &sendRecorder{next: tr, onSend: rec.onSend, onDone: rec.onDone}
	c := localdb.Client(localdb.Endpoint(b), send, func(o *dynamodb.Options) { o.RetryMaxAttempts = 1 })
	table := newTable(b, c)
	hb := &heldBench{
		b: b, ctx: ctx, sess: newSession(b, c, table, opts...), keys: keys,
		heartbeat: heartbeat, periods: hc.periods, rec: rec,
		ms: make([]*dynamutex.Mutex, n), lctxs: make([]context.Context, n),
	}
	hb.warmUp()
	if b.Failed() {
		return
	}
	b.ResetTimer()
	for range b.N {
		if !hb.iterate() {
			return
		}
	}
	b.StopTimer()
	raw := rawWriteCPU(ctx, b, rawKeys{c, table, keys}, hb.st.rate)
	hb.report(raw)
}

// heldRecorder keeps the send times of the held locks' acquires and
// renewals, and the renewals' round trips, for the sendRecorder.
type heldRecorder struct {
	mu        sync.Mutex
	sends     []time.Duration // heldPerKey per lock
	nsends    []int
	overflow  int
	renewals  int
	renewTime time.Duration // summed over the renewals' round trips
	maxRTT    time.Duration
	epoch     time.Time
	dials     atomic.Int64 // TCP connections the client opened
}

func newHeldRecorder(n int) *heldRecorder {
	return &heldRecorder{
		sends:  make([]time.Duration, n*heldPerKey),
		nsends: make([]int, n),
		epoch:  time.Now(),
	}
}

func (r *heldRecorder) onSend(op, key string, at time.Time) {
	if op != opAcquire && op != opRenew {
		return
	}
	i, err := strconv.Atoi(strings.TrimPrefix(key, "held/"))
	if err != nil || i < 0 || i >= len(r.nsends) {
		return
	}
	r.mu.Lock()
	if op == opRenew {
		r.renewals++
	}
	if r.nsends[i] < heldPerKey {
		r.sends[i*heldPerKey+r.nsends[i]] = at.Sub(r.epoch)
		r.nsends[i]++
	} else {
		r.overflow++
	}
	r.mu.Unlock()
}

func (r *heldRecorder) onDone(op string, took time.Duration) {
	if op == opRenew {
		r.mu.Lock()
		r.renewTime += took
		r.maxRTT = max(r.maxRTT, took)
		r.mu.Unlock()
	}
}

func (r *heldRecorder) renewCount() (int, time.Duration) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.renewals, r.renewTime
}

func (r *heldRecorder) reset() {
	r.mu.Lock()
	clear(r.nsends)
	r.mu.Unlock()
}

// intervals adds the intervals between consecutive sends of each lock, in
// heartbeats, to st. It must run only once no write of the locks can be in
// flight.
func (r *heldRecorder) intervals(st *heldStats, heartbeat, unlocking time.Duration) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for i := range r.nsends {
		s := r.sends[i*heldPerKey : i*heldPerKey+r.nsends[i]]
		for j := 1; j < len(s); j++ {
			x := float64(s[j]-s[j-1]) / float64(heartbeat)
			if j == 1 {
				// From the acquire, the first renewal is due 0.75 to 1
				// period later: kept apart from the renewal intervals.
				st.firsts = append(st.firsts, x)
				continue
			}
			if s[j] >= unlocking {
				// 16 goroutines releasing every lock saturate the
				// emulator, and renewals still due wait behind them.
				// That is the benchmark's burst, not the holding.
				st.unlockRatios = append(st.unlockRatios, x)
				continue
			}
			st.ratios = append(st.ratios, x)
			if x > 1.5 {
				st.late++
			}
			st.total++
		}
	}
}

// heldStats are BenchmarkHeldLocks' figures: the maxima, counts and
// intervals gather over the iterations, the rest are the last one's.
type heldStats struct {
	maxGo, maxOthers, baseGo         int
	heapPerLock, cpuPerRenewal, rate float64
	acqRate, inFlight, rtt           float64
	firstConns, connsPerPeriod       float64
	late, total                      int
	ratios, firsts, unlockRatios     []float64
	ended                            int
}

// heldBench is one run of BenchmarkHeldLocks: its Session, locks and
// recorder, and the figures gathered so far.
type heldBench struct {
	b         *testing.B
	ctx       context.Context
	sess      *dynamutex.Session
	keys      []string
	heartbeat time.Duration
	periods   float64
	rec       *heldRecorder
	ms        []*dynamutex.Mutex
	lctxs     []context.Context
	st        heldStats
}

// inParallel calls do for each index below n from heldWorkers goroutines,
// each taking the next index until none is left or its do returns false.
func inParallel(n int, do func(i int) bool) { eachOf(n, heldWorkers, do) }

// eachOf calls do for each index below n from workers goroutines, each
// taking the next index until none is left or its do returns false.
func eachOf(n, workers int, do func(i int) bool) {
	var wg sync.WaitGroup
	var next atomic.Int64
	for range workers {
		wg.Go(func() {
			for i := int(next.Add(1)) - 1; i < n; i = int(next.Add(1)) - 1 {
				if !do(i) {
					return
				}
			}
		})
	}
	wg.Wait()
}

// warmUp runs Lock/Unlock cycles on the first keys. A JVM that has not yet
// compiled the emulator's write path answers renewals ten times slower,
// which the first of these benchmarks to run would report as late renewals.
// The cycles also create the first records, so that part of the
// acquisitions update an item instead of creating one.
func (hb *heldBench) warmUp() {
	inParallel(min(len(hb.keys), 2000), func(i int) bool {
		m := hb.sess.NewMutex(hb.keys[i])
		if _, err := m.Lock(hb.ctx); err != nil {
			hb.b.Errorf("warm-up Lock %d: %v", i, err)
			return false
		}
		if err := m.Unlock(hb.ctx); err != nil {
			hb.b.Errorf("warm-up Unlock %d: %v", i, err)
			return false
		}
		return true
	})
}

// iterate is one iteration: acquire all, hold, release all. It reports
// false if an acquisition failed.
func (hb *heldBench) iterate() bool {
	b := hb.b
	b.StopTimer()
	hb.rec.reset()
	clear(hb.ms) // the previous iteration's must not count in the baseline
	clear(hb.lctxs)
	hb.st.baseGo = quietGoroutines()
	base := liveHeap()
	b.StartTimer()

	if !hb.acquireAll() {
		return false
	}
	hb.measureHeap(base)
	hb.hold()
	unlocking := hb.releaseAll()

	b.StopTimer()
	// Every release has returned, so no renewal of these locks is in
	// flight and the recorder's arrays are final.
	hb.rec.intervals(&hb.st, hb.heartbeat, unlocking)
	b.StartTimer()
	return true
}

func (hb *heldBench) acquireAll() bool {
	t0 := time.Now()
	inParallel(len(hb.keys), func(i int) bool {
		hb.ms[i] = hb.sess.NewMutex(hb.keys[i])
		lctx, err := hb.ms[i].Lock(hb.ctx)
		if err != nil {
			hb.b.Errorf("Lock %d: %v", i, err)
			return false
		}
		hb.lctxs[i] = lctx
		return true
	})
	if hb.b.Failed() {
		return false
	}
	hb.st.acqRate = float64(len(hb.keys)) / time.Since(t0).Seconds()
	return true
}

func (hb *heldBench) measureHeap(base heapSample) {
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
	hb.st.heapPerLock = float64(int64(held.bytes)-int64(base.bytes)) / float64(len(hb.keys))
}

// hold keeps the locks for hb.periods heartbeats, sampling the goroutine
// count, and measures the renewals sent and the connections opened
// meanwhile.
func (hb *heldBench) hold() {
	st := &hb.st
	from := time.Now()
	cpu0 := cpuTime()
	r0, rt0 := hb.rec.renewCount()
	d0 := hb.rec.dials.Load()
	d1 := int64(-1) // dials at the end of the first period
	var ticks int
	for time.Since(from) < time.Duration(hb.periods*float64(hb.heartbeat)) {
		if d1 < 0 && time.Since(from) >= hb.heartbeat {
			d1 = hb.rec.dials.Load()
		}
		st.maxGo = max(st.maxGo, runtime.NumGoroutine())
		// A full stack dump stops the world, so only now and then.
		if ticks%10 == 0 {
			o, _ := goroutineCounts()
			st.maxOthers = max(st.maxOthers, o)
		}
		ticks++
		time.Sleep(heldSampleGo)
	}
	window := time.Since(from)
	d2 := hb.rec.dials.Load()
	st.firstConns = float64(d1 - d0)
	st.connsPerPeriod = float64(d2-d1) / (window - hb.heartbeat).Seconds() * hb.heartbeat.Seconds()
	r1, rt1 := hb.rec.renewCount()
	renewed := r1 - r0
	// By Little's law, the renewals in flight on average: against the
	// Session's limit (DefaultParallelism), it tells whether that limit or
	// the table held renewals back.
	st.inFlight = float64(rt1-rt0) / float64(window)
	st.rtt = float64(rt1-rt0) / float64(max(renewed, 1)) / float64(time.Millisecond)
	st.cpuPerRenewal = float64(cpuTime()-cpu0) / float64(time.Microsecond) / float64(max(renewed, 1))
	st.rate = float64(renewed) / window.Seconds()
	for _, lctx := range hb.lctxs {
		if lctx.Err() != nil {
			st.ended++
		}
	}
}

// releaseAll unlocks every lock and returns when, since the recorder's
// epoch, the releases began.
func (hb *heldBench) releaseAll() time.Duration {
	unlocking := time.Since(hb.rec.epoch)
	inParallel(len(hb.keys), func(i int) bool {
		if err := hb.ms[i].Unlock(hb.ctx); err != nil {
			hb.b.Errorf("Unlock %d: %v", i, err)
		}
		return true
	})
	return unlocking
}

func (hb *heldBench) report(raw float64) {
	b, st, n := hb.b, &hb.st, len(hb.keys)
	if hb.rec.overflow > 0 {
		b.Logf("%d write sends did not fit the recorder", hb.rec.overflow)
	}
	b.ReportMetric(float64(st.baseGo), "goroutines-base")
	b.ReportMetric(float64(st.maxGo), "goroutines")
	b.ReportMetric(float64(st.maxOthers), "goroutines-non-http")
	b.ReportMetric(st.heapPerLock, "heap-bytes/lock")
	b.ReportMetric(st.cpuPerRenewal, "cpu-us/renewal")
	b.ReportMetric(raw, "raw-cpu-us/write")
	b.ReportMetric(st.rate, "renewals/s")
	b.ReportMetric(float64(n)/hb.heartbeat.Seconds(), "needed-renewals/s")
	b.ReportMetric(st.acqRate, "acquires/s")
	b.ReportMetric(st.rtt, "renewal-rtt-ms")
	b.ReportMetric(st.inFlight, "renewals-in-flight")
	b.ReportMetric(st.firstConns, "first-period-conns")
	b.ReportMetric(st.connsPerPeriod, "new-conns/period")
	hb.rec.mu.Lock()
	b.ReportMetric(float64(hb.rec.maxRTT)/float64(time.Millisecond), "max-renewal-rtt-ms")
	hb.rec.mu.Unlock()
	b.ReportMetric(float64(st.late)*100/float64(max(st.total, 1)), "late-%")
	b.ReportMetric(percentileF(st.ratios, 0.99), "p99-interval/heartbeat")
	b.ReportMetric(percentileF(st.ratios, 1), "max-interval/heartbeat")
	b.ReportMetric(percentileF(st.firsts, 1), "max-first/heartbeat")
	b.ReportMetric(percentileF(st.unlockRatios, 1), "max-unlocking/heartbeat")
	b.Logf("%d renewal intervals in heartbeats: %s; %d acquire-to-first-renewal: %s; %d ending while unlocking: %s",
		st.total, histogram(st.ratios), len(st.firsts), histogram(st.firsts),
		len(st.unlockRatios), histogram(st.unlockRatios))
	b.ReportMetric(float64(st.ended), "ended-locks")
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
