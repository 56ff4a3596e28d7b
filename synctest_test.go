package dynamutex_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/dynamutex/dynamutex"
	"github.com/dynamutex/dynamutex/dynamutextest"
)

// These tests run the library with its default timings (a 20 s lease, a 5 s
// heartbeat, a 15 s safe time) against the in-memory store inside a
// testing/synctest bubble. Time there is fake and advances only when every
// goroutine of the bubble is blocked, so the timing claims of the package
// documentation can be asserted exactly, without waiting for them.

// memSession opens a Session with opts on a fresh table "locks" of db. It
// must be called inside the bubble.
func memSession(t *testing.T, db dynamutex.DynamoDBAPI, opts ...dynamutex.Option) *dynamutex.Session {
	t.Helper()
	return memSessionOn(t, db, "locks", opts...)
}

// memSessionOn opens a Session with opts on a fresh table of db, table.
// It must be called inside the bubble.
func memSessionOn(t *testing.T, db dynamutex.DynamoDBAPI, table string, opts ...dynamutex.Option) *dynamutex.Session {
	t.Helper()
	ctx := context.Background()
	if err := dynamutex.CreateTable(ctx, db, table); err != nil {
		t.Fatal(err)
	}
	s, err := dynamutex.NewSession(ctx, db, table, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// A crashed holder (a Session closed without Unlock) is taken over exactly
// one lease after the waiter's first look, not sooner and not later: the
// waiter's backoff never sleeps past the moment a takeover becomes possible.
func TestSynctestTakeoverAfterOneLease(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx := context.Background()
		db := dynamutextest.New()
		a := memSession(t, db, dynamutex.WithOwner("crashed"))
		b := memSession(t, db, dynamutex.WithOwner("waiter"))
		defer b.Close(ctx)

		actx, err := a.NewMutex("k").Lock(ctx)
		if err != nil {
			t.Fatal(err)
		}
		old := mustLease(t, actx).Token()
		if err := a.Close(ctx); err != nil {
			t.Fatal(err)
		}

		start := time.Now()
		m := b.NewMutex("k")
		bctx, err := m.Lock(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if took := time.Since(start); took != dynamutex.DefaultLeaseDuration {
			t.Errorf("takeover took %v, want exactly the lease, %v", took, dynamutex.DefaultLeaseDuration)
		}
		if tok := mustLease(t, bctx).Token(); tok != old+1 {
			t.Errorf("token after takeover = %d, want %d", tok, old+1)
		}
		if err := m.Unlock(ctx); err != nil {
			t.Fatal(err)
		}
	})
}

// failRenewals returns db with every renewal failing with a server error,
// as when the holder's network to DynamoDB is cut.
func failRenewals(db testDB) *tap {
	t := newTap(db)
	t.setFault(func(op, _ string, _ any) fault {
		if op == opRenew {
			return fault{status: 500}
		}
		return fault{}
	})
	return t
}

// With renewals failing, the lock context ends with ErrLeaseInDanger exactly
// at the safe time after the acquiring write was sent, and a waiter in
// another Session takes over exactly one lease after its first look: the
// holder hears of danger a full lease − safe time (5 s) before.
func TestSynctestDangerBeforeTakeover(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx := context.Background()
		store := dynamutextest.New()
		rec := &recorder{}
		holder := memSession(t, failRenewals(store), dynamutex.WithObserver(rec))
		defer holder.Close(ctx)
		waiter := memSession(t, store)
		defer waiter.Close(ctx)

		start := time.Now()
		m := holder.NewMutex("k")
		lctx, err := m.Lock(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var dangerAt, takenAt time.Duration
		var wg sync.WaitGroup
		wg.Go(func() {
			<-lctx.Done()
			dangerAt = time.Since(start)
		})
		wg.Go(func() {
			w := waiter.NewMutex("k")
			if _, err := w.Lock(ctx); err != nil {
				t.Error(err)
				return
			}
			takenAt = time.Since(start)
			if err := w.Unlock(ctx); err != nil {
				t.Error(err)
			}
		})
		wg.Wait()
		if !errors.Is(context.Cause(lctx), dynamutex.ErrLeaseInDanger) {
			t.Errorf("cause = %v, want ErrLeaseInDanger", context.Cause(lctx))
		}
		if dangerAt != dynamutex.DefaultSafeTime {
			t.Errorf("danger after %v, want exactly the safe time, %v", dangerAt, dynamutex.DefaultSafeTime)
		}
		if takenAt != dynamutex.DefaultLeaseDuration {
			t.Errorf("takeover after %v, want exactly the lease, %v", takenAt, dynamutex.DefaultLeaseDuration)
		}
		if n := len(rec.find(dynamutex.EventRenewalFailed, "k")); n < 3 {
			t.Errorf("%d failed renewal attempts before danger, want several retries", n)
		}
		if err := m.Unlock(ctx); !errors.Is(err, dynamutex.ErrLockLost) {
			t.Errorf("Unlock after the takeover = %v, want ErrLockLost", err)
		}
	})
}

// Over ten minutes of holding, every renewal is sent 4.75 s or less after
// the previous one, none is late, and the count is what the schedule
// promises: one per 4.75 s after a first one in the quarter period before
// 4.75 s.
func TestSynctestRenewalCadence(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx := context.Background()
		rec := &recorder{}
		s := memSession(t, dynamutextest.New(), dynamutex.WithObserver(rec))
		defer s.Close(ctx)
		m := s.NewMutex("k")
		lctx, err := m.Lock(ctx)
		if err != nil {
			t.Fatal(err)
		}
		const hold = 10 * time.Minute
		time.Sleep(hold)
		if lctx.Err() != nil {
			t.Fatalf("lock context ended: %v", context.Cause(lctx))
		}
		if err := m.Unlock(ctx); err != nil {
			t.Fatal(err)
		}
		renewals := rec.find(dynamutex.EventRenewed, "k")
		every := dynamutex.DefaultHeartbeatPeriod - dynamutex.DefaultHeartbeatPeriod/20
		lo := int((hold-every)/every) + 1
		hi := int((hold-every+dynamutex.DefaultHeartbeatPeriod/4)/every) + 1
		if len(renewals) < lo || len(renewals) > hi {
			t.Errorf("%d renewals in %v, want %d to %d", len(renewals), hold, lo, hi)
		}
		for i, ev := range renewals {
			if ev.Late || ev.Attempts != 1 || ev.Wait > every {
				t.Fatalf("renewal %d = %+v, want one attempt within %v", i, ev, every)
			}
		}
	})
}

// A TTL sweep of the test store removes a released record once its expiry
// has passed on the bubble's clock, and the next acquisition still gets a
// larger token: the counter is reseeded from the clock.
func TestSynctestTokenAfterTTL(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx := context.Background()
		db := dynamutextest.New()
		s := memSession(t, db)
		defer s.Close(ctx)
		m := s.NewMutex("k")
		lctx, err := m.Lock(ctx)
		if err != nil {
			t.Fatal(err)
		}
		first := mustLease(t, lctx).Token()
		if err := m.Unlock(ctx); err != nil {
			t.Fatal(err)
		}
		if n := db.ExpireTTL(); n != 0 {
			t.Fatalf("ExpireTTL removed %d records before their expiry", n)
		}
		time.Sleep(dynamutex.DefaultExpiry + time.Second)
		if n := db.ExpireTTL(); n != 1 {
			t.Fatalf("ExpireTTL removed %d records after the expiry, want 1", n)
		}
		if _, err := s.Inspect(ctx, "k"); !errors.Is(err, dynamutex.ErrNoRecord) {
			t.Fatalf("Inspect after TTL = %v, want ErrNoRecord", err)
		}
		lctx, err = m.Lock(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if next := mustLease(t, lctx).Token(); next <= first {
			t.Errorf("token after TTL deletion = %d, not above %d", next, first)
		}
		if err := m.Unlock(ctx); err != nil {
			t.Fatal(err)
		}
	})
}

// Guarded writes against the test store behave as against DynamoDB: a
// holder taken over is refused, the new holder's write commits.
func TestSynctestGuardedWriteAfterTakeover(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx := context.Background()
		store := dynamutextest.New()
		stale := memSession(t, failRenewals(store))
		defer stale.Close(ctx)
		next := memSession(t, store)
		defer next.Close(ctx)
		if err := dynamutex.CreateTable(ctx, store, "docs"); err != nil {
			t.Fatal(err)
		}
		ma := stale.NewMutex("k")
		actx, err := ma.Lock(ctx)
		if err != nil {
			t.Fatal(err)
		}
		mb := next.NewMutex("k")
		bctx, err := mb.Lock(ctx)
		if err != nil {
			t.Fatal(err)
		}
		err = mustLease(t, actx).GuardedWrite(ctx, putDoc("docs", "d", 1))
		if !errors.Is(err, dynamutex.ErrLockLost) || !strings.Contains(err.Error(), "taken over") {
			t.Errorf("stale GuardedWrite = %v, want lost: taken over", err)
		}
		if err := mustLease(t, bctx).GuardedWrite(ctx, putDoc("docs", "d", 2)); err != nil {
			t.Errorf("new holder's GuardedWrite = %v", err)
		}
		if err := mb.Unlock(ctx); err != nil {
			t.Fatal(err)
		}
		if err := ma.Unlock(ctx); !errors.Is(err, dynamutex.ErrLockLost) {
			t.Errorf("stale Unlock = %v", err)
		}
	})
}

// Unlock while a renewal hangs waits for that renewal's timeout, then
// releases the record. In a synctest bubble too: the wait is on a channel,
// where fake time goes on, not on a mutex, where it would stop and the
// test (or a user's test of their own code) would hang.
func TestSynctestUnlockWaitsOutStuckRenewal(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c, table, s := setupOn(t, dynamutextest.New())
		ctx := context.Background()
		m := s.NewMutex("stuck")
		if _, err := m.Lock(ctx); err != nil {
			t.Fatal(err)
		}
		c.setFault(func(op, _ string, _ any) fault { return fault{block: op == opRenew} })
		time.Sleep(testHeartbeat) // the first renewal goes out within the first period
		synctest.Wait()
		if n := c.count(opRenew); n != 1 {
			t.Fatalf("%d renewals sent in the first period, want 1 (in flight)", n)
		}
		c.setFault(nil) // the one in flight stays stuck
		start := time.Now()
		if err := m.Unlock(ctx); err != nil {
			t.Fatalf("Unlock during a stuck renewal: %v", err)
		}
		if waited := time.Since(start); waited <= 0 || waited > testHeartbeat {
			t.Errorf("Unlock waited %v, want the rest of the stuck renewal's timeout (at most %v)", waited, testHeartbeat)
		}
		if !attrBool(getItem(t, c, table, "stuck"), "released") {
			t.Error("record not released")
		}
	})
}
