package dynamutex_test

import (
	"context"
	"errors"
	"testing"
	"testing/synctest"
	"time"

	"github.com/dynamutex/dynamutex"
	"github.com/dynamutex/dynamutex/dynamutextest"
	"github.com/dynamutex/dynamutex/internal/wallclock"
)

// The clock-bound tests run at the default 20 s lease in a synctest bubble,
// where the fake clock starts on a whole second, so that every deadline and
// takeover falls on an exact, predictable instant.

const testBound = 10 * time.Millisecond

// crash locks key in a new Session and closes it without Unlock, as a
// process that died would leave the record: held, no longer renewed. It
// returns the token and the time the acquiring write was sent.
func crash(t *testing.T, db dynamutex.DynamoDBAPI, key string, opts ...dynamutex.Option) (uint64, time.Time) {
	t.Helper()
	ctx := context.Background()
	s := memSession(t, db, append([]dynamutex.Option{dynamutex.WithOwner("crashed")}, opts...)...)
	sent := time.Now()
	lctx, err := s.NewMutex(key).Lock(ctx)
	if err != nil {
		t.Fatal(err)
	}
	tok := mustLease(t, lctx).Token()
	if err := s.Close(ctx); err != nil {
		t.Fatal(err)
	}
	return tok, sent
}

// A cold start (a brand-new Session, as in each AWS Lambda invocation) with a
// bound takes a lock whose holder died, and declared a bound too, in its
// first request: DescribeTable, then one UpdateItem.
func TestSynctestClockTakeoverColdStart(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx := context.Background()
		store := dynamutextest.New()
		old, _ := crash(t, store, "job", dynamutex.WithClockBound(testBound))
		time.Sleep(3 * dynamutex.DefaultLeaseDuration)

		db := newTap(store)
		s := memSession(t, db, dynamutex.WithClockBound(testBound))
		defer s.Close(ctx)
		m := s.NewMutex("job")
		lctx, err := m.TryLock(ctx)
		if err != nil {
			t.Fatalf("TryLock of a dead holder's lock with a bound: %v", err)
		}
		if tok := mustLease(t, lctx).Token(); tok != old+1 {
			t.Errorf("token = %d, want %d", tok, old+1)
		}
		// memSession's CreateTable makes a DescribeTable of its own.
		if n := db.byOperation(); n["DescribeTable"] != 2 || n["UpdateItem"] != 1 {
			t.Errorf("cold start made %d DescribeTable (1 of them CreateTable's) and %d UpdateItem, want 2 and 1", n["DescribeTable"], n["UpdateItem"])
		}
		if err := m.Unlock(ctx); err != nil {
			t.Fatal(err)
		}
	})
}

// Without a bound on either side, the same cold start is refused, and the
// refusal carries the holder's last write as a hint.
func TestSynctestNoClockTakeoverWithoutBounds(t *testing.T) {
	for _, c := range []struct {
		name          string
		holder, taker []dynamutex.Option
	}{
		{"taker without bound", []dynamutex.Option{dynamutex.WithClockBound(testBound)}, nil},
		{"holder without bound", nil, []dynamutex.Option{dynamutex.WithClockBound(testBound)}},
	} {
		t.Run(c.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				ctx := context.Background()
				store := dynamutextest.New()
				_, sent := crash(t, store, "job", c.holder...)
				time.Sleep(3 * dynamutex.DefaultLeaseDuration)

				s := memSession(t, store, c.taker...)
				defer s.Close(ctx)
				_, err := s.NewMutex("job").TryLock(ctx)
				var held *dynamutex.HeldError
				if !errors.As(err, &held) {
					t.Fatalf("TryLock = %v, want a *HeldError", err)
				}
				if !held.LastWrite.Equal(sent) {
					t.Errorf("HeldError.LastWrite = %v, want the holder's send time %v", held.LastWrite, sent)
				}
				// Observation still works: the same Session, a lease later.
				time.Sleep(dynamutex.DefaultLeaseDuration)
				if _, err := s.NewMutex("job").TryLock(ctx); err != nil {
					t.Errorf("TryLock a lease after the first look: %v, want a takeover by observation", err)
				}
			})
		})
	}
}

// A waiter that is watching when the holder dies takes over exactly when the
// holder's deadline has passed by its own clock less its bound: the lease,
// both bounds and a millisecond after the last write, well before the lease
// it would otherwise watch from its first look.
func TestSynctestClockTakeoverWhileWatching(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx := context.Background()
		store := dynamutextest.New()
		holder := memSession(t, store, dynamutex.WithClockBound(testBound))
		sent := time.Now()
		if _, err := holder.NewMutex("job").Lock(ctx); err != nil {
			t.Fatal(err)
		}
		time.Sleep(2 * time.Second) // before the first renewal, at 3.75 s or later
		if err := holder.Close(ctx); err != nil {
			t.Fatal(err)
		}

		waiter := memSession(t, store, dynamutex.WithClockBound(testBound))
		defer waiter.Close(ctx)
		m := waiter.NewMutex("job")
		if _, err := m.Lock(ctx); err != nil {
			t.Fatal(err)
		}
		want := dynamutex.DefaultLeaseDuration + 2*testBound + time.Millisecond
		if took := time.Since(sent); took != want {
			t.Errorf("takeover %v after the last write, want exactly %v", took, want)
		}
		if err := m.Unlock(ctx); err != nil {
			t.Fatal(err)
		}
	})
}

// A live holder with a bound moves its deadline on with every renewal, so
// takers with a bound never take it over by clock, however long they try.
func TestSynctestLiveHolderKeepsItsDeadline(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx := context.Background()
		store := dynamutextest.New()
		holder := memSession(t, store, dynamutex.WithClockBound(testBound))
		defer holder.Close(ctx)
		hm := holder.NewMutex("job")
		hctx, err := hm.Lock(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for i := range 30 {
			time.Sleep(dynamutex.DefaultLeaseDuration / 2)
			s := memSession(t, store, dynamutex.WithClockBound(testBound))
			_, err := s.NewMutex("job").TryLock(ctx)
			var held *dynamutex.HeldError
			if !errors.As(err, &held) {
				t.Fatalf("TryLock %d against a live holder: %v, want a *HeldError", i, err)
			}
			if age := time.Since(held.LastWrite); age > dynamutex.DefaultHeartbeatPeriod {
				t.Errorf("TryLock %d: the live holder last wrote %v ago, more than a heartbeat period", i, age)
			}
			if err := s.Close(ctx); err != nil {
				t.Fatal(err)
			}
		}
		if hctx.Err() != nil {
			t.Fatalf("holder's context ended: %v", context.Cause(hctx))
		}
		if err := hm.Unlock(ctx); err != nil {
			t.Fatal(err)
		}
	})
}

// A holder whose clock is behind by more than its bound writes deadlines
// that are too early, and is taken over while its context is still live:
// two holders at once. The bound is what the guarantee rests on. (The Date
// check cannot see every such offset; the chaos harness's clock mode shows
// the same with real processes.)
func TestSynctestWrongBoundTakesOverEarly(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx := context.Background()
		store := dynamutextest.New()
		behind := 8 * time.Second
		// Its renewals fail, so the record keeps the acquisition's deadline.
		holder := memSession(t, failRenewals(store), dynamutex.WithClockBound(testBound))
		defer holder.Close(ctx)
		wallclock.SetOffset(-behind)
		sent := time.Now()
		hctx, err := holder.NewMutex("job").Lock(ctx)
		wallclock.SetOffset(0)
		if err != nil {
			t.Fatal(err)
		}
		time.Sleep(dynamutex.DefaultLeaseDuration - behind + 2*testBound + time.Millisecond)
		taker := memSession(t, store, dynamutex.WithClockBound(testBound))
		defer taker.Close(ctx)
		if _, err := taker.NewMutex("job").TryLock(ctx); err != nil {
			t.Fatalf("TryLock %v after the write of a holder %v behind: %v, want the early takeover", time.Since(sent), behind, err)
		}
		if hctx.Err() != nil {
			t.Errorf("the holder's context ended (%v) before the early takeover; the test shows nothing", context.Cause(hctx))
		}
	})
}

// A clock deadline counts only for Sessions of the format that stamped it:
// a native Session with a bound does not take a dead Java-format holder's
// lock by clock (it must watch it for a lease), while a Java-format Session
// with a bound takes it in its first request.
func TestSynctestClockTakeoverOnlyInOneFormat(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx := context.Background()
		store := dynamutextest.New()
		java := dynamutex.WithFormat(dynamutex.FormatJava)
		crash(t, store, "job", dynamutex.WithClockBound(testBound), java)
		time.Sleep(3 * dynamutex.DefaultLeaseDuration)

		native := memSession(t, store, dynamutex.WithClockBound(testBound))
		defer native.Close(ctx)
		wctx, cancel := context.WithTimeout(ctx, time.Second)
		defer cancel()
		if _, err := native.NewMutex("job").Lock(wctx); !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("a native Session's Lock of a Java-format record past its deadline: %v, want it still waiting after 1s", err)
		}
		same := memSession(t, store, dynamutex.WithClockBound(testBound), java)
		defer same.Close(ctx)
		if _, err := same.NewMutex("job").TryLock(ctx); err != nil {
			t.Fatalf("a Java-format Session's TryLock past the deadline: %v", err)
		}
	})
}
