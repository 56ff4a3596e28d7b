package dynamutex_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/dynamutex/dynamutex"
	"github.com/dynamutex/dynamutex/dynamutextest"
)

// schedule records when a Session sent each request, by kind, through a
// tap that breaks nothing.
type schedule struct {
	*tap
	mu                    sync.Mutex
	reads, writes, claims []time.Time // claims: claim writes, kept apart from writes
}

func newSchedule(db testDB) *schedule {
	s := &schedule{tap: newTap(db)}
	s.setFault(s.note)
	return s
}

func (s *schedule) note(op, _ string, _ any) fault {
	now := time.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	switch op {
	case "GetItem":
		s.reads = append(s.reads, now)
	case opClaim:
		s.claims = append(s.claims, now)
	case opAcquire, opRenew, opRelease, opUnclaim, opOther:
		s.writes = append(s.writes, now)
	}
	return fault{}
}

// numClaims is how many claim writes were sent so far; safe while the
// Session still runs.
func (s *schedule) numClaims() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.claims)
}

func countSince(ts []time.Time, from, to time.Time) int {
	n := 0
	for _, t := range ts {
		if !t.Before(from) && t.Before(to) {
			n++
		}
	}
	return n
}

// waitTimings are the timings the lone-waiter tests run at: the defaults,
// and a 2 s lease with a 500 ms heartbeat, whose backoff cap (min(1 s,
// lease/2)) is 1 s as well.
var waitTimings = []struct {
	name string
	opts []dynamutex.Option
	hold time.Duration // how long the holder holds: several leases
}{
	{"defaults", nil, 60 * time.Second},
	{"lease=2s", leaseOptions(2*time.Second, 1500*time.Millisecond, 500*time.Millisecond), 30 * time.Second},
}

// A lone waiter writes once, then only reads: at most three reads in its
// first second (sleeps of 250, 375 and 562 ms, each at least half that with
// the jitter), where the write path made eight requests, then one a second
// on average once the backoff has reached its 1 s cap (±50 % jitter). It
// never claims: the lock never passed to anyone else while it waited, so no
// one competes for the next turn. When the holder unlocks, the next read
// sees it and one write takes the lock.
func TestSynctestLoneWaiterOnlyReads(t *testing.T) {
	for _, tm := range waitTimings {
		t.Run(tm.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) { loneWaiterOnlyReads(t, tm.opts, tm.hold) })
		})
	}
}

func loneWaiterOnlyReads(t *testing.T, opts []dynamutex.Option, hold time.Duration) {
	ctx := context.Background()
	store := dynamutextest.New()
	holder := memSession(t, store, opts...)
	defer holder.Close(ctx)
	hm := holder.NewMutex("job")
	if _, err := hm.Lock(ctx); err != nil {
		t.Fatal(err)
	}
	sched := newSchedule(store)
	waiter := memSession(t, sched, opts...)
	defer waiter.Close(ctx)

	start := time.Now()
	done := make(chan error, 1)
	go func() {
		_, err := waiter.NewMutex("job").Lock(ctx)
		done <- err
	}()
	time.Sleep(hold)
	released := time.Now()
	if err := hm.Unlock(ctx); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}

	if n := countSince(sched.writes, start, released); n != 1 {
		t.Errorf("%d writes while the lock was held elsewhere, want 1 (the first attempt)", n)
	}
	if n := len(sched.claims); n != 0 {
		t.Errorf("%d claim writes, want none: the lock never changed hands while the waiter waited", n)
	}
	if n := countSince(sched.writes, released, time.Now().Add(time.Nanosecond)); n != 1 {
		t.Errorf("%d writes after the release, want 1", n)
	}
	if n := countSince(sched.reads, start, start.Add(time.Second)); n > 3 {
		t.Errorf("%d reads in the first second, want at most 3", n)
	}
	// Sleeps uniform in [0.5 s, 1.5 s): about one read a second, within
	// a few reads over this window. A cap of 500 ms would make twice as many.
	from := start.Add(10 * time.Second)
	secs := released.Sub(from).Seconds()
	if n := countSince(sched.reads, from, released); float64(n) < 0.8*secs || float64(n) > 1.25*secs {
		t.Errorf("%d reads in the %.0f s from 10 s to the release, want about one a second (%.0f to %.0f)",
			n, secs, 0.8*secs, 1.25*secs)
	}
	if late := time.Since(released); late > 1500*time.Millisecond {
		t.Errorf("the waiter took the lock %v after the release, more than the longest backoff sleep", late)
	}
}

// A lone waiter behind a dead holder (a record that nobody renews) makes
// two writes: its first attempt and, exactly one lease after it, the
// takeover. It reads in between, never sleeping past the takeover moment,
// and never claims.
func TestSynctestLoneWaiterDeadHolder(t *testing.T) {
	for _, tm := range waitTimings {
		t.Run(tm.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) { loneWaiterDeadHolder(t, tm.opts) })
		})
	}
}

func loneWaiterDeadHolder(t *testing.T, opts []dynamutex.Option) {
	ctx := context.Background()
	store := dynamutextest.New()
	sched := newSchedule(store)
	waiter := memSession(t, sched, opts...)
	defer waiter.Close(ctx)
	lease := dynamutex.DefaultLeaseDuration
	if len(opts) > 0 {
		lease = 2 * time.Second
	}
	putItem(t, store, "locks", heldRecord("job", "crashed", 7, lease))

	start := time.Now()
	m := waiter.NewMutex("job")
	if _, err := m.Lock(ctx); err != nil {
		t.Fatal(err)
	}
	if took := time.Since(start); took != lease {
		t.Errorf("takeover took %v, want exactly the lease, %v", took, lease)
	}
	if n := len(sched.writes); n != 2 {
		t.Errorf("%d writes, want 2: the first attempt and the takeover", n)
	}
	if n := len(sched.claims); n != 0 {
		t.Errorf("%d claim writes behind a dead holder, want none", n)
	}
	// Sleeps of at least half of 250 ms ×1.5ⁿ, capped: the reads that fit.
	if n, most := len(sched.reads), int(lease/(500*time.Millisecond))+4; n < 1 || n > most {
		t.Errorf("%d reads before the takeover, want 1 to %d", n, most)
	}
	if err := m.Unlock(ctx); err != nil {
		t.Fatal(err)
	}
}

// A waiter that sees the lock pass to someone else has lost a turn: it
// claims the next one at its first read past the threshold, and the new
// holder's own re-lock waits behind that claim. The waiter makes one claim
// write (the hold is shorter than a third of the lease, when it would
// re-assert it) and its two acquire writes.
func TestSynctestWaiterClaimsAfterTurnover(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx := context.Background()
		store := dynamutextest.New()
		first := memSession(t, store)
		defer first.Close(ctx)
		second := memSession(t, store)
		defer second.Close(ctx)
		sched := newSchedule(store)
		waiter := memSession(t, sched)
		defer waiter.Close(ctx)

		fm, sm := first.NewMutex("job"), second.NewMutex("job")
		if _, err := fm.Lock(ctx); err != nil {
			t.Fatal(err)
		}
		got := make(chan struct{})
		go func() {
			wm := waiter.NewMutex("job")
			if _, err := wm.Lock(ctx); err != nil {
				t.Error(err)
			}
			close(got)
			time.Sleep(time.Second)
			if err := wm.Unlock(ctx); err != nil {
				t.Error(err)
			}
		}()
		time.Sleep(3 * time.Second)
		// The lock passes from first to second before the waiter reads.
		if err := fm.Unlock(ctx); err != nil {
			t.Fatal(err)
		}
		if _, err := sm.Lock(ctx); err != nil {
			t.Fatal(err)
		}
		time.Sleep(2 * time.Second)
		if n := sched.numClaims(); n != 1 {
			t.Errorf("%d claim writes within 2 s of the turnover, want 1", n)
		}
		if err := sm.Unlock(ctx); err != nil {
			t.Fatal(err)
		}
		if _, err := sm.Lock(ctx); err != nil { // behind the claim
			t.Fatal(err)
		}
		select {
		case <-got:
		default:
			t.Error("second's re-lock returned before the waiter, the claimant, had the lock")
		}
		if err := sm.Unlock(ctx); err != nil {
			t.Fatal(err)
		}
		if c, w := len(sched.claims), len(sched.writes); c != 1 || w != 3 {
			t.Errorf("the waiter made %d claim writes and %d other writes, want 1 claim, 2 acquire writes and its release", c, w)
		}
	})
}

// A holder that unlocks and locks again at once would win every time
// against a waiter that reads: it writes before the waiter can read the
// release. Past a second the waiter claims the next turn, at its first read
// after the threshold; the holder's next Lock then waits behind the claim,
// and the waiter gets the lock within a few of its reads (from 10 ms once it
// has claimed). Its writes are its acquire writes and that one claim.
func TestSynctestStarvingWaiterGetsTurn(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx := context.Background()
		store := dynamutextest.New()
		holder := memSession(t, store)
		defer holder.Close(ctx)
		sched := newSchedule(store)
		waiter := memSession(t, sched)
		defer waiter.Close(ctx)

		hm := holder.NewMutex("hot")
		if _, err := hm.Lock(ctx); err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		got := make(chan time.Duration, 1)
		go func() {
			wm := waiter.NewMutex("hot")
			if _, err := wm.Lock(ctx); err != nil {
				t.Error(err)
			}
			got <- time.Since(start)
			time.Sleep(100 * time.Millisecond)
			if err := wm.Unlock(ctx); err != nil {
				t.Error(err)
			}
		}()
		var relocks []time.Duration // how long each re-lock of the holder waited
		var waited time.Duration
		for waited == 0 {
			time.Sleep(100 * time.Millisecond)
			if err := hm.Unlock(ctx); err != nil {
				t.Fatal(err)
			}
			t0 := time.Now()
			if _, err := hm.Lock(ctx); err != nil {
				t.Fatal(err)
			}
			relocks = append(relocks, time.Since(t0))
			select {
			case waited = <-got:
			default:
			}
		}
		if err := hm.Unlock(ctx); err != nil {
			t.Fatal(err)
		}
		// The read before the threshold may come as early as 0.6 s and its
		// sleep run well past it: the fourth backoff interval is 844 ms
		// ±50 %, up to 1.27 s. Then come the claim, the holder's 100 ms
		// hold and the claimant's fast reads.
		if waited < time.Second || waited > 2500*time.Millisecond {
			t.Errorf("the waiter got the lock after %v, want between 1 s (the threshold) and 2.5 s", waited)
		}
		if last := relocks[len(relocks)-1]; last < 100*time.Millisecond {
			t.Errorf("the holder's last re-lock took %v, want it to wait behind the claim for the waiter's 100 ms hold", last)
		}
		if c, w := len(sched.claims), len(sched.writes); c != 1 || w < 2 || w > 3 {
			t.Errorf("the waiter made %d claim writes and %d other writes, want 1 claim and 2 or 3 acquire attempts", c, w)
		}
	})
}

// Inside one Session, goroutines that want a held key queue in memory and
// get it in the order they asked, with no request until each one's turn.
func TestSynctestLocalWaitersFirstInFirstOut(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx := context.Background()
		sched := newSchedule(dynamutextest.New())
		s := memSession(t, sched)
		defer s.Close(ctx)
		first := s.NewMutex("job")
		if _, err := first.Lock(ctx); err != nil {
			t.Fatal(err)
		}
		var mu sync.Mutex
		var order []int
		var wg sync.WaitGroup
		for i := range 5 {
			wg.Go(func() {
				m := s.NewMutex("job")
				if _, err := m.Lock(ctx); err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				order = append(order, i)
				mu.Unlock()
				if err := m.Unlock(ctx); err != nil {
					t.Error(err)
				}
			})
			synctest.Wait() // goroutine i is queued before i+1 starts
		}
		time.Sleep(time.Minute)
		// Writes in that minute are the holder's renewals; the queue polls
		// nothing (TestLocalExclusionWithoutPolling counts the writes).
		if r := len(sched.reads); r != 0 {
			t.Errorf("queued goroutines made %d reads in a minute, want 0", r)
		}
		if err := first.Unlock(ctx); err != nil {
			t.Fatal(err)
		}
		wg.Wait()
		if fmt.Sprint(order) != "[0 1 2 3 4]" {
			t.Errorf("local waiters got the lock in the order %v, want the order they asked in", order)
		}
	})
}
