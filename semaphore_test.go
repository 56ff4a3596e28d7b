package dynamutex_test

import (
	"context"
	"errors"
	"maps"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/dynamutex/dynamutex"
	"github.com/dynamutex/dynamutex/dynamutextest"
)

// semRig is a Session on a tapped in-memory store inside a synctest bubble,
// with the requests made so far forgotten.
func semRig(t *testing.T, db *dynamutextest.Store, opts ...dynamutex.Option) (*tap, *dynamutex.Session) {
	t.Helper()
	c := newTap(db)
	s := memSession(t, c, opts...)
	t.Cleanup(func() { _ = s.Close(context.Background()) })
	return c, s
}

// since returns the requests made by SDK operation since before.
func since(c *tap, before map[string]int) map[string]int {
	now := c.byOperation()
	for op, n := range before {
		now[op] -= n
		if now[op] == 0 {
			delete(now, op)
		}
	}
	return now
}

func mustAcquire(t *testing.T, sem *dynamutex.Semaphore) (context.Context, *dynamutex.Permit) {
	t.Helper()
	pctx, p, err := sem.Acquire(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return pctx, p
}

// An uncontended Acquire is one BatchGetItem and one acquire write; its
// context carries the permit's Lease, fenced by the permit key's token.
func TestSemaphoreUncontendedTwoRequests(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c, s := semRig(t, dynamutextest.New())
		sem := s.NewSemaphore("deploys", 3)
		before := c.byOperation()
		pctx, p := mustAcquire(t, sem)
		if got, want := since(c, before), map[string]int{"BatchGetItem": 1, "UpdateItem": 1}; !maps.Equal(got, want) {
			t.Errorf("requests = %v, want %v", got, want)
		}
		l, ok := dynamutex.LeaseFrom(pctx)
		if !ok || l != p.Lease() || l.Key() != dynamutex.PermitKey("deploys", p.Index()) || l.Token() == 0 {
			t.Errorf("lease %v (ok %v) for permit %d, want the permit's own, with a token", l, ok, p.Index())
		}
		if p.Index() < 0 || p.Index() >= 3 {
			t.Errorf("index %d out of 0..2", p.Index())
		}
		if err := p.Release(context.Background()); err != nil {
			t.Fatal(err)
		}
		if !errors.Is(context.Cause(pctx), dynamutex.ErrUnlocked) {
			t.Errorf("cause after Release = %v, want ErrUnlocked", context.Cause(pctx))
		}
		if err := p.Release(context.Background()); !errors.Is(err, dynamutex.ErrNotLocked) {
			t.Errorf("second Release = %v, want ErrNotLocked", err)
		}
	})
}

// With every permit held, TryAcquire makes one request and says so; the
// n holders hold n different permits.
func TestSemaphoreTryAcquireFull(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c, s := semRig(t, dynamutextest.New())
		sem := s.NewSemaphore("jobs", 3)
		held := map[int]bool{}
		for range 3 {
			_, p := mustAcquire(t, sem)
			held[p.Index()] = true
		}
		if len(held) != 3 {
			t.Fatalf("3 holders hold permits %v, want 3 different ones", held)
		}
		before := c.byOperation()
		_, p, err := sem.TryAcquire(context.Background())
		if !errors.Is(err, dynamutex.ErrNoPermit) || p != nil {
			t.Errorf("TryAcquire when full = %v, %v; want ErrNoPermit", p, err)
		}
		if got, want := since(c, before), map[string]int{"BatchGetItem": 1}; !maps.Equal(got, want) {
			t.Errorf("requests = %v, want %v", got, want)
		}
	})
}

// A waiter behind holders that died takes a permit over exactly one lease
// after it first saw them, polling with one BatchGetItem per poll and
// writing once.
func TestSemaphoreTakeoverByWatching(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		db := dynamutextest.New()
		dead := memSession(t, db, dynamutex.WithOwner("dead"))
		var tokens []uint64
		for range 2 {
			_, p := mustAcquire(t, dead.NewSemaphore("jobs", 2))
			tokens = append(tokens, p.Lease().Token())
		}
		if err := dead.Close(context.Background()); err != nil { // leaves both records held
			t.Fatal(err)
		}
		c, s := semRig(t, db, dynamutex.WithOwner("waiter"))
		before := c.byOperation()
		start := time.Now()
		_, p := mustAcquire(t, s.NewSemaphore("jobs", 2))
		if took := time.Since(start); took != dynamutex.DefaultLeaseDuration {
			t.Errorf("takeover after %v, want exactly the lease, %v", took, dynamutex.DefaultLeaseDuration)
		}
		got := since(c, before)
		if got["UpdateItem"] != 1 || got["BatchGetItem"] < 2 || len(got) != 2 {
			t.Errorf("requests = %v, want polls by BatchGetItem alone and one write", got)
		}
		if tok := p.Lease().Token(); tok != tokens[0]+1 && tok != tokens[1]+1 {
			t.Errorf("token %d after takeover, want one more than a dead holder's (%v)", tok, tokens)
		}
	})
}

// Under WithClockBound a brand-new Session takes a dead holder's permit
// at once, in two requests.
func TestSemaphoreTakeoverByClock(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		db := dynamutextest.New()
		bound := dynamutex.WithClockBound(time.Second)
		dead := memSession(t, db, dynamutex.WithOwner("dead"), bound)
		mustAcquire(t, dead.NewSemaphore("jobs", 1))
		if err := dead.Close(context.Background()); err != nil {
			t.Fatal(err)
		}
		time.Sleep(dynamutex.DefaultLeaseDuration + 10*time.Second)
		c, s := semRig(t, db, dynamutex.WithOwner("new"), bound)
		before := c.byOperation()
		start := time.Now()
		mustAcquire(t, s.NewSemaphore("jobs", 1))
		if took := time.Since(start); took != 0 {
			t.Errorf("clock takeover took %v, want no wait", took)
		}
		if got, want := since(c, before), map[string]int{"BatchGetItem": 1, "UpdateItem": 1}; !maps.Equal(got, want) {
			t.Errorf("requests = %v, want %v", got, want)
		}
	})
}

// A waiter wakes when a holder releases, costing one BatchGetItem per poll.
func TestSemaphoreWaiterGetsReleasedPermit(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c, s := semRig(t, dynamutextest.New())
		sem := s.NewSemaphore("jobs", 1)
		_, p := mustAcquire(t, sem)
		before, acquires := c.byOperation(), c.count(opAcquire)
		done := make(chan *dynamutex.Permit)
		go func() {
			_, q, err := sem.Acquire(context.Background())
			if err != nil {
				t.Error(err)
			}
			done <- q
		}()
		time.Sleep(10 * time.Second)
		synctest.Wait()
		polls := since(c, before)["BatchGetItem"]
		if polls < 2 || c.count(opAcquire) != acquires {
			t.Errorf("waiting 10 s: %v, %d acquire writes; want polls by BatchGetItem alone",
				since(c, before), c.count(opAcquire)-acquires)
		}
		if err := p.Release(context.Background()); err != nil {
			t.Fatal(err)
		}
		q := <-done
		if q == nil || q.Index() != 0 || q.Lease().Token() != p.Lease().Token()+1 {
			t.Errorf("waiter got %v, want permit 0 at the next token", q)
		}
	})
}

// Shrinking n: the holder of a permit beyond the new n keeps it, and a
// Semaphore of the new n never takes it, even once it is free.
func TestSemaphoreShrink(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		_, s := semRig(t, dynamutextest.New())
		ctx := context.Background()
		three := s.NewSemaphore("jobs", 3)
		byIndex := map[int]*dynamutex.Permit{}
		for range 3 {
			_, p := mustAcquire(t, three)
			byIndex[p.Index()] = p
		}
		for _, i := range []int{0, 1} {
			if err := byIndex[i].Release(ctx); err != nil {
				t.Fatal(err)
			}
		}
		two := s.NewSemaphore("jobs", 2)
		for range 2 {
			if _, p := mustAcquire(t, two); p.Index() > 1 {
				t.Errorf("n = 2 took permit %d", p.Index())
			}
		}
		if _, _, err := two.TryAcquire(ctx); !errors.Is(err, dynamutex.ErrNoPermit) {
			t.Errorf("third permit of n = 2 while permit 2 is held: %v, want ErrNoPermit", err)
		}
		if err := byIndex[2].Release(ctx); err != nil {
			t.Fatal(err)
		}
		if _, _, err := two.TryAcquire(ctx); !errors.Is(err, dynamutex.ErrNoPermit) {
			t.Errorf("third permit of n = 2 after permit 2 freed: %v, want ErrNoPermit", err)
		}
	})
}

// A permit whose record another process took is lost: its context says
// so, and Release returns a *LostError.
func TestSemaphoreReleaseLost(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		db := dynamutextest.New()
		_, s := semRig(t, db)
		pctx, p := mustAcquire(t, s.NewSemaphore("jobs", 1))
		putItem(t, db, "locks", heldRecord(dynamutex.PermitKey("jobs", 0), "thief", p.Lease().Token()+1, time.Minute))
		time.Sleep(dynamutex.DefaultHeartbeatPeriod + time.Second)
		if !errors.Is(context.Cause(pctx), dynamutex.ErrLockLost) {
			t.Errorf("cause = %v, want ErrLockLost", context.Cause(pctx))
		}
		var le *dynamutex.LostError
		if err := p.Release(context.Background()); !errors.As(err, &le) {
			t.Errorf("Release = %v, want a *LostError", err)
		}
	})
}

// A permit's Lease fences writes with GuardedWrite like a lock's.
func TestSemaphoreGuardedWrite(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		db := dynamutextest.New()
		_, s := semRig(t, db)
		ctx := context.Background()
		if err := dynamutex.CreateTable(ctx, db, "data"); err != nil {
			t.Fatal(err)
		}
		_, p := mustAcquire(t, s.NewSemaphore("jobs", 2))
		if err := p.Lease().GuardedWrite(ctx, putDoc("data", "doc", p.Lease().Token())); err != nil {
			t.Fatal(err)
		}
		if err := p.Release(ctx); err != nil {
			t.Fatal(err)
		}
		if err := p.Lease().GuardedWrite(ctx, putDoc("data", "doc", p.Lease().Token())); err == nil {
			t.Error("GuardedWrite after Release succeeded")
		}
	})
}

// Under a session lease, permits are held by the Session record, and a
// dead Session's permits are free as soon as its record is revoked.
func TestSemaphoreSessionLease(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		db := dynamutextest.New()
		dead := memSession(t, db, dynamutex.WithOwner("dead"), dynamutex.WithSessionLease())
		mustAcquire(t, dead.NewSemaphore("jobs", 1))
		if err := dead.Close(context.Background()); err != nil {
			t.Fatal(err)
		}
		_, s := semRig(t, db, dynamutex.WithSessionLease())
		sem := s.NewSemaphore("jobs", 1)
		if _, _, err := sem.TryAcquire(context.Background()); err != nil && !errors.Is(err, dynamutex.ErrNoPermit) {
			t.Fatal(err)
		}
		start := time.Now()
		_, p := mustAcquire(t, sem)
		if took := time.Since(start); took > dynamutex.DefaultLeaseDuration {
			t.Errorf("took %v, want within a lease", took)
		}
		if err := p.Release(context.Background()); err != nil {
			t.Fatal(err)
		}
	})
}

// Unprocessed keys of a BatchGetItem are read again within the same poll.
func TestSemaphoreUnprocessedKeys(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		db := dynamutextest.New()
		c, s := semRig(t, db)
		sem := s.NewSemaphore("jobs", 3)
		for range 2 {
			mustAcquire(t, sem)
		}
		db.LeaveUnprocessed(3)
		before := c.byOperation()
		_, p := mustAcquire(t, sem)
		if got, want := since(c, before), map[string]int{"BatchGetItem": 2, "UpdateItem": 1}; !maps.Equal(got, want) {
			t.Errorf("requests = %v, want %v", got, want)
		}
		if p == nil {
			t.Fatal("no permit")
		}
	})
}

// Bad input is reported by every method before any request.
func TestSemaphoreBadInput(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		db := dynamutextest.New()
		c, s := semRig(t, db)
		java := memSessionOn(t, c, "java", dynamutex.WithFormat(dynamutex.FormatJava))
		defer java.Close(context.Background())
		cases := []struct {
			sem  *dynamutex.Semaphore
			want error
		}{
			{s.NewSemaphore("", 3), dynamutex.ErrInvalidKey},
			{s.NewSemaphore(string(make([]byte, 2100)), 3), dynamutex.ErrInvalidKey},
			{s.NewSemaphore("x", 0), dynamutex.ErrInvalidSemaphore},
			{s.NewSemaphore("x", 101), dynamutex.ErrInvalidSemaphore},
			{java.NewSemaphore("x", 3), dynamutex.ErrInvalidSemaphore},
		}
		before := c.byOperation()
		for i, tc := range cases {
			if _, _, err := tc.sem.Acquire(context.Background()); !errors.Is(err, tc.want) {
				t.Errorf("case %d: Acquire = %v, want %v", i, err, tc.want)
			}
			if _, _, err := tc.sem.TryAcquire(context.Background()); !errors.Is(err, tc.want) {
				t.Errorf("case %d: TryAcquire = %v, want %v", i, err, tc.want)
			}
		}
		if _, err := s.NewMutex(dynamutex.PermitKey("x", 0)).TryLock(context.Background()); !errors.Is(err, dynamutex.ErrInvalidKey) {
			t.Errorf("a Mutex on a permit key: %v, want ErrInvalidKey", err)
		}
		if got := since(c, before); len(got) != 0 {
			t.Errorf("requests = %v, want none", got)
		}
	})
}

// Contending goroutines of several Sessions never hold more than n
// permits at once, and each gets one.
func TestSemaphoreContention(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		db := dynamutextest.New()
		var mu sync.Mutex
		holders, most := 0, 0
		var wg sync.WaitGroup
		sessions := make([]*dynamutex.Session, 4)
		for i := range sessions {
			_, sessions[i] = semRig(t, db)
		}
		for i := range 12 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, p, err := sessions[i%4].NewSemaphore("jobs", 3).Acquire(context.Background())
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				holders++
				most = max(most, holders)
				mu.Unlock()
				time.Sleep(time.Second)
				mu.Lock()
				holders--
				mu.Unlock()
				if err := p.Release(context.Background()); err != nil {
					t.Error(err)
				}
			}()
		}
		wg.Wait()
		if most != 3 {
			t.Errorf("most holders at once = %d, want 3", most)
		}
	})
}
