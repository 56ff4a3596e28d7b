package chaos

import (
	"context"
	"errors"
	"sync"

	"github.com/dynamutex/dynamutex"
)

// sessions is a worker's current Session. A revoked Session takes no more
// locks, so a session-lease worker whose Session was revoked opens a new
// one, as a service would. The old ones stay open until the worker ends:
// their goroutines may still be unlocking what they held.
type sessions struct {
	open func(context.Context) (*dynamutex.Session, error)

	mu  sync.Mutex
	cur *dynamutex.Session
	all []*dynamutex.Session
}

func (s *sessions) current() *dynamutex.Session {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cur
}

// replace opens a new Session in place of old, unless another goroutine
// has done so already, and returns the current one. Goroutines that find
// the same Session revoked wait for one replacement.
func (s *sessions) replace(ctx context.Context, old *dynamutex.Session) (*dynamutex.Session, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cur != old {
		return s.cur, nil
	}
	sess, err := s.open(ctx)
	if err != nil {
		return nil, err
	}
	s.cur = sess
	s.all = append(s.all, sess)
	return sess, nil
}

func (s *sessions) closeAll() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, sess := range s.all {
		_ = sess.Close(context.Background())
	}
}

// lostObserver logs every loss a session-lease worker's Session reports,
// with its reason: the checker tells from them which locks were lost
// together with a revoked Session.
type lostObserver struct{ log *Log }

func (o lostObserver) Observe(ev dynamutex.Event) {
	if ev.Kind != dynamutex.EventLost && ev.Kind != dynamutex.EventSessionRevoked {
		return
	}
	reason := ""
	var le *dynamutex.LostError
	if errors.As(ev.Err, &le) {
		reason = le.Reason
	}
	o.log.Add(Event{Kind: KindLostNotice, Key: ev.Key, Token: ev.Token, Cause: reason})
}
