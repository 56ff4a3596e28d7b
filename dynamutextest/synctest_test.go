package dynamutextest_test

import (
	"context"
	"log/slog"
	"testing"
	"testing/synctest"
	"time"

	"github.com/dynamutex/dynamutex"
	"github.com/dynamutex/dynamutex/dynamutextest"
)

// The Store starts no goroutines and never sleeps, so the library runs
// against it inside a testing/synctest bubble, where time is fake and
// advances only when every goroutine waits. A whole lease then passes in no
// real time, and its length can be asserted exactly.

func fakeTimeSession(t *testing.T, db dynamutex.DynamoDBAPI, owner string, opts ...dynamutex.Option) *dynamutex.Session {
	t.Helper()
	opts = append([]dynamutex.Option{dynamutex.WithOwner(owner), dynamutex.WithLeaseDuration(testLease),
		dynamutex.WithSafeTime(testSafe), dynamutex.WithHeartbeatPeriod(testHeartbeat),
		dynamutex.WithLogger(slog.New(slog.DiscardHandler))}, opts...)
	s, err := dynamutex.NewSession(context.Background(), db, "locks", opts...)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// A lock abandoned by a Session closed without Unlock is taken over one
// lease after the waiter first looked, to within a heartbeat.
func TestSynctestTakeoverAfterOneLease(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx := context.Background()
		db := dynamutextest.New()
		mustOK(t, dynamutex.CreateTable(ctx, db, "locks"))
		a := fakeTimeSession(t, db, "crashed")
		b := fakeTimeSession(t, db, "waiter")
		defer b.Close(ctx)

		actx, err := a.NewMutex("k").Lock(ctx)
		mustOK(t, err)
		old := leaseOf(t, actx).Token()
		mustOK(t, a.Close(ctx))

		start := time.Now()
		m := b.NewMutex("k")
		bctx, err := m.Lock(ctx)
		mustOK(t, err)
		if waited := time.Since(start); waited < testLease || waited > testLease+testHeartbeat {
			t.Errorf("took over after %v, want the lease %v to within %v", waited, testLease, testHeartbeat)
		}
		if tok := leaseOf(t, bctx).Token(); tok != old+1 {
			t.Errorf("token after takeover %d, want %d", tok, old+1)
		}
		mustOK(t, m.Unlock(ctx))
	})
}

// The Store's default clock is time.Now, which the bubble fakes: a record
// left idle past its expiry is deleted by ExpireTTL, and the next
// acquisition's token still exceeds the last one, seeded from the clock.
func TestSynctestExpireTTLWithFakeClock(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx := context.Background()
		db := dynamutextest.New()
		mustOK(t, dynamutex.CreateTable(ctx, db, "locks"))
		s := fakeTimeSession(t, db, "owner", dynamutex.WithExpiry(time.Hour))
		defer s.Close(ctx)
		m := s.NewMutex("k")
		lctx, err := m.Lock(ctx)
		mustOK(t, err)
		first := leaseOf(t, lctx).Token()
		mustOK(t, m.Unlock(ctx))

		if n := db.ExpireTTL(); n != 0 {
			t.Fatalf("ExpireTTL deleted %d records before their expiry", n)
		}
		time.Sleep(time.Hour + time.Second)
		if n := db.ExpireTTL(); n != 1 {
			t.Fatalf("ExpireTTL deleted %d records, want 1", n)
		}
		lctx, err = m.Lock(ctx)
		mustOK(t, err)
		if tok := leaseOf(t, lctx).Token(); tok <= first {
			t.Errorf("token after TTL deletion %d, not above %d", tok, first)
		}
		mustOK(t, m.Unlock(ctx))
	})
}
