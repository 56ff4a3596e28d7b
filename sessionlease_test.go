package dynamutex_test

import (
	"context"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"


	"github.com/dynamutex/dynamutex"
	"github.com/dynamutex/dynamutex/dynamutextest"
	"github.com/dynamutex/dynamutex/internal/wire"
)

const opSession = string(wire.OpSession)

// isSessionKey tells a Session record's key from a lock's.
func isSessionKey(key string) bool { return strings.HasPrefix(key, wire.SessionKeyPrefix) }

// sessionCounts counts a tap's writes on Session records and on locks.
type sessionCounts struct{ sessionWrites, lockWrites, reads atomic.Int64 }

func (c *sessionCounts) fault(op, key string, in any) fault {
	switch {
	case op == "GetItem":
		c.reads.Add(1)
	case isSessionKey(key):
		c.sessionWrites.Add(1)
	case op != "DescribeTable" && op != "CreateTable" && op != "UpdateTimeToLive" && op != "DescribeTimeToLive":
		c.lockWrites.Add(1)
	}
	return fault{}
}

// One write per heartbeat period keeps any number of locks: 100 locks held
// for ten periods cost 100 acquires, one Session record and ten renewals
// of it, and no write to any lock record in between.
func TestSynctestSessionLeaseOneWritePerPeriod(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx := context.Background()
		tr := newTap(dynamutextest.New())
		var c sessionCounts
		tr.setFault(c.fault)
		s := memSession(t, tr, dynamutex.WithSessionLease())
		defer s.Close(ctx)
		if n := tr.count(opSession); n != 1 {
			t.Fatalf("NewSession sent %d Session record creations, want 1", n)
		}
		var ctxs []context.Context
		for i := range 100 {
			lctx, err := s.NewMutex(fmt.Sprint("k", i)).Lock(ctx)
			if err != nil {
				t.Fatal(err)
			}
			ctxs = append(ctxs, lctx)
		}
		if n := c.lockWrites.Load(); n != 100 {
			t.Fatalf("100 uncontended Locks sent %d lock writes, want 100", n)
		}
		time.Sleep(10 * dynamutex.DefaultHeartbeatPeriod)
		synctest.Wait()
		// Renewals go a twentieth of a period early: 10 in 10 periods.
		if n, w := c.sessionWrites.Load(), int64(1+10); n != w {
			t.Errorf("Session record writes over 10 periods = %d, want %d (its creation and 10 renewals)", n, w)
		}
		if n := c.lockWrites.Load(); n != 100 {
			t.Errorf("lock writes while holding = %d, want none after the 100 acquires", n-100)
		}
		for i, lctx := range ctxs {
			if lctx.Err() != nil {
				t.Fatalf("lock %d ended while held: %v", i, context.Cause(lctx))
			}
		}
	})
}

// A Session that stops renewing (closed with its locks held, as a crash
// leaves them) loses every lock at once: a waiter takes the first exactly
// one lease after it first read the Session record, with one revocation,
// and every other lock of that Session at once, with two requests each.
func TestSynctestSessionLeaseTakeoverByWatching(t *testing.T) {
	for _, waiterLease := range []bool{true, false} {
		t.Run(fmt.Sprint("waiter session lease ", waiterLease), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) { checkSessionTakeover(t, waiterLease) })
		})
	}
}

func checkSessionTakeover(t *testing.T, waiterLease bool) {
	ctx := context.Background()
	db := dynamutextest.New()
	a := memSession(t, db, dynamutex.WithOwner("crashed"), dynamutex.WithSessionLease())
	wtr := newTap(db)
	var opts []dynamutex.Option
	if waiterLease {
		opts = append(opts, dynamutex.WithSessionLease())
	}
	b := memSession(t, wtr, append(opts, dynamutex.WithOwner("waiter"))...)
	defer b.Close(ctx)
	tokens := map[string]uint64{}
	for _, k := range []string{"k0", "k1", "k2"} {
		lctx, err := a.NewMutex(k).Lock(ctx)
		if err != nil {
			t.Fatal(err)
		}
		tokens[k] = mustLease(t, lctx).Token()
	}
	if err := a.Close(ctx); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	bctx, err := b.NewMutex("k0").Lock(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if got := time.Since(start); got != dynamutex.DefaultLeaseDuration {
		t.Errorf("takeover after %v, want exactly one lease (%v) after the first read of the Session record",
			got, dynamutex.DefaultLeaseDuration)
	}
	if got := mustLease(t, bctx).Token(); got != tokens["k0"]+1 {
		t.Errorf("token %d, want %d", got, tokens["k0"]+1)
	}
	before := wtr.total()
	for _, k := range []string{"k1", "k2"} {
		start := time.Now()
		lctx, err := b.NewMutex(k).TryLock(ctx)
		if err != nil {
			t.Fatalf("TryLock %s of the revoked Session: %v", k, err)
		}
		if time.Since(start) != 0 || mustLease(t, lctx).Token() != tokens[k]+1 {
			t.Errorf("%s taken after %v with token %d, want at once with %d", k, time.Since(start),
				mustLease(t, lctx).Token(), tokens[k]+1)
		}
	}
	if n := wtr.total() - before; n != 4 {
		t.Errorf("taking two locks of a revoked Session sent %d requests, want 4 (a refused write and the take, each)", n)
	}
}
