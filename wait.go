package dynamutex

import (
	"context"
	"fmt"
	"time"
)

// waitTurn waits, reading rather than writing, until the key of rec is worth
// another write: its record is gone or released, this Session has watched
// one version of it unchanged for its lease, or its clock deadline has
// passed. A strongly consistent read costs a fifth of the failed
// conditional write a waiter used to poll with, and it draws nothing from
// the partition's write throughput, which the holder's renewals need. A
// read's reply time counts as an observation exactly as a failed write's.
//
// A read that shows a new token means the lock changed hands between two
// reads: it is contended, released and retaken faster than a waiter polls.
// Then only a write that happens to land in a gap can win, and a waiter
// that must first read and then write needs two requests to fit in one gap,
// so a reading waiter would lose almost every race to holders that re-lock
// at once. From then on the call polls by writing, as every waiter did
// before reads, which gives it the same chances as before; a waiter behind
// a long-running or dead holder, where waiting costs the most, never sees
// a new token and goes on reading.
func (s *Session) waitTurn(ctx context.Context, a *acquisition, rec record) error {
	id := a.m.id
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
		if next.released {
			return nil
		}
		if next.token != rec.token {
			a.contended = true
			return nil
		}
		rec = next
		s.observe(id, rec, received)
		if s.takeable(id, rec, time.Now()) {
			return nil
		}
	}
}

// pause is a waiter's sleep before its next read (or, with waitByWriting,
// its next write): the backoff interval, never past a possible takeover.
func (s *Session) pause(ctx context.Context, a *acquisition, rec record) error {
	d := a.bo.NextBackOff()
	if d == backoffStop {
		held := heldBy(a.m.id, rec)
		held.Reason = "the backoff policy gave up"
		return held
	}
	return s.sleep(ctx, s.capSleep(a.m.id, rec, d))
}

// capSleep shortens a backoff interval so that a waiter never sleeps past
// the moment rec can be taken over, by observation or by clock.
func (s *Session) capSleep(id lockID, rec record, d time.Duration) time.Duration {
	if o, ok := s.observation(id); ok && o.version == rec.version {
		d = min(d, max(time.Until(o.seen.Add(o.lease)), 0))
	}
	if until := s.store.clock.untilClockTakeover(rec); until >= 0 {
		d = min(d, until)
	}
	return d
}

// takeable reports whether a write may take rec over now.
func (s *Session) takeable(id lockID, rec record, now time.Time) bool {
	return s.expiredVersion(id, now) == rec.version || s.store.clock.takeableByClock(rec)
}
