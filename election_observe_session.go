package dynamutex

import (
	"context"
	"fmt"
	"time"
)

// sessionLapsed reports whether the Session record key, which keeps the
// leader's record (a leader that campaigned under WithSessionLease), shows
// that leader lapsed: revoked, ended or gone, watched unchanged for its
// lease, or past its clock deadline. Like a waiter, it reads the Session
// record only when this Session has not seen it yet or it could have
// lapsed since, and shares what it saw with the Session's waiters; unlike
// one, it never revokes it, since Observe never writes.
func (o *observer) sessionLapsed(ctx context.Context, key string) (bool, error) {
	s := o.e.m.s
	if s.knownDead(key) {
		return true, nil
	}
	if seen, ok := s.sessionSeenOf(key); ok && !s.sessionDue(seen, time.Now()) {
		return false, nil
	}
	actx, cancel := context.WithTimeout(ctx, s.cfg.attemptTimeout())
	out, err := s.store.readSession(actx, key)
	cancel()
	if err != nil {
		return false, fmt.Errorf("dynamutex: election %q: read session record %q: %w", o.e.name, key, err)
	}
	received := time.Now()
	_, seen, dead, err := s.noteSession(key, out.Item, received)
	if dead || err != nil {
		return dead, err
	}
	return s.sessionDue(seen, received), nil
}
