package dynamutex

import (
	"context"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/cenkalti/backoff/v4"
)

// waitTurn waits, reading rather than writing, until the key of rec is worth
// another write: its record is gone or released, this Session has watched
// one version of it unchanged for its lease, or its clock deadline has
// passed, and no other waiter's live claim stands in the way. A strongly
// consistent read costs a fifth of the failed conditional write a waiter
// used to poll with, and it draws nothing from the partition's write
// throughput, which the holder's renewals need. A read's reply time counts
// as an observation exactly as a failed write's.
//
// Reading alone, a waiter would lose almost every race to a holder that
// re-locks at once: that holder writes the moment it releases, while the
// waiter must first read the release and then write. So a call that has
// seen the lock pass to another acquisition and has waited longer than
// claimAfter claims the next turn (claim.go), and from then on writes only
// to re-assert its claim, a few times per lease, and to take the lock. A
// call that has seen one holder all along writes nothing until it takes
// the lock.
func (s *Session) waitTurn(ctx context.Context, a *acquisition, rec record) error {
	id := a.m.id
	a.noteToken(rec)
	for {
		if err := s.pause(ctx, a, rec); err != nil {
			return err
		}
		actx, cancel := context.WithTimeout(ctx, s.cfg.attemptTimeout())
		item, err := s.store.read(actx, id)
		cancel()
		a.attempts++
		switch {
		case err != nil && ctx.Err() != nil:
			return context.Cause(ctx)
		case err != nil && classify(err) == kindFatal:
			return fmt.Errorf("dynamutex: lock %q: %w", id.key, err)
		case err != nil:
			continue // a read changes nothing: whatever went wrong, read again
		case len(item) == 0:
			return nil // deleted: the write seeds a new record
		}
		received := time.Now()
		next, derr := decodeRecord(id.key, item)
		if derr != nil {
			return derr
		}
		a.noteToken(next)
		rec = next
		a.last = rec
		s.observe(id, rec, received)
		if ready, err := s.turnCame(ctx, a, rec); ready || err != nil {
			return err
		}
	}
}

// turnCame decides what a read of rec means to a: time to write (true), or
// wait on, after claiming the next turn if a may.
func (s *Session) turnCame(ctx context.Context, a *acquisition, rec record) (bool, error) {
	now := time.Now()
	mine := rec.claim.version == a.req.version
	switch {
	case mine && !a.claim.standing:
		// A claim write whose reply was lost landed: the read is the
		// first news of it.
		s.claimStands(a, a.claim.sent)
	case !mine:
		// An older waiter took our claim over, or none is ours.
		a.claim.standing, a.poll = false, 0
	}
	dead, err := s.holderDead(ctx, rec)
	if err != nil {
		return false, err
	}
	if !s.blockedByClaim(a, rec, now) && (rec.released || dead || s.takeable(a.m.id, rec, now)) {
		if s.store.cross(rec) {
			a.req.foreign = &rec
		}
		return true, nil
	}
	// A record in another layout is never claimed: the write that takes it
	// passes no claim gate, and the claim could not order the waiters of
	// the client that writes that layout anyway.
	if !s.store.cross(rec) && s.mayClaim(a, rec, now) {
		return false, s.writeClaim(ctx, a, rec)
	}
	return false, nil
}

// pause is a waiter's sleep before its next read (or, with waitByWriting,
// its next write): the backoff interval, never past a possible takeover,
// and shorter for a waiter that claimed, or may claim, the next turn of a
// lock that turns over.
func (s *Session) pause(ctx context.Context, a *acquisition, rec record) error {
	d := a.bo.NextBackOff()
	if d == backoff.Stop {
		held := heldBy(a.m.id, rec)
		held.Reason = "the backoff policy gave up"
		return held
	}
	d = s.cfg.pace(d, &a.poll, a.turnover && time.Since(a.call.start) >= s.cfg.claimAfter())
	return s.sleep(ctx, s.capSleep(a.m.id, rec, d))
}

// pace shortens a waiter's backoff interval d: to *poll while its claim
// stands (*poll then grows by half, up to the backoff's pace), or, for a
// starving waiter, one that has lost a turn and may claim one, to every 62
// to 187 ms at the defaults. That is often enough to claim the next turn
// soon after the claimant before it took the lock: holders that re-lock at
// once win only until then. Jittered, so that starving waiters do not read
// in step.
func (c *config) pace(d time.Duration, poll *time.Duration, starving bool) time.Duration {
	switch {
	case *poll > 0:
		d = min(d, *poll)
		*poll += *poll / 2
	case starving:
		d = min(d, c.claimAfter()/16+rand.N(c.claimAfter()/8))
	}
	return d
}

// capSleep shortens a backoff interval so that a waiter never sleeps past
// the moment rec can be taken over, by observation or by clock. A moment
// already past does not shorten it: a waiter that sleeps then is held back
// by another waiter's claim, and must not read in a tight loop.
func (s *Session) capSleep(id lockID, rec record, d time.Duration) time.Duration {
	o, _ := s.observation(id)
	return s.capSleepFor(rec, o, d)
}

// capSleepFor is capSleep by the observation o of rec's key, the zero
// observation if there is none: this Session's, or that of a watcher that
// keeps its own, Election.Observe.
func (s *Session) capSleepFor(rec record, o observation, d time.Duration) time.Duration {
	if rec.session != "" {
		// Held under a session lease: the Session record decides.
		if until, ok := s.untilSessionDue(rec.session); ok && until > 0 {
			d = min(d, until)
		}
		return d
	}
	if o.version == rec.version { // the zero observation's zero seen caps nothing
		if until := time.Until(o.seen.Add(o.lease)); until > 0 {
			d = min(d, until)
		}
	}
	if until := s.store.untilClockTakeover(rec); until > 0 {
		d = min(d, until)
	}
	return d
}

// takeable reports whether a write may take rec over now by its own
// version or deadline. A record held under a session lease has neither
// that counts: its Session record decides (holderDead).
func (s *Session) takeable(id lockID, rec record, now time.Time) bool {
	if rec.session != "" {
		return false
	}
	return s.expiredVersion(id, now) == rec.version || s.store.takeableByClock(rec)
}
