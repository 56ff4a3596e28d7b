package dynamutex

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/dynamutex/dynamutex/internal/wallclock"
	"github.com/dynamutex/dynamutex/internal/wire"
)

// Waiting on a lock held under a session lease. Its record never changes
// while it is held, so a waiter watches the Session record instead: it
// reads it when it first meets the Session, and again only when the
// Session could be taken over (a lease after the first read of a version,
// or past its clock deadline). A Session record watched unchanged for its
// lease, or past its deadline, is revoked with one write conditioned on
// what was seen; a Session record found released or gone is dead. A dead
// Session never renews again, so every acquire names the Sessions its
// Session knows are dead (wire.AcquireArgs.Dead), and the first write on a
// lock of one of them takes it.

// sessionSeen is the first moment this Session read a version of another
// Session's record, on its own monotonic clock, with the record.
type sessionSeen struct {
	rec  record
	seen time.Time
}

// holderDead reports whether rec, held under a session lease, may be taken
// because its Session is revoked or gone. It reads the Session record, and
// revokes it, when this Session has not seen it yet or could take it over
// now; otherwise it decides from what it has seen, with no request.
func (s *Session) holderDead(ctx context.Context, rec record) (bool, error) {
	if rec.session == "" || rec.released {
		return false, nil
	}
	if s.knownDead(rec.session) {
		return true, nil
	}
	if seen, ok := s.sessionSeenOf(rec.session); ok && !s.sessionDue(seen, time.Now()) {
		return false, nil
	}
	done, first := s.lookingAt(rec.session)
	if !first {
		// Another goroutine of this Session is reading or revoking that
		// record: wait for it, and decide from what it found.
		select {
		case <-done:
		case <-ctx.Done():
			return false, context.Cause(ctx)
		}
		return s.knownDead(rec.session), nil
	}
	defer s.lookedAt(rec.session, done)
	actx, cancel := context.WithTimeout(ctx, s.cfg.attemptTimeout())
	out, err := s.store.readSession(actx, rec.session)
	cancel()
	switch {
	case err != nil && classify(err) == kindFatal:
		return false, fmt.Errorf("dynamutex: read session record %q: %w", rec.session, err)
	case err != nil:
		return false, nil // the next look reads again
	}
	return s.judgeSession(ctx, rec.session, out.Item, time.Now())
}

// readSession reads the Session record key whole, with one strongly
// consistent GetItem.
func (s *store) readSession(ctx context.Context, key string) (*dynamodb.GetItemOutput, error) {
	return s.get(ctx, wire.Read(s.item(s.sessionID(key))))
}

// lookingAt registers a look at the Session record key: first is true for
// the goroutine that is to read it; the others wait for done.
func (s *Session) lookingAt(key string) (done chan struct{}, first bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if done, ok := s.looking[key]; ok {
		return done, false
	}
	done = make(chan struct{})
	s.looking[key] = done
	return done, true
}

// lookedAt ends the look lookingAt began.
func (s *Session) lookedAt(key string, done chan struct{}) {
	s.mu.Lock()
	delete(s.looking, key)
	s.mu.Unlock()
	close(done)
}

// judgeSession decides from item, the Session record key as read at
// received, whether that Session is dead, and revokes it if it may.
func (s *Session) judgeSession(ctx context.Context, key string, item map[string]types.AttributeValue, received time.Time) (bool, error) {
	sr, seen, dead, err := s.noteSession(key, item, received)
	if dead || err != nil {
		return dead, err
	}
	watched := received.Sub(seen.seen) >= sr.lease
	if !watched && !s.store.takeableByClock(sr) {
		return false, nil
	}
	return s.revoke(ctx, key, sr, watched)
}

// noteSession records what item, the Session record key as read at
// received, says: gone or released (dead), or the version seen.
func (s *Session) noteSession(key string, item map[string]types.AttributeValue, received time.Time) (record, sessionSeen, bool, error) {
	if len(item) == 0 {
		s.markDead(key)
		return record{}, sessionSeen{}, true, nil
	}
	sr, err := decodeSessionRecord(key, item)
	if err != nil {
		return record{}, sessionSeen{}, false, err
	}
	if sr.released {
		s.markDead(key)
		return sr, sessionSeen{}, true, nil
	}
	return sr, s.seeSession(key, sr, received), false, nil
}

// sessionDue reports whether a Session record seen as seen could be taken
// over now: watched for its lease, or past its clock deadline.
func (s *Session) sessionDue(seen sessionSeen, now time.Time) bool {
	return now.Sub(seen.seen) >= seen.rec.lease || s.store.takeableByClock(seen.rec)
}

// untilSessionDue is how long until the Session record key, as this
// Session has seen it, could be taken over; false if it has not seen it.
func (s *Session) untilSessionDue(key string) (time.Duration, bool) {
	seen, ok := s.sessionSeenOf(key)
	if !ok {
		return 0, false
	}
	d := max(time.Until(seen.seen.Add(seen.rec.lease)), 0)
	if c := s.store.untilClockTakeover(seen.rec); c >= 0 {
		d = min(d, c)
	}
	return d, true
}

// revoke makes the write that revokes the Session record key, conditioned
// on the version this Session watched for its lease (watched) or on its
// deadline having passed. It reports whether the Session is now dead.
func (s *Session) revoke(ctx context.Context, key string, sr record, watched bool) (bool, error) {
	args := wire.RevokeArgs{Item: s.store.item(s.store.sessionID(key)), Next: newVersion(),
		SentMS: uint64(wallclock.Now().UnixMilli()), Expires: time.Now().Add(s.cfg.expiry)}
	if watched {
		args.Watched = sr.version
	} else {
		args.Before = s.store.clock.stampNow(0).Before
	}
	actx, cancel := context.WithTimeout(ctx, s.cfg.attemptTimeout())
	_, err := s.store.update(actx, wire.Revoke(args))
	cancel()
	var cf *conditionFailed
	switch err = asConditionFailed(err); {
	case err == nil:
		s.log.Info("dynamutex: revoked a dead session", slog.String("session", key),
			slog.String("session_owner", sr.owner), slog.Bool("by_clock", !watched))
		s.markDead(key)
		return true, nil
	case errors.As(err, &cf):
		// Renewed after all, revoked by someone else, or gone. Not
		// revoked again here: a condition that disagreed with what this
		// Session judged is judged again at the next look, not in a loop.
		_, _, dead, err := s.noteSession(key, cf.item, time.Now())
		return dead, err
	case classify(err) == kindFatal:
		return false, fmt.Errorf("dynamutex: revoke session record %q: %w", key, err)
	}
	return false, nil // the next look reads again
}

// decodeSessionRecord reads a Session record: a record of the library's
// layout without a token.
func decodeSessionRecord(key string, item map[string]types.AttributeValue) (record, error) {
	r, err := decodeHeld(key, item)
	if err == nil && r.session != "" {
		err = &RecordError{Key: key, Attribute: wire.AttrSession, Problem: "is set on a Session record"}
	}
	r.watched = []wire.Watched{{Layout: wire.Native, Version: r.version}}
	return r, err
}

// seeSession records a read of the Session record key and returns what
// this Session has seen of it: the first moment it saw the version read.
func (s *Session) seeSession(key string, sr record, received time.Time) sessionSeen {
	s.mu.Lock()
	defer s.mu.Unlock()
	seen, ok := s.sessions[key]
	if !ok || seen.rec.version != sr.version {
		seen.seen = received
	}
	seen.rec = sr
	s.sessions[key] = seen
	return seen
}

func (s *Session) sessionSeenOf(key string) (sessionSeen, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	seen, ok := s.sessions[key]
	return seen, ok
}

// markDead remembers that the Session record key is revoked or gone: that
// is final, since a Session never renews a released record and a record
// that is gone was never recreated under its key.
func (s *Session) markDead(key string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, known := s.dead[key]; !known {
		// A new slice each time: acquires read the old one unlocked.
		recent := make([]string, 0, wire.MaxDead)
		recent = append(recent, key)
		for _, k := range s.recentDead {
			if len(recent) < wire.MaxDead {
				recent = append(recent, k)
			}
		}
		s.recentDead = recent
	}
	s.dead[key] = time.Now()
	delete(s.sessions, key)
}

func (s *Session) knownDead(key string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, ok := s.dead[key]
	return ok
}

// pruneSessionsLocked forgets Sessions met long ago, as
// pruneObservationsLocked does lock versions. Called with s.mu.
func (s *Session) pruneSessionsLocked(now time.Time) {
	for key, seen := range s.sessions {
		if now.Sub(seen.seen) > observationRetention(seen.rec.lease) {
			delete(s.sessions, key)
		}
	}
	for key, at := range s.dead {
		if now.Sub(at) > observationRetention(s.cfg.lease) {
			delete(s.dead, key)
		}
	}
}

// deadSessions lists the Sessions this Session most recently found dead,
// latest first, for every acquire write to name (wire.MaxDead at most):
// the locks they held are then taken in the write that finds them.
func (s *Session) deadSessions() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.recentDead
}
