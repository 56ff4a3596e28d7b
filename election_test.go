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

// Campaign, Proclaim, Leader and Resign on an uncontended election, with
// their request counts: Campaign one write, Leader one read, Proclaim one
// write that keeps the token and bumps the sequence.
func TestElectionCampaignProclaimResign(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c, _, s := setupOn(t, dynamutextest.New(), dynamutex.WithOwner("alice"))
		ctx := ctxTimeout(t, time.Minute)
		e := s.NewElection("jobs")

		before := c.byOperation()
		if _, err := e.Leader(ctx); !errors.Is(err, dynamutex.ErrNoLeader) {
			t.Fatalf("Leader before any Campaign = %v, want ErrNoLeader", err)
		}
		lctx, err := e.Campaign(ctx, []byte("host-a:8080"))
		if err != nil {
			t.Fatal(err)
		}
		after := c.byOperation()
		if w, r := after["UpdateItem"]-before["UpdateItem"], after["GetItem"]-before["GetItem"]; w != 1 || r != 1 {
			t.Fatalf("Leader then uncontended Campaign sent %d writes and %d reads, want 1 and 1", w, r)
		}
		start := time.Now()
		info, err := e.Leader(ctx)
		if err != nil {
			t.Fatal(err)
		}
		tok := mustLease(t, lctx).Token()
		if li, err := s.Inspect(ctx, "dynamutex-election:jobs"); err != nil || li.Owner != "alice" || li.Token != tok ||
			li.Election != "jobs" || li.Leader == nil || string(li.Leader.Value) != "host-a:8080" || li.Leader.Token != tok {
			t.Fatalf("Inspect of the election's record = %+v (leader %+v), %v", li, li.Leader, err)
		}
		if string(info.Value) != "host-a:8080" || info.Owner != "alice" || info.Token != tok || info.Seq != 0 ||
			info.Since.After(start) || start.Sub(info.Since) > time.Second {
			t.Fatalf("Leader = %+v, want host-a:8080 by alice, token %d, seq 0, since about %v", info, tok, start)
		}

		before = c.byOperation()
		if err := e.Proclaim(ctx, []byte("host-a:9090")); err != nil {
			t.Fatal(err)
		}
		if w := c.byOperation()["UpdateItem"] - before["UpdateItem"]; w != 1 {
			t.Fatalf("Proclaim sent %d writes, want 1", w)
		}
		got, err := e.Leader(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if string(got.Value) != "host-a:9090" || got.Token != tok || got.Seq != 1 || !got.Since.Equal(info.Since) {
			t.Fatalf("Leader after Proclaim = %+v, want host-a:9090, token %d, seq 1, since %v", got, tok, info.Since)
		}
		time.Sleep(3 * testLease) // renewals go on after a Proclaim
		if lctx.Err() != nil {
			t.Fatalf("leadership ended after a Proclaim: %v", context.Cause(lctx))
		}

		if err := e.Resign(ctx); err != nil {
			t.Fatal(err)
		}
		if cause := context.Cause(lctx); !errors.Is(cause, dynamutex.ErrResigned) || !errors.Is(cause, dynamutex.ErrUnlocked) {
			t.Fatalf("Campaign context cause after Resign = %v, want ErrResigned", cause)
		}
		if _, err := e.Leader(ctx); !errors.Is(err, dynamutex.ErrNoLeader) {
			t.Fatalf("Leader after Resign = %v, want ErrNoLeader", err)
		}
		if err := e.Proclaim(ctx, nil); !errors.Is(err, dynamutex.ErrNotLeader) {
			t.Fatalf("Proclaim after Resign = %v, want ErrNotLeader", err)
		}
		if err := e.Resign(ctx); !errors.Is(err, dynamutex.ErrNotLeader) {
			t.Fatalf("second Resign = %v, want ErrNotLeader", err)
		}
	})
}

// Bad input, a foreign format and a closed Session are refused before any
// request.
func TestElectionRefusals(t *testing.T) {
	c, table, s := setup(t)
	ctx := ctxTimeout(t, 10*time.Second)
	before := c.total()
	check := func(what string, err, want error) {
		t.Helper()
		if !errors.Is(err, want) {
			t.Errorf("%s = %v, want %v", what, err, want)
		}
	}
	bad := s.NewElection("")
	_, err := bad.Campaign(ctx, nil)
	check("Campaign with an empty name", err, dynamutex.ErrInvalidKey)
	_, err = bad.Leader(ctx)
	check("Leader with an empty name", err, dynamutex.ErrInvalidKey)
	check("Proclaim with an empty name", bad.Proclaim(ctx, nil), dynamutex.ErrInvalidKey)
	check("Resign with an empty name", bad.Resign(ctx), dynamutex.ErrInvalidKey)
	for _, err := range bad.Observe(ctx) {
		check("Observe with an empty name", err, dynamutex.ErrInvalidKey)
	}
	_, err = s.NewElection(strings.Repeat("n", 2048)).Leader(ctx)
	check("Leader with an oversized name", err, dynamutex.ErrInvalidKey)
	_, err = s.NewElection("big").Campaign(ctx, make([]byte, 400*1024))
	check("Campaign with an oversized value", err, dynamutex.ErrDataTooLarge)
	_, err = s.NewMutex("dynamutex-election:jobs").Lock(ctx)
	check("Lock on an election's key", err, dynamutex.ErrInvalidKey)

	java := newSession(t, c, table, dynamutex.WithFormat(dynamutex.FormatJava))
	_, err = java.NewElection("jobs").Leader(ctx)
	check("Leader under FormatJava", err, dynamutex.ErrInvalidOption)

	closed, err := dynamutex.NewSession(ctx, c, table, fastOptions()...)
	if err != nil {
		t.Fatal(err)
	}
	if err := closed.Close(ctx); err != nil {
		t.Fatal(err)
	}
	base := c.total()
	_, err = closed.NewElection("jobs").Campaign(ctx, nil)
	check("Campaign on a closed Session", err, dynamutex.ErrSessionClosed)
	if n := c.total() - base; n != 0 {
		t.Errorf("Campaign on a closed Session sent %d requests", n)
	}
	_ = before
}

// A leader that crashed (its Session closed without Resign) is replaced
// exactly one lease after the candidate's first read, and an observer sees
// the old leader, the lapse, then the new one, with no write of its own.
func TestElectionFailoverByWatching(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		db := dynamutextest.New()
		a := memSession(t, db, dynamutex.WithOwner("a"))
		b := memSession(t, db, dynamutex.WithOwner("b"))
		defer b.Close(ctx)
		tapped := newTap(db)
		watcher, err := dynamutex.NewSession(ctx, tapped, "locks")
		if err != nil {
			t.Fatal(err)
		}
		defer watcher.Close(ctx)

		if _, err := a.NewElection("svc").Campaign(ctx, []byte("a")); err != nil {
			t.Fatal(err)
		}
		events := observeInto(ctx, watcher.NewElection("svc"))
		if ev := <-events; ev.Kind != dynamutex.LeaderElected || ev.Leader.Owner != "a" {
			t.Fatalf("first event = %+v, want a elected", ev)
		}
		// The observer's first read is a second before the candidate's, so
		// that it sees the lapse before the takeover.
		time.Sleep(time.Second)
		if err := a.Close(ctx); err != nil { // a crash: the record stays held
			t.Fatal(err)
		}
		start := time.Now()
		be := b.NewElection("svc")
		bctx, err := be.Campaign(ctx, []byte("b"))
		if err != nil {
			t.Fatal(err)
		}
		if took := time.Since(start); took != dynamutex.DefaultLeaseDuration {
			t.Errorf("failover took %v, want exactly one lease, %v", took, dynamutex.DefaultLeaseDuration)
		}
		if ev := <-events; ev.Kind != dynamutex.LeaderNone {
			t.Fatalf("second event = %+v, want no leader", ev)
		}
		if ev := <-events; ev.Kind != dynamutex.LeaderElected || ev.Leader.Owner != "b" ||
			ev.Leader.Token != mustLease(t, bctx).Token() {
			t.Fatalf("third event = %+v, want b elected", ev)
		}
		if n := tapped.byOperation()["UpdateItem"]; n != 0 {
			t.Errorf("the observer's Session sent %d writes, want 0", n)
		}
		cancel()
		for range events {
		}
	})
}

// With clock bounds on both sides, a new candidate takes a crashed
// leader's place once its deadline passed, in its first write.
func TestElectionFailoverByClock(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx := context.Background()
		db := dynamutextest.New()
		bound := dynamutex.WithClockBound(testBound)
		a := memSession(t, db, dynamutex.WithOwner("a"), bound)
		if _, err := a.NewElection("svc").Campaign(ctx, []byte("a")); err != nil {
			t.Fatal(err)
		}
		if err := a.Close(ctx); err != nil {
			t.Fatal(err)
		}
		time.Sleep(dynamutex.DefaultLeaseDuration + 2*testBound + time.Millisecond)
		c := newTap(db)
		b, err := dynamutex.NewSession(ctx, c, "locks", dynamutex.WithOwner("b"), bound)
		if err != nil {
			t.Fatal(err)
		}
		defer b.Close(ctx)
		if _, err := b.NewElection("svc").Campaign(ctx, []byte("b")); err != nil {
			t.Fatal(err)
		}
		if n := c.byOperation()["UpdateItem"]; n != 1 {
			t.Errorf("takeover by clock took %d writes, want 1", n)
		}
	})
}

// observeInto runs Observe in a goroutine and hands its events over a
// channel that closes when the iteration ends.
func observeInto(ctx context.Context, e *dynamutex.Election) <-chan dynamutex.LeaderEvent {
	ch := make(chan dynamutex.LeaderEvent, 1024)
	go func() {
		defer close(ch)
		for ev, err := range e.Observe(ctx) {
			if err != nil {
				return
			}
			ch <- ev
		}
	}()
	return ch
}

// A Session that closes ends a waiting Campaign with ErrSessionClosed,
// and its leader's Campaign context with the same cause.
func TestElectionSessionCloseEndsCampaigns(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx := context.Background()
		db := dynamutextest.New()
		a := memSession(t, db, dynamutex.WithOwner("a"))
		b := memSession(t, db, dynamutex.WithOwner("b"))
		lead, err := a.NewElection("svc").Campaign(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		errc := make(chan error, 1)
		go func() { _, err := b.NewElection("svc").Campaign(ctx, nil); errc <- err }()
		time.Sleep(5 * time.Second)
		if err := b.Close(ctx); err != nil {
			t.Fatal(err)
		}
		if err := <-errc; !errors.Is(err, dynamutex.ErrSessionClosed) {
			t.Fatalf("waiting Campaign after its Session closed = %v, want ErrSessionClosed", err)
		}
		if err := a.Close(ctx); err != nil {
			t.Fatal(err)
		}
		if cause := context.Cause(lead); !errors.Is(cause, dynamutex.ErrSessionClosed) {
			t.Fatalf("leader's context after Close = %v, want ErrSessionClosed", cause)
		}
	})
}
