package dynamutex_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/dynamutex/dynamutex"
	"github.com/dynamutex/dynamutex/dynamutextest"
)

// LockWithin bounds the wait and nothing else: a lock granted within the
// bound keeps its context long after the bound has passed, where Lock with
// a timeout context would have ended it at the timeout.
func TestSynctestLockWithinBoundsTheWaitOnly(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx := context.Background()
		s := memSession(t, dynamutextest.New())
		defer s.Close(ctx)

		m := s.NewMutex("k")
		lctx, err := m.LockWithin(ctx, time.Second)
		if err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Minute) // renewals keep it; the bound is long past
		if err := context.Cause(lctx); err != nil {
			t.Fatalf("the lock's context ended with %v after the wait bound", err)
		}

		tctx, cancel := context.WithTimeout(ctx, time.Second)
		defer cancel()
		if err := m.Unlock(ctx); err != nil {
			t.Fatal(err)
		}
		bctx, err := m.Lock(tctx) // the pattern LockWithin replaces
		if err != nil {
			t.Fatal(err)
		}
		time.Sleep(2 * time.Second)
		if !errors.Is(context.Cause(bctx), context.DeadlineExceeded) {
			t.Fatalf("Lock's context under a timeout: cause %v, want the deadline", context.Cause(bctx))
		}
		if err := m.Unlock(ctx); err != nil {
			t.Fatal(err)
		}
	})
}

// A LockWithin whose bound runs out while another process holds the lock
// returns exactly at the bound, with a *HeldError that names the holder.
// The same holds for a holder in the same Session, with no request.
func TestSynctestLockWithinNamesTheHolder(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx := context.Background()
		db := dynamutextest.New()
		holder := memSession(t, db, dynamutex.WithOwner("holder"))
		defer holder.Close(ctx)
		waiter := memSession(t, db, dynamutex.WithOwner("waiter"))
		defer waiter.Close(ctx)
		hm := holder.NewMutex("k")
		if _, err := hm.Lock(ctx); err != nil {
			t.Fatal(err)
		}

		for name, m := range map[string]*dynamutex.Mutex{"other process": waiter.NewMutex("k"), "same Session": holder.NewMutex("k")} {
			start := time.Now()
			_, err := m.LockWithin(ctx, 3*time.Second)
			var held *dynamutex.HeldError
			switch {
			case time.Since(start) != 3*time.Second:
				t.Errorf("%s: gave up after %v, want the 3s bound", name, time.Since(start))
			case !errors.As(err, &held) || !errors.Is(err, dynamutex.ErrLocked):
				t.Errorf("%s: got %v, want a *HeldError", name, err)
			case held.Owner != "holder" || !strings.Contains(held.Reason, "waited 3s"):
				t.Errorf("%s: %+v does not name the holder and the bound", name, held)
			}
		}
		if err := hm.Unlock(ctx); err != nil {
			t.Fatal(err)
		}
	})
}

// A wait bound that is not positive is a mistake, refused before any request.
func TestLockWithinRefusesNoWait(t *testing.T) {
	c, _, s := setup(t)
	before := c.total()
	for _, d := range []time.Duration{0, -time.Second} {
		var oe *dynamutex.OptionError
		if _, err := s.NewMutex("k").LockWithin(context.Background(), d); !errors.As(err, &oe) || oe.Option != "LockWithin" {
			t.Errorf("LockWithin(%v): %v, want an *OptionError", d, err)
		}
	}
	if n := c.total() - before; n != 0 {
		t.Errorf("%d requests made", n)
	}
}
