package dynamutex_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/dynamutex/dynamutex"
	"github.com/dynamutex/dynamutex/dynamutextest"
)

// hogs keeps every permit of a semaphore of n busy: n workers, each on its
// own Session, hold a permit for hold, release it and acquire again at
// once, as busy workers do, until stop is closed. turns counts their
// acquisitions and most the largest number of holders at once.
type hogs struct {
	wg          sync.WaitGroup
	stop        chan struct{}
	mu          sync.Mutex
	holders     int
	most, turns int
}

func startHogs(t *testing.T, db *dynamutextest.Store, name string, n int, hold time.Duration) *hogs {
	t.Helper()
	h := &hogs{stop: make(chan struct{})}
	for range n {
		_, s := semRig(t, db, dynamutex.WithOwner("hog"))
		sem := s.NewSemaphore(name, n)
		h.wg.Add(1)
		go h.work(t, sem, hold)
	}
	return h
}

func (h *hogs) work(t *testing.T, sem *dynamutex.Semaphore, hold time.Duration) {
	defer h.wg.Done()
	for {
		select {
		case <-h.stop:
			return
		default:
		}
		_, p, err := sem.Acquire(context.Background())
		if err != nil {
			t.Error(err)
			return
		}
		h.enter(1)
		time.Sleep(hold)
		h.enter(-1)
		if err := p.Release(context.Background()); err != nil {
			t.Error(err)
			return
		}
	}
}

func (h *hogs) enter(d int) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.holders += d
	h.most = max(h.most, h.holders)
	if d > 0 {
		h.turns++
	}
}

func (h *hogs) halt() {
	close(h.stop)
	h.wg.Wait()
}

// A waiter behind holders that release and acquire again at once never
// reads a permit free: they write before its read can see the release.
// Once it has seen permits change hands and has waited a second, it claims
// a permit's next turn, and is served at that permit's next release. Its
// EventClaimed and EventAcquired count every request of the call.
func TestSemaphoreStarvingWaiterClaims(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		db := dynamutextest.New()
		h := startHogs(t, db, "jobs", 2, 100*time.Millisecond)
		time.Sleep(time.Millisecond)
		rec := &recorder{}
		c, s := semRig(t, db, dynamutex.WithOwner("waiter"), dynamutex.WithObserver(rec))
		before := c.total()
		start := time.Now()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		_, p, err := s.NewSemaphore("jobs", 2).Acquire(ctx)
		if err != nil {
			h.halt()
			t.Fatalf("a waiter behind two busy holders: %v after %v", err, time.Since(start))
		}
		waited, requests := time.Since(start), c.total()-before
		h.enter(1)
		h.enter(-1)
		if err := p.Release(context.Background()); err != nil {
			t.Error(err)
		}
		h.halt()
		key := dynamutex.PermitKey("jobs", p.Index())
		claimed, acquired := rec.find(dynamutex.EventClaimed, key), rec.find(dynamutex.EventAcquired, key)
		if len(claimed) != 1 || claimed[0].Wait < time.Second {
			t.Errorf("EventClaimed on the permit taken: %+v, want one, after a second's wait", claimed)
		}
		if len(acquired) != 1 || acquired[0].Wait != waited || acquired[0].Attempts != requests {
			t.Errorf("EventAcquired = %+v, want Wait %v and Attempts %d, the whole call's", acquired, waited, requests)
		}
		if waited > 3*time.Second {
			t.Errorf("served after %v; a claimant waits for one hold of 100ms after claiming at about 1s", waited)
		}
		if h.most > 2 {
			t.Errorf("%d holders at once, want at most 2", h.most)
		}
	})
}

// A starving waiter that gives up removes its claim, so that the permit's
// holder may take it again at once rather than wait a lease for the claim
// to go stale; the holders then carry on.
func TestSemaphoreClaimGiveUpRemovesClaim(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		db := dynamutextest.New()
		h := startHogs(t, db, "jobs", 1, 100*time.Millisecond)
		time.Sleep(time.Millisecond)
		var claimed atomic.Bool
		_, s := semRig(t, db, dynamutex.WithOwner("quitter"), dynamutex.WithObserver(observerFunc(func(ev dynamutex.Event) {
			if ev.Kind == dynamutex.EventClaimed {
				claimed.Store(true)
			}
		})))
		sem := s.NewSemaphore("jobs", 1)
		// The waiter gives up just after it claims, before its claim is
		// served (or after 30 s without a claim).
		hold := make(chan struct{})
		go func() {
			for i := 0; i < 3000 && !claimed.Load(); i++ {
				time.Sleep(10 * time.Millisecond)
			}
			close(hold)
		}()
		ctx, cancel := context.WithCancel(context.Background())
		go func() { <-hold; cancel() }()
		_, _, err := sem.Acquire(ctx)
		if !errors.Is(err, context.Canceled) {
			t.Errorf("Acquire = %v, want context.Canceled", err)
		}
		if !claimed.Load() {
			h.halt()
			t.Fatal("the waiter never claimed a turn")
		}
		turns := func() int { h.mu.Lock(); defer h.mu.Unlock(); return h.turns }
		was := turns()
		time.Sleep(time.Second) // the heartbeat loop removes the claim at once
		synctest.Wait()
		if item := getItem(t, db, "locks", dynamutex.PermitKey("jobs", 0)); item["claim"] != nil {
			t.Errorf("the claim of a waiter that gave up is still there: %v", item["claim"])
		}
		if got := turns(); got < was+5 {
			t.Errorf("the holder took %d turns in the second after the waiter left, want about 10", got-was)
		}
		h.halt()
	})
}

// A take whose outcome is unknown may have landed, or may land later: the
// call gives that version up (the heartbeat loop releases whatever it
// wrote) and takes the permit with a new one, which nothing releases
// behind its back. A write that never reached the store is the case that
// would bite: the heartbeat loop keeps trying to release its version for a
// lease, and a retake under that version would be what it releases.
func TestSemaphoreTakeInDoubt(t *testing.T) {
	for _, tc := range []struct {
		name string
		f    fault
		// releases is how many release writes the heartbeat loop sends: one
		// for a write that landed; for one that did not, it tries until a
		// lease has passed, which says nothing here (-1).
		releases int
	}{{"lost reply", fault{drop: true}, 1}, {"never sent", fault{block: true}, -1}} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				c, s := semRig(t, dynamutextest.New())
				var broken atomic.Bool
				c.setFault(func(op, key string, in any) fault {
					if op == opAcquire && broken.CompareAndSwap(false, true) {
						return tc.f
					}
					return fault{}
				})
				pctx, p, err := s.NewSemaphore("jobs", 1).Acquire(context.Background())
				if err != nil {
					t.Fatal(err)
				}
				time.Sleep(time.Minute) // leases renewed, the heartbeat loop's clean-up long done
				synctest.Wait()
				if a, r := c.count(opAcquire), c.count(opRelease); a != 2 || (tc.releases >= 0 && r != tc.releases) {
					t.Errorf("%d acquire writes and %d releases; want 2 and %d", a, r, tc.releases)
				}
				if pctx.Err() != nil {
					t.Fatalf("the permit ended: %v", context.Cause(pctx))
				}
				if err := p.Release(context.Background()); err != nil {
					t.Errorf("Release = %v, want the permit still ours", err)
				}
			})
		})
	}
}
