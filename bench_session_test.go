//go:build dynamodblocal

package dynamutex_test

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/dynamutex/dynamutex"
	"github.com/dynamutex/dynamutex/internal/localdb"
)

// Session leases (WithSessionLease) against per-lock leases, on DynamoDB
// Local: what holding many locks costs in each mode, how soon a revoked
// Session's holder learns it, and how fast a dead Session's locks are
// taken. These benchmarks count capacity units and TCP dials, which only
// DynamoDB Local can answer, hence the build tag. Their names match none
// of the patterns CI runs at 10 iterations: BenchmarkSessionHeld holds for
// ten 15 s periods per case.

// meteredDB is a client of DynamoDB Local that counts what the library
// sends through it: writes and the write capacity units DynamoDB reports
// for them (ReturnConsumedCapacity, on a copy of the library's input),
// requests per partition key, and the TCP connections its transport dials.
// It can also hold back every request on a Session record (pause), and
// tell a hook of each reply.
type meteredDB struct {
	*dynamodb.Client
	dials atomic.Int64

	mu      sync.Mutex
	writes  int     // UpdateItem requests sent
	wcu     float64 // write capacity units the replies reported
	refused int     // writes refused by their condition: DynamoDB charges 1 WCU each, unreported
	reads   int
	byKey   map[string]keyCount
	gate    chan struct{} // non-nil while requests on Session records are held
	failing bool          // with gate: answer them at once with a 500 instead
	onReply func(op, key string, err error, at time.Time)
}

func newMeteredDB(b *testing.B) *meteredDB {
	m := &meteredDB{byKey: map[string]keyCount{}}
	tr := localdb.Transport()
	d := &net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}
	tr.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		m.dials.Add(1)
		return d.DialContext(ctx, network, addr)
	}
	m.Client = localdb.Client(localdb.Endpoint(b), tr, localdb.NoRetries)
	return m
}

func (m *meteredDB) UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error) {
	key := lockKeyOf(in)
	if err := m.held(ctx, key); err != nil {
		return nil, opError("UpdateItem", err)
	}
	withCap := *in
	withCap.ReturnConsumedCapacity = types.ReturnConsumedCapacityTotal
	m.count(key, true)
	out, err := m.Client.UpdateItem(ctx, &withCap, optFns...)
	at := time.Now()
	m.mu.Lock()
	var ccf *types.ConditionalCheckFailedException
	switch {
	case err == nil && out.ConsumedCapacity != nil:
		m.wcu += aws.ToFloat64(out.ConsumedCapacity.CapacityUnits)
	case errors.As(err, &ccf):
		m.refused++
	}
	hook := m.onReply
	m.mu.Unlock()
	if hook != nil {
		hook(classifyUpdate(aws.ToString(in.UpdateExpression)), key, err, at)
	}
	return out, err
}

func (m *meteredDB) GetItem(ctx context.Context, in *dynamodb.GetItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error) {
	key := lockKeyOf(in)
	if err := m.held(ctx, key); err != nil {
		return nil, opError("GetItem", err)
	}
	m.count(key, false)
	return m.Client.GetItem(ctx, in, optFns...)
}

func (m *meteredDB) count(key string, write bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	kc := m.byKey[key]
	if write {
		m.writes++
		kc.writes++
	} else {
		m.reads++
		kc.reads++
	}
	m.byKey[key] = kc
}

// held applies the pause to a request on key: a request on a Session
// record waits to be let through, or for its context to end, or fails at
// once with an error reply if the pause is failing.
func (m *meteredDB) held(ctx context.Context, key string) error {
	m.mu.Lock()
	gate, failing := m.gate, m.failing
	m.mu.Unlock()
	if gate == nil || !isSessionKey(key) {
		return nil
	}
	if failing {
		return injectedReply(fault{status: 500})
	}
	select {
	case <-gate:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// pause holds back every request on a Session record until resume: each
// waits, as on a network gone quiet, or with failing is answered at once
// with an error reply (HTTP 500), as by an unreachable endpoint.
func (m *meteredDB) pause(failing bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.gate == nil {
		m.gate = make(chan struct{})
	}
	m.failing = failing
}

func (m *meteredDB) resume() {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.gate != nil {
		close(m.gate)
		m.gate = nil
	}
}

// meterSnapshot is what a meteredDB has counted so far.
type meterSnapshot struct {
	writes, refused, reads int
	wcu                    float64
	dials                  int64
}

func (m *meteredDB) snapshot() meterSnapshot {
	m.mu.Lock()
	defer m.mu.Unlock()
	return meterSnapshot{writes: m.writes, refused: m.refused, reads: m.reads, wcu: m.wcu, dials: m.dials.Load()}
}

func (m *meteredDB) setOnReply(f func(op, key string, err error, at time.Time)) {
	m.mu.Lock()
	m.onReply = f
	m.mu.Unlock()
}

// reserveKeys gives every key its entry in the per-key counts now, so that
// counting requests later grows no map: the heap measured while locks are
// held is then the library's, not the meter's.
func (m *meteredDB) reserveKeys(keys []string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, k := range keys {
		m.byKey[k] = m.byKey[k]
	}
}

// keyCount is the requests a meteredDB sent on one record.
type keyCount struct{ reads, writes int }

// keyCounts returns the requests sent per partition key since the last call,
// and starts counting afresh.
func (m *meteredDB) keyCounts() map[string]keyCount {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := m.byKey
	m.byKey = map[string]keyCount{}
	return out
}

// sessionMode is one way of keeping locks alive.
type sessionMode struct {
	name string
	opts []dynamutex.Option
}

var sessionModes = []sessionMode{
	{"per-lock", nil},
	{"session", []dynamutex.Option{dynamutex.WithSessionLease()}},
}

// processCPU is the user plus system CPU time the process has used
// (getrusage).
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkSessionHeld holds N locks (1,000 and 10,000) in one Session for
// ten heartbeat periods, renewed per lock (mode=per-lock) or by one
// Session record (mode=session), and reports, over the hold:
//
//   - writes/period: UpdateItem requests sent, over the periods; needed is
//     what keeping every lock takes (N per-lock, 1 with a session lease).
//   - wcu/period: the write capacity units DynamoDB Local reported for them
//     (ReturnConsumedCapacity TOTAL), plus 1 for each write refused by its
//     condition, whose error reply carries none; refused counts those.
//   - heap-bytes/lock: live heap after acquiring all, less before, over N;
//     the Mutex, the Lease and the library's bookkeeping, with the lock
//     contexts not yet used. heap-bytes/lock-ctx-used is the same once
//     Done has been called on every lock context, which makes its
//     cancellation (a context.WithCancelCause of the caller's context) and
//     its done channel, as passing it to any request does.
//   - goroutines: the most seen while holding (HTTP connections included);
//     goroutines-base before acquiring.
//   - cpu-s: user+system CPU of the whole process over the hold
//     (getrusage); DynamoDB Local runs in another process.
//   - new-conns: TCP connections dialled during the hold, and
//     new-conns-after-first-period after its first period. The heap
//     measurement closes idle connections just before the hold, so the
//     first renewals dial afresh; later dials are the connection churn of
//     holding itself.
//   - ended-locks: lock contexts that ended during the hold (danger or
//     loss): nonzero means the emulator did not keep up.
//
// Every case uses a 15 s heartbeat (45 s lease, 30 s safe time): the
// 10,000-lock per-lock case then needs 667 renewals a second, which
// BenchmarkHeldLocks found DynamoDB Local on this 2-core machine sustains,
// where a 10 s heartbeat fell behind. The 10,000-lock cases run only with
// -benchtime 1x and without -short: each iteration takes about three
// minutes.
func BenchmarkSessionHeld(b *testing.B) {
	sizes := []int{1000}
	if longBenchmarks() {
		sizes = append(sizes, 10000)
	} else {
		b.Log("the 10,000-lock cases run only with -benchtime 1x and without -short")
	}
	for _, n := range sizes {
		b.Run(fmt.Sprintf("locks=%d", n), func(b *testing.B) {
			for _, mode := range sessionModes {
				b.Run("mode="+mode.name, func(b *testing.B) { benchSessionHeld(b, n, mode) })
			}
		})
	}
}

// longBenchmarks reports whether the run asked for one iteration and is
// not -short: only then do the cases that take minutes per iteration run.
func longBenchmarks() bool {
	f := flag.Lookup("test.benchtime")
	return f != nil && f.Value.String() == "1x" && !testing.Short()
}

const (
	sessHeldLease     = 45 * time.Second
	sessHeldSafe      = 30 * time.Second
	sessHeldHeartbeat = 15 * time.Second
	sessHeldPeriods   = 10
	sessHeldWorkers   = 16
)

// heldFigures are one iteration's measurements of BenchmarkSessionHeld.
type heldFigures struct {
	baseGo, maxGo     int
	heapPerLock       float64
	heapPerLockUsed   float64 // once every lock context was used
	acquireRate       float64
	periods           float64
	from, to          meterSnapshot
	cpu               time.Duration
	ended, releaseErr int
	dialsAfterFirst   int64 // the dial count one period into the hold
}

func benchSessionHeld(b *testing.B, n int, mode sessionMode) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
	defer cancel()
	db := newMeteredDB(b)
	table := newTable(b, db)
	opts := append(leaseOptions(sessHeldLease, sessHeldSafe, sessHeldHeartbeat), mode.opts...)
	s := newSession(b, db, table, opts...)
	keys := make([]string, n)
	for i := range keys {
		keys[i] = "held/" + strconv.Itoa(i)
	}
	warmSession(ctx, b, s, keys[:min(n, 1000)])
	var f heldFigures
	hr := heldRun{b: b, s: s, db: db, keys: keys}
	b.ResetTimer()
	for range b.N {
		f = hr.holdAll(ctx)
		if b.Failed() {
			return
		}
	}
	b.StopTimer()
	f.report(b, n, mode)
}

// warmSession locks and unlocks keys once: the emulator's JIT answers its
// first thousands of requests far slower, and the records then exist, so
// that the measured acquisitions update items rather than create them.
func warmSession(ctx context.Context, b *testing.B, s *dynamutex.Session, keys []string) {
	eachOf(len(keys), sessHeldWorkers, func(i int) bool {
		m := s.NewMutex(keys[i])
		if _, err := m.Lock(ctx); err != nil {
			b.Errorf("warm-up Lock %d: %v", i, err)
			return false
		}
		if err := m.Unlock(ctx); err != nil {
			b.Errorf("warm-up Unlock %d: %v", i, err)
			return false
		}
		return true
	})
}

// heldRun is what the iterations of BenchmarkSessionHeld share.
type heldRun struct {
	b    *testing.B
	s    *dynamutex.Session
	db   *meteredDB
	keys []string
}

// holdAll acquires every key, holds them for sessHeldPeriods heartbeats
// and unlocks them all.
func (hr heldRun) holdAll(ctx context.Context) heldFigures {
	b, s, db, keys := hr.b, hr.s, hr.db, hr.keys
	b.StopTimer()
	var f heldFigures
	ms := make([]*dynamutex.Mutex, len(keys))
	lctxs := make([]context.Context, len(keys))
	db.reserveKeys(keys)
	f.baseGo = quietGoroutines()
	base := liveHeap()
	b.StartTimer()

	t0 := time.Now()
	eachOf(len(keys), sessHeldWorkers, func(i int) bool {
		ms[i] = s.NewMutex(keys[i])
		lctx, err := ms[i].Lock(ctx)
		if err != nil {
			b.Errorf("Lock %d: %v", i, err)
			return false
		}
		lctxs[i] = lctx
		return true
	})
	if b.Failed() {
		return f
	}
	f.acquireRate = float64(len(keys)) / time.Since(t0).Seconds()
	f.heapPerLock = heapPerLock(base, len(keys))
	for _, lctx := range lctxs {
		_ = lctx.Done()
	}
	f.heapPerLockUsed = heapPerLock(base, len(keys))
	f.hold(db)
	for _, lctx := range lctxs {
		if lctx.Err() != nil {
			f.ended++
		}
	}
	eachOf(len(keys), sessHeldWorkers, func(i int) bool {
		if err := ms[i].Unlock(ctx); err != nil {
			f.releaseErr++
		}
		return true
	})
	return f
}

// heapPerLock is the live heap now, less base, over n. Connections left
// idle by the acquiring goroutines are closed first, and the least of a
// few samples taken, since renewals in flight carry request buffers.
func heapPerLock(base heapSample, n int) float64 {
	localdb.CloseIdle()
	held := liveHeap()
	for range 2 {
		time.Sleep(50 * time.Millisecond)
		if h := liveHeap(); h.bytes < held.bytes {
			held = h
		}
	}
	return float64(int64(held.bytes)-int64(base.bytes)) / float64(n)
}

// hold waits sessHeldPeriods heartbeats, sampling the goroutine count, and
// takes the meter and the CPU time at both ends, and the dials after the
// first period too.
func (f *heldFigures) hold(db *meteredDB) {
	window := sessHeldPeriods * sessHeldHeartbeat
	f.from = db.snapshot()
	cpu0 := processCPU()
	start := time.Now()
	f.dialsAfterFirst = -1
	for time.Since(start) < window {
		f.maxGo = max(f.maxGo, runtime.NumGoroutine())
		if f.dialsAfterFirst < 0 && time.Since(start) >= sessHeldHeartbeat {
			f.dialsAfterFirst = db.dials.Load()
		}
		time.Sleep(100 * time.Millisecond)
	}
	f.cpu = processCPU() - cpu0
	f.to = db.snapshot()
	f.periods = float64(time.Since(start)) / float64(sessHeldHeartbeat)
}

func (f *heldFigures) report(b *testing.B, n int, mode sessionMode) {
	writes := f.to.writes - f.from.writes
	refused := f.to.refused - f.from.refused
	needed := float64(n)
	if mode.name == "session" {
		needed = 1
	}
	b.ReportMetric(float64(writes)/f.periods, "writes/period")
	b.ReportMetric(needed, "needed-writes/period")
	b.ReportMetric((f.to.wcu-f.from.wcu+float64(refused))/f.periods, "wcu/period")
	b.ReportMetric(float64(refused), "refused")
	b.ReportMetric(float64(f.to.reads-f.from.reads), "reads")
	b.ReportMetric(f.heapPerLock, "heap-bytes/lock")
	b.ReportMetric(f.heapPerLockUsed, "heap-bytes/lock-ctx-used")
	b.ReportMetric(float64(f.baseGo), "goroutines-base")
	b.ReportMetric(float64(f.maxGo), "goroutines")
	b.ReportMetric(f.cpu.Seconds(), "cpu-s")
	b.ReportMetric(float64(f.to.dials-f.from.dials), "new-conns")
	b.ReportMetric(float64(f.to.dials-f.dialsAfterFirst), "new-conns-after-first-period")
	b.ReportMetric(f.acquireRate, "acquires/s")
	b.ReportMetric(float64(f.ended), "ended-locks")
	b.ReportMetric(float64(f.releaseErr), "unlock-errors")
}

// The revocation and takeover benchmarks use short timings, so that an
// iteration lasts seconds: a 2 s lease renewed every 500 ms, with a 1.4 s
// safe time, on every Session.
const (
	sessShortLease     = 2 * time.Second
	sessShortSafe      = 1400 * time.Millisecond
	sessShortHeartbeat = 500 * time.Millisecond
	sessShortLocks     = 100
	sessShortBound     = 100 * time.Millisecond
)

func sessShortOptions(extra ...dynamutex.Option) []dynamutex.Option {
	opts := append(leaseOptions(sessShortLease, sessShortSafe, sessShortHeartbeat), dynamutex.WithSessionLease())
	return append(opts, extra...)
}

// lossWatch is an Observer that notes when each lock (never the Session
// record itself) first fell into danger and was lost, and with what error.
type lossWatch struct {
	mu      sync.Mutex
	danger  map[string]time.Time
	lost    map[string]time.Time
	lostErr map[string]error
	want    int
	allLost chan struct{}
}

func newLossWatch(want int) *lossWatch {
	return &lossWatch{danger: map[string]time.Time{}, lost: map[string]time.Time{}, lostErr: map[string]error{},
		want: want, allLost: make(chan struct{})}
}

func (w *lossWatch) Observe(ev dynamutex.Event) {
	at := time.Now()
	if ev.Key == "" || isSessionKey(ev.Key) {
		return
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	switch ev.Kind {
	case dynamutex.EventInDanger:
		if _, ok := w.danger[ev.Key]; !ok {
			w.danger[ev.Key] = at
		}
	case dynamutex.EventLost:
		if _, ok := w.lost[ev.Key]; ok {
			return
		}
		w.lost[ev.Key], w.lostErr[ev.Key] = at, ev.Err
		if len(w.lost) == w.want {
			close(w.allLost)
		}
	}
}

// span returns the earliest and latest of the times noted in ts.
func span(ts map[string]time.Time) (first, last time.Time) {
	for _, t := range ts {
		if first.IsZero() || t.Before(first) {
			first = t
		}
		if t.After(last) {
			last = t
		}
	}
	return first, last
}

// BenchmarkSessionRevoked: a Session with a session lease holds 100 locks;
// its client then stops every request on its Session record, while a
// waiter Session locks one of its locks, watches the Session record
// unrenewed for its lease and revokes it. The moment the revocation's
// reply arrives, the holder's client lets its requests through again. The
// requests are stopped two ways: fault=held holds each until it is let
// through (a network gone quiet: the renewal in flight goes out at once on
// resume), fault=error answers each at once with an HTTP 500 (the holder
// retries on its own schedule, and learns at its next attempt after the
// resume). Per iteration, reported as the median and the largest:
//
//   - lost-after-revoke: from the revocation's reply to the last of the 100
//     EventLost of the holder's locks (ms, and in heartbeat periods): how
//     soon a revoked holder learns it once it can reach DynamoDB again.
//   - danger-before-revoke: from the holder's locks falling into danger
//     (EventInDanger, at the Session record's safe time) to the revocation.
//     The danger always comes first: a revocation needs the Session record
//     unrenewed for a lease, and the safe time is shorter.
//   - ctx-lost, ctx-danger: the lock contexts whose cause is a *LostError,
//     and a *DangerError; event-lost and unlock-lost: the locks whose
//     EventLost carried a *LostError, and whose Unlock returned one; each
//     the mean over the iterations. It fails unless every lock's EventLost
//     carried a *LostError and a new Lock of the holder returned
//     ErrSessionRevoked.
func BenchmarkSessionRevoked(b *testing.B) {
	for _, failing := range []bool{false, true} {
		name := "fault=held"
		if failing {
			name = "fault=error"
		}
		b.Run(name, func(b *testing.B) { benchSessionRevoked(b, failing) })
	}
}

func benchSessionRevoked(b *testing.B, failing bool) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	rb := revokeBench{b: b, hdb: newMeteredDB(b), wdb: newMeteredDB(b), failing: failing}
	rb.table = newTable(b, rb.hdb)
	var all []revokeFigures
	b.ResetTimer()
	for i := range b.N {
		f := rb.once(ctx, i)
		if b.Failed() {
			return
		}
		all = append(all, f)
	}
	b.StopTimer()
	reportRevoked(b, all)
}

// revokeBench is what the iterations of BenchmarkSessionRevoked share: the
// holder's and the waiter's clients, the table and the kind of fault.
type revokeBench struct {
	b        *testing.B
	hdb, wdb *meteredDB
	table    string
	failing  bool
}

// revokeFigures are one iteration's measurements of BenchmarkSessionRevoked.
type revokeFigures struct {
	lostAfter, dangerBefore          time.Duration
	ctxLost, ctxDanger               int
	eventLost, unlockLost, revokedOK int
}

// revokeRig is one iteration of BenchmarkSessionRevoked: the holder, its
// locks and what it observed.
type revokeRig struct {
	b      *testing.B
	holder *dynamutex.Session
	watch  *lossWatch
	ms     []*dynamutex.Mutex
	lctxs  []context.Context
}

func (rb revokeBench) once(ctx context.Context, i int) revokeFigures {
	b, table, hdb, wdb := rb.b, rb.table, rb.hdb, rb.wdb
	b.StopTimer()
	defer b.StartTimer()
	r := &revokeRig{b: b, watch: newLossWatch(sessShortLocks)}
	var err error
	r.holder, err = dynamutex.NewSession(ctx, hdb, table, sessShortOptions(dynamutex.WithObserver(r.watch))...)
	if err != nil {
		b.Fatal(err)
	}
	defer r.holder.Close(ctx)
	waiter, err := dynamutex.NewSession(ctx, wdb, table, sessShortOptions()...)
	if err != nil {
		b.Fatal(err)
	}
	defer waiter.Close(ctx)
	r.lockAll(ctx, fmt.Sprintf("rev/%d/", i))
	holderSession := attrS(getItem(b, hdb, table, r.ms[0].Key()), "session")
	revoked := make(chan time.Time, 1)
	wdb.setOnReply(func(op, key string, err error, at time.Time) {
		if op == opRelease && key == holderSession && err == nil {
			hdb.resume()
			revoked <- at
		}
	})
	defer wdb.setOnReply(nil)
	hdb.pause(rb.failing)
	defer hdb.resume()
	b.StartTimer()
	wm := waiter.NewMutex(r.ms[0].Key())
	if _, err := wm.Lock(ctx); err != nil {
		b.Fatalf("waiter Lock: %v", err)
	}
	b.StopTimer()
	at := <-revoked
	f := r.settle(ctx, at)
	if err := wm.Unlock(ctx); err != nil {
		b.Errorf("waiter Unlock: %v", err)
	}
	return f
}

func (r *revokeRig) lockAll(ctx context.Context, prefix string) {
	r.ms = make([]*dynamutex.Mutex, sessShortLocks)
	r.lctxs = make([]context.Context, sessShortLocks)
	for k := range r.ms {
		r.ms[k] = r.holder.NewMutex(prefix + strconv.Itoa(k))
		lctx, err := r.ms[k].Lock(ctx)
		if err != nil {
			r.b.Fatalf("holder Lock %d: %v", k, err)
		}
		r.lctxs[k] = lctx
	}
}

// settle waits for the holder to lose every lock after the revocation
// whose reply came at revokedAt, and checks how each lock ended.
func (r *revokeRig) settle(ctx context.Context, revokedAt time.Time) revokeFigures {
	select {
	case <-r.watch.allLost:
	case <-time.After(10 * sessShortHeartbeat):
		r.watch.mu.Lock()
		n := len(r.watch.lost)
		r.watch.mu.Unlock()
		r.b.Fatalf("%d of %d locks lost 10 heartbeats after the revocation", n, sessShortLocks)
	}
	var f revokeFigures
	r.watch.mu.Lock()
	firstDanger, _ := span(r.watch.danger)
	_, lastLost := span(r.watch.lost)
	for _, err := range r.watch.lostErr {
		var le *dynamutex.LostError
		if errors.As(err, &le) {
			f.eventLost++
		}
	}
	r.watch.mu.Unlock()
	f.lostAfter = lastLost.Sub(revokedAt)
	if !firstDanger.IsZero() {
		f.dangerBefore = revokedAt.Sub(firstDanger)
	}
	for k, lctx := range r.lctxs {
		var le *dynamutex.LostError
		var de *dynamutex.DangerError
		switch cause := context.Cause(lctx); {
		case errors.As(cause, &le):
			f.ctxLost++
		case errors.As(cause, &de):
			f.ctxDanger++
		}
		if err := r.ms[k].Unlock(ctx); errors.As(err, &le) {
			f.unlockLost++
		}
	}
	if _, err := r.holder.NewMutex("rev/after").TryLock(ctx); errors.Is(err, dynamutex.ErrSessionRevoked) {
		f.revokedOK = 1
	}
	if f.eventLost != sessShortLocks || f.revokedOK != 1 {
		r.b.Errorf("after the revocation: %d of %d locks lost with a *LostError, ErrSessionRevoked on a new Lock: %v",
			f.eventLost, sessShortLocks, f.revokedOK == 1)
	}
	return f
}

func reportRevoked(b *testing.B, all []revokeFigures) {
	var lost, danger []time.Duration
	meanOf := func(get func(revokeFigures) int) float64 {
		n := 0
		for _, f := range all {
			n += get(f)
		}
		return float64(n) / float64(max(len(all), 1))
	}
	for _, f := range all {
		lost = append(lost, f.lostAfter)
		danger = append(danger, f.dangerBefore)
	}
	ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
	b.ReportMetric(ms(percentile(lost, 0.5)), "p50-lost-after-revoke-ms")
	b.ReportMetric(ms(percentile(lost, 1)), "max-lost-after-revoke-ms")
	b.ReportMetric(float64(percentile(lost, 1))/float64(sessShortHeartbeat), "max-lost-after-revoke/heartbeat")
	b.ReportMetric(ms(percentile(danger, 0.5)), "p50-danger-before-revoke-ms")
	b.ReportMetric(meanOf(func(f revokeFigures) int { return f.ctxLost }), "ctx-lost")
	b.ReportMetric(meanOf(func(f revokeFigures) int { return f.ctxDanger }), "ctx-danger")
	b.ReportMetric(meanOf(func(f revokeFigures) int { return f.eventLost }), "event-lost")
	b.ReportMetric(meanOf(func(f revokeFigures) int { return f.unlockLost }), "unlock-lost")
}

// BenchmarkDeadSession: a Session with a session lease holds 100 locks and
// dies (Close with the locks held, which leaves its Session record
// unrenewed, as a crash would); a second Session then takes each of the
// 100 locks, from one goroutine in sequence (workers=1) or from eight
// (workers=8), by watching the dead Session record for its lease
// (by=watching) or, with both Sessions WithClockBound(100ms), past its
// clock deadline (by=clock). The taker arrives at once. Reported per
// iteration (means over the iterations):
//
//   - first-take-ms: from the taker's first Lock call to the first lock
//     taken; all-ms: to the last of the 100.
//   - session-reqs: the taker's requests on the dead Session record: the
//     reads that watch it and the revocation writes (refused ones
//     included, when several goroutines race to revoke).
//   - first-lock-reqs: the requests on the first key's lock record;
//     with workers=1 its Lock also made every session-req.
//     later-lock-reqs/lock: the mean over the other 99 keys, and
//     later-lock-writes/lock the writes among them.
//   - revocations: revocation writes that landed (1 if it all went right);
//     writes: every write the taker sent, its own renewals included.
func BenchmarkDeadSession(b *testing.B) {
	for _, by := range []string{"watching", "clock"} {
		b.Run("by="+by, func(b *testing.B) {
			for _, workers := range []int{1, 8} {
				b.Run(fmt.Sprintf("workers=%d", workers), func(b *testing.B) {
					benchDeadSession(b, by == "clock", workers)
				})
			}
		})
	}
}

// deadFigures are one iteration's measurements of BenchmarkDeadSession.
type deadFigures struct {
	firstTake, all                    time.Duration
	sessionReqs, firstLockReqs        int
	laterLockReqs, laterLockWrites    int
	revocations, laterKeys, ownWrites int
}

func benchDeadSession(b *testing.B, byClock bool, workers int) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	adb, bdb := newMeteredDB(b), newMeteredDB(b)
	table := newTable(b, adb)
	var opts []dynamutex.Option
	if byClock {
		opts = append(opts, dynamutex.WithClockBound(sessShortBound))
	}
	var sum deadFigures
	b.ResetTimer()
	for i := range b.N {
		f := deadOnce(ctx, b, deadRig{table: table, adb: adb, bdb: bdb, opts: opts, workers: workers}, i)
		sum = sum.add(f)
	}
	b.StopTimer()
	sum.report(b)
}

// deadRig is what every iteration of BenchmarkDeadSession shares.
type deadRig struct {
	table    string
	adb, bdb *meteredDB
	opts     []dynamutex.Option
	workers  int
}

func deadOnce(ctx context.Context, b *testing.B, r deadRig, i int) deadFigures {
	b.StopTimer()
	keys := make([]string, sessShortLocks)
	for k := range keys {
		keys[k] = fmt.Sprintf("dead/%d/%d", i, k)
	}
	deadKey := crashSession(ctx, b, r, keys)
	taker, err := dynamutex.NewSession(ctx, r.bdb, r.table, sessShortOptions(r.opts...)...)
	if err != nil {
		b.Fatal(err)
	}
	defer taker.Close(ctx)
	r.bdb.keyCounts()
	before := r.bdb.snapshot()
	var revocations atomic.Int64
	r.bdb.setOnReply(func(op, key string, err error, at time.Time) {
		if op == opRelease && key == deadKey && err == nil {
			revocations.Add(1)
		}
	})
	defer r.bdb.setOnReply(nil)
	ms := make([]*dynamutex.Mutex, len(keys))
	done := make([]time.Time, len(keys))
	start := time.Now()
	b.StartTimer()
	eachOf(len(keys), r.workers, func(k int) bool {
		ms[k] = taker.NewMutex(keys[k])
		if _, err := ms[k].Lock(ctx); err != nil {
			b.Errorf("taker Lock %d: %v", k, err)
			return false
		}
		done[k] = time.Now()
		return true
	})
	b.StopTimer()
	f := deadCounts(r.bdb.keyCounts(), keys, deadKey)
	f.ownWrites = r.bdb.snapshot().writes - before.writes
	f.revocations = int(revocations.Load())
	f.firstTake, f.all = deadSpan(start, done)
	for _, m := range ms {
		if m != nil {
			_ = m.Unlock(ctx)
		}
	}
	b.StartTimer()
	return f
}

// crashSession has a Session with a session lease lock keys and close with
// them held. It returns the key of that Session's record.
func crashSession(ctx context.Context, b *testing.B, r deadRig, keys []string) string {
	s, err := dynamutex.NewSession(ctx, r.adb, r.table, sessShortOptions(r.opts...)...)
	if err != nil {
		b.Fatal(err)
	}
	for _, k := range keys {
		if _, err := s.NewMutex(k).Lock(ctx); err != nil {
			b.Fatalf("holder Lock %s: %v", k, err)
		}
	}
	key := attrS(getItem(b, r.adb, r.table, keys[0]), "session")
	if err := s.Close(ctx); err != nil {
		b.Fatal(err)
	}
	if key == "" {
		b.Fatal("the lock record names no Session record")
	}
	return key
}

// deadCounts splits the taker's requests by record: the dead Session
// record's, the first key's and the other keys'. Its own Session record's
// renewals are left out.
func deadCounts(byKey map[string]keyCount, keys []string, deadKey string) deadFigures {
	dead, first := byKey[deadKey], byKey[keys[0]]
	f := deadFigures{sessionReqs: dead.reads + dead.writes, firstLockReqs: first.reads + first.writes,
		laterKeys: len(keys) - 1}
	for _, k := range keys[1:] {
		f.laterLockReqs += byKey[k].reads + byKey[k].writes
		f.laterLockWrites += byKey[k].writes
	}
	return f
}

// deadSpan is the time from start to the first and to the last of done;
// zero entries (a Lock that failed) are left out.
func deadSpan(start time.Time, done []time.Time) (first, last time.Duration) {
	for _, t := range done {
		if t.IsZero() {
			continue
		}
		d := t.Sub(start)
		if first == 0 || d < first {
			first = d
		}
		last = max(last, d)
	}
	return first, last
}

func (f deadFigures) add(g deadFigures) deadFigures {
	f.firstTake += g.firstTake
	f.all += g.all
	f.sessionReqs += g.sessionReqs
	f.firstLockReqs += g.firstLockReqs
	f.laterLockReqs += g.laterLockReqs
	f.laterLockWrites += g.laterLockWrites
	f.revocations += g.revocations
	f.laterKeys += g.laterKeys
	f.ownWrites += g.ownWrites
	return f
}

func (f deadFigures) report(b *testing.B) {
	n := float64(b.N)
	ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) / n }
	b.ReportMetric(ms(f.firstTake), "first-take-ms")
	b.ReportMetric(ms(f.all), "all-ms")
	b.ReportMetric(float64(f.sessionReqs)/n, "session-reqs")
	b.ReportMetric(float64(f.firstLockReqs)/n, "first-lock-reqs")
	b.ReportMetric(float64(f.laterLockReqs)/float64(max(f.laterKeys, 1)), "later-lock-reqs/lock")
	b.ReportMetric(float64(f.laterLockWrites)/float64(max(f.laterKeys, 1)), "later-lock-writes/lock")
	b.ReportMetric(float64(f.revocations)/n, "revocations")
	b.ReportMetric(float64(f.ownWrites)/n, "writes")
}
