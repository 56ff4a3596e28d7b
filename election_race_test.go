package dynamutex_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/dynamutex/dynamutex"
	"github.com/dynamutex/dynamutex/dynamutextest"
)

// Sessions campaign, proclaim and resign in turn while an observer
// watches: it sees leaders in strictly increasing (token, seq) order,
// never two "no leader" events in a row, and the final leader last.
func TestElectionObserveChurn(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		db := dynamutextest.New()
		obsTap := newTap(db)
		var sessions []*dynamutex.Session
		for i := range 3 {
			sessions = append(sessions, memSession(t, db, dynamutex.WithOwner(fmt.Sprint("w", i))))
		}
		watcher, err := dynamutex.NewSession(ctx, obsTap, "locks")
		if err != nil {
			t.Fatal(err)
		}
		events := observeInto(ctx, watcher.NewElection("churn"))

		var wg sync.WaitGroup
		for i, s := range sessions {
			wg.Add(1)
			go func() {
				defer wg.Done()
				e := s.NewElection("churn")
				for round := range 4 {
					if _, err := e.Campaign(ctx, []byte(fmt.Sprint(i, "/", round))); err != nil {
						t.Error(err)
						return
					}
					time.Sleep(time.Duration(500+100*i) * time.Millisecond)
					if err := e.Proclaim(ctx, []byte(fmt.Sprint(i, "/", round, "+"))); err != nil {
						t.Error(err)
					}
					time.Sleep(700 * time.Millisecond)
					if err := e.Resign(ctx); err != nil {
						t.Error(err)
					}
				}
			}()
		}
		wg.Wait()
		final, err := sessions[0].NewElection("churn").Campaign(ctx, []byte("final"))
		if err != nil {
			t.Fatal(err)
		}
		finalToken := mustLease(t, final).Token()

		var last dynamutex.LeaderEvent
		var leaders int
		for ev := range events {
			switch {
			case ev.Kind == dynamutex.LeaderNone && last.Kind == dynamutex.LeaderNone && leaders > 0:
				t.Errorf("two no-leader events in a row")
			case ev.Kind != dynamutex.LeaderNone && leaders > 0 &&
				(ev.Leader.Token < last.Leader.Token || ev.Leader.Token == last.Leader.Token && ev.Leader.Seq <= last.Leader.Seq):
				t.Errorf("event %+v after %+v: not in (token, seq) order", ev, last)
			case ev.Kind == dynamutex.LeaderProclaimed && ev.Leader.Token != last.Leader.Token:
				t.Errorf("proclamation %+v after %+v, another leader", ev, last)
			}
			if ev.Kind != dynamutex.LeaderNone {
				leaders++
				last = ev
			} else {
				last.Kind = ev.Kind
			}
			if ev.Leader.Token == finalToken {
				break
			}
		}
		if last.Leader.Token != finalToken || string(last.Leader.Value) != "final" {
			t.Fatalf("last leader seen = %+v, want the final one, token %d", last, finalToken)
		}
		// 12 terms with a proclamation each; the observer's pace (about a
		// read a second) may miss some, never all.
		if leaders < 6 {
			t.Errorf("the observer saw %d leader events over 12 terms, want at least 6", leaders)
		}
		// Nothing more comes: the final leader is the latest.
		time.Sleep(5 * time.Second)
		select {
		case ev := <-events:
			t.Errorf("event after the final leader: %+v", ev)
		default:
		}
		if n := obsTap.byOperation()["UpdateItem"]; n != 0 {
			t.Errorf("Observe sent %d writes, want 0", n)
		}
		cancel()
		for range events {
		}
		watcher.Close(context.Background())
		for _, s := range sessions {
			s.Close(context.Background())
		}
	})
}

// A leader whose renewals fail proclaims at the very instant a candidate
// takes it over: exactly one of the two writes wins, and the loser learns
// it (Proclaim returns ErrLockLost, or the candidate keeps waiting).
func TestElectionProclaimRacesTakeover(t *testing.T) {
	for range 10 {
		synctest.Test(t, proclaimRace)
	}
}

func proclaimRace(t *testing.T) {
	ctx := context.Background()
	leaderTap, b, ae, actx := raceRig(t)
	// Plain renewals fail; the Proclaim's write (it carries data) goes.
	leaderTap.setFault(func(op, _ string, in any) fault {
		if u, ok := in.(*dynamodb.UpdateItemInput); ok && op == opRenew && u.ExpressionAttributeValues[":d"] == nil {
			return fault{status: 500}
		}
		return fault{}
	})
	bctx, bcancel := context.WithTimeout(ctx, 2*dynamutex.DefaultLeaseDuration)
	defer bcancel()
	var bWon atomic.Bool
	done := make(chan error, 1)
	go func() {
		_, err := b.NewElection("race").Campaign(bctx, []byte("b"))
		bWon.Store(err == nil)
		done <- err
	}()
	time.Sleep(dynamutex.DefaultLeaseDuration) // the instant b may take over
	perr := ae.Proclaim(ctx, []byte("a2"))
	if perr == nil {
		bcancel()
	}
	berr := <-done
	switch {
	case perr == nil && bWon.Load():
		t.Fatal("both the Proclaim and the takeover won")
	case perr != nil && !bWon.Load():
		t.Fatalf("neither won: Proclaim %v, Campaign %v", perr, berr)
	case perr != nil && !errors.Is(perr, dynamutex.ErrLockLost):
		t.Fatalf("Proclaim that lost = %v, want ErrLockLost", perr)
	case actx.Err() == nil:
		// In danger since the safe time, before either write.
		t.Fatal("the leader's context is still live after its renewals failed for a lease")
	case perr == nil && !errors.Is(berr, context.Canceled):
		t.Fatalf("candidate that lost the race = %v, want it still waiting until cancelled", berr)
	}
	t.Logf("takeover won: %v", bWon.Load())
	info, err := b.NewElection("race").Leader(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if want := map[bool]string{true: "b", false: "a"}[bWon.Load()]; info.Owner != want {
		t.Fatalf("leader after the race = %+v, want %s", info, want)
	}
}

// A Campaign that gives up while its acquire write's reply is lost leaves
// nothing behind: the record it wrote is released in the background.
func TestElectionFailedCampaignLeavesNothing(t *testing.T) {
	c, _, s := setup(t)
	ctx, cancel := context.WithCancel(context.Background())
	c.setFault(landUnheardThenHang())
	e := s.NewElection("gone")
	errc := make(chan error, 1)
	go func() { _, err := e.Campaign(ctx, []byte("x")); errc <- err }()
	waitFor(t, 2*time.Second, "the acquire to land", func() bool {
		_, err := e.Leader(context.Background())
		return err == nil
	})
	cancel()
	if err := <-errc; !errors.Is(err, context.Canceled) {
		t.Fatalf("Campaign = %v, want context.Canceled", err)
	}
	waitFor(t, 2*time.Second, "the in-doubt leadership to be released", func() bool {
		_, err := e.Leader(context.Background())
		return errors.Is(err, dynamutex.ErrNoLeader)
	})
	if err := e.Resign(context.Background()); !errors.Is(err, dynamutex.ErrNotLeader) {
		t.Fatalf("Resign after a failed Campaign = %v, want ErrNotLeader", err)
	}
}

// A damaged election record is yielded once as an error, and Observe ends.
func TestElectionObserveCorruptRecord(t *testing.T) {
	c, table, s := setup(t)
	putItem(t, c, table, heldRecord("dynamutex-election:bad", "x", 3, time.Minute)) // no envelope
	var errs, events int
	for _, err := range s.NewElection("bad").Observe(ctxTimeout(t, 10*time.Second)) {
		if err != nil {
			errs++
			if !errors.Is(err, dynamutex.ErrCorruptRecord) {
				t.Errorf("Observe error = %v, want ErrCorruptRecord", err)
			}
		} else {
			events++
		}
	}
	if errs != 1 || events != 0 {
		t.Fatalf("Observe yielded %d errors and %d events, want 1 and 0", errs, events)
	}
	// Inspect and List report it damaged too, as they do any record they
	// cannot read.
	li, err := s.Inspect(ctxTimeout(t, 10*time.Second), "dynamutex-election:bad")
	if !errors.Is(err, dynamutex.ErrCorruptRecord) || !errors.Is(li.Err, dynamutex.ErrCorruptRecord) || li.Leader != nil {
		t.Fatalf("Inspect of an election record without an envelope = %+v, %v; want ErrCorruptRecord", li, err)
	}
}

// raceRig opens, on one in-memory table, a leader "a" whose requests go
// through the returned tap and which leads election "race", and a
// candidate "b". Both Sessions close when the test ends.
func raceRig(t *testing.T, aOpts ...dynamutex.Option) (*tap, *dynamutex.Session, *dynamutex.Election, context.Context) {
	t.Helper()
	ctx := context.Background()
	db := dynamutextest.New()
	memSession(t, db).Close(ctx) // creates the table
	leaderTap := newTap(db)
	a, err := dynamutex.NewSession(ctx, leaderTap, "locks", append([]dynamutex.Option{dynamutex.WithOwner("a")}, aOpts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = a.Close(ctx) })
	b, err := dynamutex.NewSession(ctx, db, "locks", dynamutex.WithOwner("b"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = b.Close(ctx) })
	ae := a.NewElection("race")
	actx, err := ae.Campaign(ctx, []byte("a"))
	if err != nil {
		t.Fatal(err)
	}
	return leaderTap, b, ae, actx
}
