package dynamutex_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"testing/synctest"
	"time"

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

func countSince(ts []time.Time, from, to time.Time) int {
	n := 0
	for _, t := range ts {
		if !t.Before(from) && t.Before(to) {
			n++
		}
	}
	return n
}

// At the default timings a waiter writes once, then reads: at most three
// reads in its first second (sleeps of 250, 375 and 562 ms, each at least
// half that with the jitter), where the write path made eight requests,
// then about one a second once the backoff has reached its one-second cap.
// Past a second it claims the next turn and re-asserts the claim every
// third of the lease (6.67 s), its only other writes. Behind one holder all
// along, the claim does not speed its reads up. When the holder unlocks,
// the next read sees it and one write takes the lock.
func TestSynctestWaiterReadsAtDefaults(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx := context.Background()
		store := dynamutextest.New()
		holder := memSession(t, store)
		defer holder.Close(ctx)
		hm := holder.NewMutex("job")
		if _, err := hm.Lock(ctx); err != nil {
			t.Fatal(err)
		}
		sched := newSchedule(store)
		waiter := memSession(t, sched)
		defer waiter.Close(ctx)

		start := time.Now()
		done := make(chan error, 1)
		go func() {
			_, err := waiter.NewMutex("job").Lock(ctx)
			done <- err
		}()
		time.Sleep(60 * time.Second)
		released := time.Now()
		if err := hm.Unlock(ctx); err != nil {
			t.Fatal(err)
		}
		if err := <-done; err != nil {
			t.Fatal(err)
		}

		if n := countSince(sched.writes, start, released); n != 1 {
			t.Errorf("%d writes besides claims while the lock was held elsewhere, want 1 (the first attempt)", n)
		}
		// The first claim comes at the first read past 1 s (before 2.5 s),
		// then one every 6.67 s, each at the first read after it is due.
		if n := len(sched.claims); n < 8 || n > 10 {
			t.Errorf("%d claim writes in 60 s, want 8 to 10: one past a second, then one every third of the lease", n)
		}
		if n := countSince(sched.claims, start, start.Add(time.Second)); n != 0 {
			t.Errorf("%d claim writes in the first second, want none before the starvation threshold", n)
		}
		if n := countSince(sched.writes, released, time.Now().Add(time.Nanosecond)); n != 1 {
			t.Errorf("%d writes after the release, want 1", n)
		}
		if n := countSince(sched.reads, start, start.Add(time.Second)); n > 3 {
			t.Errorf("%d reads in the first second, want at most 3", n)
		}
		steady := countSince(sched.reads, start.Add(10*time.Second), released)
		if steady < 33 || steady > 100 {
			t.Errorf("%d reads from 10 s to 60 s, want 33 to 100: one a second, the cap, ±50 %% jitter", steady)
		}
		if late := time.Since(released); late > 1500*time.Millisecond {
			t.Errorf("the waiter took the lock %v after the release, more than the longest backoff sleep", late)
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
