package dynamutex

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"testing"
	"testing/synctest"
	"time"

	"github.com/google/uuid"
)

// The danger timer fires exactly the safe time after the confirmed write was
// sent, apart from the heartbeat loop, and each confirmed renewal pushes it
// back.
func TestDangerTimerFollowsConfirmedSends(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const safe, lease = 400 * time.Millisecond, 500 * time.Millisecond
		s := &Session{cfg: &config{safe: safe, lease: lease}, epoch: time.Now(),
			log: slog.New(slog.NewTextHandler(io.Discard, nil))}
		sent := time.Now()
		l := &Lease{m: &Mutex{s: s, id: lockID{key: "k"}}, parent: context.Background(), index: -1, dangerIndex: -1}
		ctx := (*lockContext)(l)
		s.watchDanger(l, sent)

		// A renewal sent 300ms in and confirmed 80ms later counts from its
		// send time, not its reply.
		time.Sleep(300 * time.Millisecond)
		renewalSent := time.Now()
		v2 := uuid.New()
		l.round = &renewal{version: v2, first: renewalSent}
		time.Sleep(80 * time.Millisecond)
		l.confirm(renewalSent)
		if ctx.Err() != nil {
			t.Fatalf("danger at %v, before the first safe time ran out", time.Since(sent))
		}
		time.Sleep(safe - 80*time.Millisecond - time.Nanosecond)
		synctest.Wait()
		if ctx.Err() != nil {
			t.Fatal("danger fired before renewalSent + safe")
		}
		time.Sleep(time.Nanosecond)
		synctest.Wait()
		var danger *DangerError
		if !errors.As(context.Cause(ctx), &danger) || !errors.Is(danger, ErrLeaseInDanger) {
			t.Fatalf("cause at renewalSent + safe = %v, want a *DangerError", context.Cause(ctx))
		}
		// The holder can tell how long it has left: a lease from the send of
		// the confirmed renewal, not from its reply or from the danger sign.
		if !danger.Confirmed.Equal(renewalSent) || !danger.Deadline().Equal(renewalSent.Add(lease)) {
			t.Fatalf("danger says confirmed %v, deadline %v; want the renewal's send %v and a lease later",
				danger.Confirmed.Sub(sent), danger.Deadline().Sub(sent), renewalSent.Sub(sent))
		}
		if l.version != v2 {
			t.Fatalf("confirm did not adopt the round's version: %v, want %v", l.version, v2)
		}
	})
}

// Danger fires while the lease's write lock is held by a stuck renewal.
func TestDangerFiresWhileRenewalIsStuck(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := &Session{cfg: &config{safe: time.Second}, epoch: time.Now(), log: slog.New(slog.NewTextHandler(io.Discard, nil))}
		l := &Lease{m: &Mutex{s: s}, parent: context.Background(), index: -1, dangerIndex: -1}
		ctx := (*lockContext)(l)
		s.watchDanger(l, time.Now())
		l.lockWrites() // a renewal that never returns
		defer l.unlockWrites()
		time.Sleep(time.Second)
		synctest.Wait()
		if !errors.Is(context.Cause(ctx), ErrLeaseInDanger) {
			t.Fatalf("cause = %v, want ErrLeaseInDanger", context.Cause(ctx))
		}
	})
}
