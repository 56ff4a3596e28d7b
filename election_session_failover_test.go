package dynamutex_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/dynamutex/dynamutex"
	"github.com/dynamutex/dynamutex/dynamutextest"
)

// sessionReads counts a tap's reads of Session records.
func sessionReads(n *atomic.Int64) func(op, key string, _ any) fault {
	return func(op, key string, _ any) fault {
		if op == "GetItem" && isSessionKey(key) {
			n.Add(1)
		}
		return fault{}
	}
}

// An observer of a leader that campaigned under a session lease watches
// its Session record, not the election record, which never changes while
// the leader lives: over three leases of a live leader it reports only the
// leader's Proclaim, reading the Session record about once a lease. Once
// the leader's process is gone, it reports the lapse within two leases,
// with no write; a candidate then takes over exactly one lease after its
// first read of the Session record, by revoking it.
func TestElectionSessionLeaseFailoverByWatching(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		db := dynamutextest.New()
		a := memSession(t, db, dynamutex.WithOwner("a"), dynamutex.WithSessionLease())
		b := memSession(t, db, dynamutex.WithOwner("b"), dynamutex.WithSessionLease())
		defer b.Close(ctx)
		tapped := newTap(db)
		var reads atomic.Int64
		tapped.setFault(sessionReads(&reads))
		watcher, err := dynamutex.NewSession(ctx, tapped, "locks")
		if err != nil {
			t.Fatal(err)
		}
		defer watcher.Close(ctx)

		ae := a.NewElection("svc")
		actx, err := ae.Campaign(ctx, []byte("a"))
		if err != nil {
			t.Fatal(err)
		}
		events := observeInto(ctx, watcher.NewElection("svc"))
		if ev := <-events; ev.Kind != dynamutex.LeaderElected || ev.Leader.Owner != "a" {
			t.Fatalf("first event = %+v, want a elected", ev)
		}
		time.Sleep(dynamutex.DefaultLeaseDuration)
		if err := ae.Proclaim(ctx, []byte("a2")); err != nil {
			t.Fatal(err)
		}
		time.Sleep(2 * dynamutex.DefaultLeaseDuration)
		synctest.Wait()
		if ev := <-events; ev.Kind != dynamutex.LeaderProclaimed || string(ev.Leader.Value) != "a2" {
			t.Fatalf("second event = %+v, want a's proclamation", ev)
		}
		select {
		case ev := <-events:
			t.Fatalf("event %+v while the leader's Session lives", ev)
		default:
		}
		if n := reads.Load(); n < 3 || n > 4 {
			t.Errorf("the observer read the Session record %d times over three leases, want 3 or 4", n)
		}
		if actx.Err() != nil {
			t.Fatalf("leadership ended while its Session lives: %v", context.Cause(actx))
		}

		if err := a.Close(ctx); err != nil { // a crash: the record stays held
			t.Fatal(err)
		}
		select {
		case ev := <-events:
			if ev.Kind != dynamutex.LeaderNone {
				t.Fatalf("event after the leader's process ended = %+v, want no leader", ev)
			}
		case <-time.After(2 * dynamutex.DefaultLeaseDuration):
			t.Fatal("no lapse reported two leases after the leader's process ended")
		}
		start := time.Now()
		bctx, err := b.NewElection("svc").Campaign(ctx, []byte("b"))
		if err != nil {
			t.Fatal(err)
		}
		if took := time.Since(start); took != dynamutex.DefaultLeaseDuration {
			t.Errorf("failover took %v, want exactly one lease, %v", took, dynamutex.DefaultLeaseDuration)
		}
		if ev := <-events; ev.Kind != dynamutex.LeaderElected || ev.Leader.Owner != "b" ||
			ev.Leader.Token != mustLease(t, bctx).Token() {
			t.Fatalf("event after the failover = %+v, want b elected", ev)
		}
		if n := tapped.byOperation()["UpdateItem"]; n != 0 {
			t.Errorf("the observer's Session sent %d writes, want 0", n)
		}
		cancel()
		for range events {
		}
	})
}

// With clock bounds on both sides, a candidate takes the place of a leader
// whose Session is past its deadline with the requests a session-leased
// lock costs: the refused write, a read of the Session record, its
// revocation and the take.
func TestElectionSessionLeaseFailoverByClock(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx := context.Background()
		db := dynamutextest.New()
		bound := dynamutex.WithClockBound(testBound)
		a := memSession(t, db, dynamutex.WithOwner("a"), dynamutex.WithSessionLease(), bound)
		if _, err := a.NewElection("svc").Campaign(ctx, []byte("a")); err != nil {
			t.Fatal(err)
		}
		if err := a.Close(ctx); err != nil {
			t.Fatal(err)
		}
		time.Sleep(dynamutex.DefaultLeaseDuration + 2*testBound + time.Millisecond)
		c := newTap(db)
		b, err := dynamutex.NewSession(ctx, c, "locks", dynamutex.WithOwner("b"), dynamutex.WithSessionLease(), bound)
		if err != nil {
			t.Fatal(err)
		}
		defer b.Close(ctx)
		before := c.total()
		start := time.Now()
		if _, err := b.NewElection("svc").Campaign(ctx, []byte("b")); err != nil {
			t.Fatal(err)
		}
		if n, took := c.total()-before, time.Since(start); n != 4 || took != 0 {
			t.Errorf("takeover by clock took %d requests and %v, want 4 at once", n, took)
		}
		if info, err := b.NewElection("svc").Leader(ctx); err != nil || info.Owner != "b" {
			t.Fatalf("Leader = %+v, %v; want b", info, err)
		}
	})
}

// A leader whose Session renewals fail, proclaiming once a candidate has
// revoked its Session and taken the record, gets a *LostError from one
// write and leaves the new leader's value alone. Proclaiming at the very
// instant of the takeover, it either lands first (a Proclaim is not
// conditioned on the Session record, which keeps no leader alive once
// revoked) or loses; the candidate wins either way.
func TestElectionSessionLeaseProclaimRacesTakeover(t *testing.T) {
	for _, at := range []time.Duration{0, -time.Millisecond, time.Millisecond} {
		synctest.Test(t, func(t *testing.T) { leasedProclaimRace(t, at) })
	}
}

// leasedProclaimRace has a Proclaim sent at, from the instant the
// candidate may first revoke the leader's Session.
func leasedProclaimRace(t *testing.T, at time.Duration) {
	ctx := context.Background()
	leaderTap, b, ae, actx := raceRig(t, dynamutex.WithSessionLease())
	var proclaims atomic.Int64
	defer leaderTap.setFault(nil) // so that a's Close can end its Session record
	leaderTap.setFault(func(op, key string, in any) fault {
		_, write := in.(*dynamodb.UpdateItemInput)
		switch {
		case write && isSessionKey(key):
			return fault{status: 500}
		case op == opRenew:
			proclaims.Add(1)
		}
		return fault{}
	})
	done := make(chan error, 1)
	var bToken atomic.Uint64
	go func() {
		bctx, err := b.NewElection("race").Campaign(ctx, []byte("b"))
		if err == nil {
			bToken.Store(mustLease(t, bctx).Token())
		}
		done <- err
	}()
	time.Sleep(dynamutex.DefaultLeaseDuration + at)
	synctest.Wait()
	perr := ae.Proclaim(ctx, []byte("a2"))
	if err := <-done; err != nil {
		t.Fatalf("at %v: the candidate's Campaign = %v, want it to win", at, err)
	}
	var le *dynamutex.LostError
	switch {
	case perr != nil && !errors.As(perr, &le):
		t.Fatalf("at %v: Proclaim that lost = %v, want a *LostError", at, perr)
	case perr != nil && (le.Reason != "taken over" || le.NewToken != bToken.Load()):
		t.Errorf("at %v: Proclaim's LostError %+v, want taken over by token %d", at, le, bToken.Load())
	case at > 0 && perr == nil:
		t.Fatalf("at %v: Proclaim after the takeover landed", at)
	case actx.Err() == nil:
		t.Fatalf("at %v: the leader's context is live after its Session renewals failed for a lease", at)
	}
	if n := proclaims.Load(); n != 1 {
		t.Errorf("at %v: Proclaim sent %d writes, want 1", at, n)
	}
	info, err := b.NewElection("race").Leader(ctx)
	if err != nil || info.Owner != "b" || string(info.Value) != "b" || info.Seq != 0 {
		t.Fatalf("at %v: leader after the race = %+v, %v; want b with its own value", at, info, err)
	}
	t.Logf("at %v: Proclaim %v", at, perr)
}
