package dynamutextest_test

import (
	"context"
	"errors"
	"log/slog"
	"testing"
	"time"

	"github.com/dynamutex/dynamutex"
)

// These cases run dynamutex itself on both backends, with leases short
// enough for the whole group to take a few seconds. The assertions on time
// are lower bounds only: the machine running them may be slow.

func TestConformanceLibrary(t *testing.T) {
	runConformance(t, []conformanceCase{
		{"LockUnlockTokensIncrease", caseLibraryTokens},
		{"TryLockWhileHeld", caseLibraryTryLock},
		{"TakeoverOfAbandonedLock", caseLibraryTakeover},
		{"ClockTakeoverAtFirstLook", caseLibraryClockTakeover},
		{"ClockStampOfAnEarlierVersionIgnored", caseLibraryStaleStamp},
	})
}

const (
	testLease     = 600 * time.Millisecond
	testSafe      = 400 * time.Millisecond
	testHeartbeat = 100 * time.Millisecond
)

// librarySession creates the lock table (once per test) and opens a Session
// with short leases, closed when the test ends.
func librarySession(t *testing.T, c api, table string, opts ...dynamutex.Option) *dynamutex.Session {
	t.Helper()
	if err := dynamutex.CreateTable(ctx, c, table); err != nil {
		t.Fatal(err)
	}
	s, err := dynamutex.NewSession(ctx, c, table, append([]dynamutex.Option{
		dynamutex.WithLeaseDuration(testLease), dynamutex.WithSafeTime(testSafe), dynamutex.WithHeartbeatPeriod(testHeartbeat),
		dynamutex.WithLogger(slog.New(slog.DiscardHandler))}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close(context.Background()) })
	return s
}

func leaseOf(t *testing.T, lctx context.Context) *dynamutex.Lease {
	t.Helper()
	l, ok := dynamutex.LeaseFrom(lctx)
	if !ok {
		t.Fatal("the lock context carries no Lease")
	}
	return l
}

func caseLibraryTokens(t *testing.T, c api) {
	table := tableName(t, c)
	s := librarySession(t, c, table, dynamutex.WithOwner("owner-a"))
	m := s.NewMutex("job")
	var last uint64
	for i := range 3 {
		lctx, err := m.Lock(ctx)
		mustOK(t, err)
		tok := leaseOf(t, lctx).Token()
		if tok <= last {
			t.Errorf("acquisition %d: token %d not above %d", i, tok, last)
		}
		last = tok
		mustOK(t, m.Unlock(ctx))
		if cause := context.Cause(lctx); !errors.Is(cause, dynamutex.ErrUnlocked) {
			t.Errorf("lock context ended with %v, want ErrUnlocked", cause)
		}
	}
}

func caseLibraryTryLock(t *testing.T, c api) {
	table := tableName(t, c)
	a := librarySession(t, c, table, dynamutex.WithOwner("owner-a"))
	b := librarySession(t, c, table, dynamutex.WithOwner("owner-b"))
	ma, mb := a.NewMutex("job"), b.NewMutex("job")
	actx, err := ma.Lock(ctx)
	mustOK(t, err)
	held := leaseOf(t, actx).Token()

	_, err = mb.TryLock(ctx)
	var he *dynamutex.HeldError
	if !errors.Is(err, dynamutex.ErrLocked) || !errors.As(err, &he) {
		t.Fatalf("TryLock while held: %v, want a *HeldError", err)
	}
	if he.Owner != "owner-a" || he.Token != held || he.Lease != testLease || he.Local {
		t.Errorf("HeldError %+v, want owner-a, token %d, lease %v", he, held, testLease)
	}
	mustOK(t, ma.Unlock(ctx))
	bctx, err := mb.TryLock(ctx)
	mustOK(t, err)
	if tok := leaseOf(t, bctx).Token(); tok <= held {
		t.Errorf("token after release %d, not above %d", tok, held)
	}
	mustOK(t, mb.Unlock(ctx))
}

func caseLibraryTakeover(t *testing.T, c api) {
	table := tableName(t, c)
	a := librarySession(t, c, table, dynamutex.WithOwner("crashed"))
	b := librarySession(t, c, table, dynamutex.WithOwner("waiter"))
	actx, err := a.NewMutex("job").Lock(ctx)
	mustOK(t, err)
	old := leaseOf(t, actx).Token()
	// Close does not release: the record stays held until a waiter has
	// watched it unchanged for a whole lease.
	mustOK(t, a.Close(ctx))
	if cause := context.Cause(actx); !errors.Is(cause, dynamutex.ErrSessionClosed) {
		t.Errorf("abandoned lock context ended with %v, want ErrSessionClosed", cause)
	}

	wctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	mb := b.NewMutex("job")
	start := time.Now()
	bctx, err := mb.Lock(wctx)
	mustOK(t, err)
	if waited := time.Since(start); waited < testLease {
		t.Errorf("took the lock over after %v, before the lease of %v", waited, testLease)
	}
	if tok := leaseOf(t, bctx).Token(); tok <= old {
		t.Errorf("token after takeover %d, not above %d", tok, old)
	}
	mustOK(t, mb.Unlock(ctx))
}
