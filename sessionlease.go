package dynamutex

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/cenkalti/backoff/v4"
	"github.com/google/uuid"

	"github.com/dynamutex/dynamutex/internal/wire"
)

// WithSessionLease makes the Session keep every lock it holds alive with
// one write per heartbeat period, however many locks that is, as etcd keeps
// keys alive with one lease per session. NewSession creates a Session
// record in the table (one more write), and the heartbeat loop renews that
// record alone; each lock record names it instead of being renewed itself.
// Acquire and release stay one write each, and an uncontended Lock is still
// one request.
//
// The price is the blast radius. Danger comes, for every lock at once, when
// no renewal of the Session record has been confirmed for the safe time:
// every lock context is cancelled with a *DangerError. A process that
// watches the Session record unrenewed for its lease (or, with
// WithClockBound, past its deadline) then revokes the whole Session with
// one write, and every lock the Session holds is lost together: the
// Session learns it at its next renewal, within a heartbeat period of the
// table answering again, sends EventSessionRevoked and an EventLost per
// lock, Unlock returns a *LostError, and the Session takes no more locks
// (ErrSessionRevoked). Once a Session is revoked, anyone who reads that
// takes any of its locks at once, with one write each.
//
// Any Session of this release waits on, and takes over, locks held under a
// session lease, with the option or without. A release before session
// leases refuses such a record as damaged (*RecordError) rather than wait
// on it, and never writes it. Session leases need FormatNative: the Java
// and Python clients watch each lock's own version, which is never renewed
// here; WithFormat with another format is an *OptionError.
func WithSessionLease() Option {
	return sessionOption(func(c *config) { c.sessionLease = true })
}

// isSessionKey reports whether key names a Session record.
func isSessionKey(key string) bool { return strings.HasPrefix(key, wire.SessionKeyPrefix) }

// sessionID is the lockID of the Session record whose partition-key value
// is key.
func (s *store) sessionID(key string) lockID {
	id := lockID{key: key}
	if s.keys.sort != "" {
		id.sort = wire.SessionSortValue
	}
	return id
}

// startSessionLease creates the Session record and hands it to the
// heartbeat loop as a Lease of its own (Session.sl), whose renewals,
// retries, lost-reply adoption and danger timer are a lock's. It retries
// through transient errors until ctx ends.
func (s *Session) startSessionLease(ctx context.Context) error {
	key := wire.SessionKeyPrefix + uuid.NewString()
	// The Session record's Lease has a Mutex of its own, never locked,
	// for the key and Session that every Lease takes from its Mutex.
	l := &Lease{m: &Mutex{s: s, id: s.store.sessionID(key)}, parent: context.Background(), index: -1, dangerIndex: -1}
	vid := uuid.New()
	version := vid.String()
	bo := s.cfg.newBackoff()
	var first time.Time
	for {
		sent := time.Now()
		if first.IsZero() {
			first = sent
		}
		actx, cancel := context.WithTimeout(ctx, s.cfg.attemptTimeout())
		err := s.store.createSession(actx, l.m.id, s.cfg.owner, version)
		cancel()
		var cf *conditionFailed
		switch {
		case err == nil:
		case errors.As(err, &cf) && s.store.versionOf(cf.item) == version:
			sent = first // an earlier attempt landed and its reply was lost
		case errors.As(err, &cf):
			return fmt.Errorf("dynamutex: session record %q exists already", key)
		case classify(err) == kindFatal:
			return fmt.Errorf("dynamutex: create session record: %w", err)
		default:
			if d := bo.NextBackOff(); d == backoff.Stop || sleepUntil(ctx, d, nil) != nil {
				return fmt.Errorf("dynamutex: create session record: %w", err)
			}
			continue
		}
		l.version = vid
		s.sl, s.store.session = l, key
		s.mu.Lock()
		s.watchDangerLocked(l, sent)
		s.scheduleLocked(l, sent.Add(s.renewEvery()))
		s.mu.Unlock()
		return nil
	}
}

// createSession makes the write that creates the Session record id.
func (s *store) createSession(ctx context.Context, id lockID, owner, version string) error {
	_, err := s.update(ctx, wire.SessionCreate(wire.SessionCreateArgs{
		Item: s.item(id), Owner: owner, Version: version, Lease: s.lease,
		Expires: time.Now().Add(s.expiry), Stamp: s.clock.stampNow(s.lease),
	}))
	return asConditionFailed(err)
}

// underSession reports whether l is a lock held under the Session's lease,
// rather than the Session record's own Lease or a lock renewed by itself.
func (l *Lease) underSession() bool { return l.m.s.sl != nil && l != l.m.s.sl }

// sessionLost ends every lock the Session holds, once the Session record's
// renewal found it revoked or gone: nobody renews them any more, and
// anyone may take them. The Session takes no more locks.
func (s *Session) sessionLost(le *LostError) {
	s.mu.Lock()
	s.revoked = true
	held := s.heldLocked()
	s.mu.Unlock()
	s.log.Warn("dynamutex: session revoked; every lock it held is lost",
		slog.String("session", s.sl.m.id.key), slog.String("reason", le.Reason), slog.Int("held", len(held)))
	for _, h := range held {
		h.lockWrites()
		if h.state.Load() == stateHeld {
			h.loseWith(&LostError{Key: h.m.id.key, Token: h.token, Reason: le.Reason, Owner: le.Owner})
		}
		h.unlockWrites()
	}
}

// sessionLostError describes what the Session record's renewal found in
// place of the record: revoked, or gone.
func sessionLostError(key string, item map[string]types.AttributeValue) *LostError {
	le := &LostError{Key: key, Reason: "session record deleted"}
	if len(item) > 0 {
		le.Reason = "session revoked"
	}
	return le
}

// endSessionRecord marks the Session record released at Close when the
// Session holds no lock, so that readers see at once that it has ended.
// With locks still held it is left to run out: their holders may still be
// working.
func (s *Session) endSessionRecord(ctx context.Context, held int) {
	l := s.sl
	if l == nil || held > 0 {
		return
	}
	l.lockWrites()
	defer l.unlockWrites()
	if l.state.Load() != stateHeld {
		return
	}
	l.state.Store(stateReleased)
	if err := s.releaseRecord(ctx, l.m.id, l.currentVersions(), time.Time{}); err != nil {
		s.log.Debug("dynamutex: could not mark the session record ended; it runs out after its lease",
			slog.Any("error", err))
	}
}

// revoked reports whether the Session's own record was revoked.
func (s *Session) isRevoked() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.revoked
}
