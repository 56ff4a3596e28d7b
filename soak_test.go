package dynamutex_test

import (
	"context"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dynamutex/dynamutex"
	"github.com/dynamutex/dynamutex/internal/localdb"
)

// Soaks: long runs of locking. They assert counts (requests, goroutines, heap
// objects), never elapsed times, so that a slow machine makes them slower but
// not red.

const (
	soakCycles   = 10_000
	soakWorkers  = 16
	soakHotKeys  = 4 // shared by every worker, so that local waiters queue
	soakHeld     = 1_000
	warmUpCycles = soakWorkers * 10

	// heapSlack bounds how far the live heap-object count may drift from its
	// baseline. A healthy library drifts by 100 to 300: maps keep the
	// capacity they grew to (the Session's per-key and held-lock maps, the
	// parent context's children) and the runtime keeps the descriptors of
	// ended goroutines for reuse. A leak of one object per cycle would add
	// 10,000, one per held lock 1,000.
	heapSlack = 500
)

// The tests' 100 ms heartbeat would bound each renewal request by 100 ms and
// each release by a 600 ms lease, which a 2-core machine running DynamoDB
// Local and the race detector at full load does not always meet. These are
// long enough that one period renews a thousand locks with a wide margin even
// at a few hundred requests per second, and that renewals may fall a whole
// period behind before any lock is in danger.
const (
	soakLease     = 12 * time.Second
	soakSafe      = 8 * time.Second
	soakHeartbeat = 4 * time.Second
)

func soakOptions() []dynamutex.Option {
	return []dynamutex.Option{dynamutex.WithLeaseDuration(soakLease),
		dynamutex.WithSafeTime(soakSafe), dynamutex.WithHeartbeatPeriod(soakHeartbeat)}
}

type heapSample struct {
	objects uint64
	bytes   uint64
}

// liveHeap collects twice, so that sync.Pool contents, which survive one
// collection in the victim cache, are gone before counting.
func liveHeap() heapSample {
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return heapSample{objects: ms.HeapObjects, bytes: ms.HeapAlloc}
}

// quietGoroutines closes idle HTTP connections, whose read and write loops
// would otherwise be counted, and waits until the goroutine count stops
// changing, since those loops end asynchronously. It closes the idle
// connections of every test transport, not only this test's: connections of
// earlier tests would otherwise time out in the middle of a measurement.
func quietGoroutines() int {
	localdb.CloseIdle()
	n, same := runtime.NumGoroutine(), 0
	for range 400 {
		time.Sleep(5 * time.Millisecond)
		m := runtime.NumGoroutine()
		if m == n {
			if same++; same == 20 {
				break
			}
		} else {
			n, same = m, 0
		}
	}
	return n
}

// goroutinesAtMost waits, a bounded number of times, for the goroutine count
// to fall to want and returns the last count seen.
func goroutinesAtMost(want int) int {
	localdb.CloseIdle()
	n := runtime.NumGoroutine()
	for i := 0; i < 1000 && n > want; i++ {
		time.Sleep(5 * time.Millisecond)
		localdb.CloseIdle()
		n = runtime.NumGoroutine()
	}
	return n
}

func allStacks() string {
	buf := make([]byte, 1<<20)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			return string(buf[:n])
		}
		buf = make([]byte, 2*len(buf))
	}
}

// goroutineCounts splits the goroutines into HTTP connections (each has a
// read loop and a write loop) and all others, so that the library's own
// goroutines can be bounded tightly while connections come and go.
func goroutineCounts() (others, conns int) {
	for g := range strings.SplitSeq(allStacks(), "\n\n") {
		switch {
		case strings.Contains(g, "net/http.(*persistConn).readLoop("):
			conns++
		case strings.Contains(g, "net/http.(*persistConn).writeLoop("),
			strings.Contains(g, "net/http.(*Transport).dialConnFor("):
		default:
			others++
		}
	}
	return others, conns
}

func checkGoroutines(t *testing.T, when string, want int) {
	t.Helper()
	if got := goroutinesAtMost(want); got > want {
		t.Fatalf("%s: %d goroutines, want at most %d\n%s", when, got, want, allStacks())
	} else {
		t.Logf("%s: %d goroutines (want at most %d)", when, got, want)
	}
}

func checkHeap(t *testing.T, when string, base heapSample) {
	t.Helper()
	h := liveHeap()
	d := int64(h.objects) - int64(base.objects)
	t.Logf("%s: %d heap objects (%+d from baseline), %d heap bytes (%+d)",
		when, h.objects, d, h.bytes, int64(h.bytes)-int64(base.bytes))
	if d > heapSlack {
		t.Fatalf("%s: %d heap objects, %d more than the baseline of %d; at most %d allowed",
			when, h.objects, d, base.objects, heapSlack)
	}
}

// warmUp runs a few cycles through a short-lived Session so that the SDK's
// lazily built state and the runtime's caches exist before the baseline.
// baseline is what a soak must return to.
type baseline struct {
	g int
	h heapSample
}

// soakStart warms a fresh table up, takes the baseline, and opens the
// Session under test.
func soakStart(t *testing.T) (*tap, *dynamutex.Session, context.Context, baseline) {
	t.Helper()
	c, tr := newClient(t)
	table := newTable(t, c)
	warmUp(t, c, table)
	base := baseline{g: quietGoroutines(), h: liveHeap()}
	t.Logf("baseline: %d goroutines, %d heap objects, %d heap bytes", base.g, base.h.objects, base.h.bytes)
	return tr, newSession(t, c, table, soakOptions()...), ctxTimeout(t, 10*time.Minute), base
}

func warmUp(t *testing.T, c dynamutex.DynamoDBAPI, table string) {
	t.Helper()
	s, err := dynamutex.NewSession(context.Background(), c, table, fastOptions(soakOptions()...)...)
	if err != nil {
		t.Fatalf("NewSession: %v", err)
	}
	ctx := ctxTimeout(t, time.Minute)
	var wg sync.WaitGroup
	for w := range soakWorkers {
		wg.Go(func() {
			for i := range warmUpCycles / soakWorkers {
				m := s.NewMutex(fmt.Sprintf("warm/%d/%d", w, i%2))
				if _, err := m.Lock(ctx); err != nil {
					t.Errorf("warm-up Lock: %v", err)
					return
				}
				if err := m.Unlock(ctx); err != nil {
					t.Errorf("warm-up Unlock: %v", err)
					return
				}
			}
		})
	}
	wg.Wait()
	if err := s.Close(ctx); err != nil {
		t.Fatalf("warm-up Close: %v", err)
	}
	if t.Failed() {
		t.FailNow()
	}
}

// backToBaseline checks that the open Session holds only its heartbeat
// goroutine over the baseline, then closes it and checks that nothing is
// left at all.
func backToBaseline(t *testing.T, when string, sess *dynamutex.Session, base baseline) {
	t.Helper()
	checkGoroutines(t, when+", Session open", base.g+1)
	checkHeap(t, when+", Session open", base.h)
	if err := sess.Close(ctxTimeout(t, 30*time.Second)); err != nil {
		t.Fatalf("Close: %v", err)
	}
	checkGoroutines(t, "after Close", base.g)
	checkHeap(t, "after Close", base.h)
}
