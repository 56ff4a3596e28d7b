package dynamutex

import "context"

// A lock's local state lives here: the per-key semaphore that queues the
// goroutines of one Session in memory, and the Lease a Mutex holds. Lock
// takes the first before any request and grant sets the second; Unlock and
// a failed Lock undo them, in the reverse order.

// lockLocal takes the key's semaphore: at once or not at all for TryLock,
// or waiting in line for Lock until ctx or the Session ends.
func (s *Session) lockLocal(ctx context.Context, ks *keyState, wait bool) error {
	if !wait {
		select {
		case ks.sem <- struct{}{}:
			return nil
		default:
			return ErrLocked
		}
	}
	select {
	case ks.sem <- struct{}{}:
		return nil
	case <-ctx.Done():
		return context.Cause(ctx)
	case <-s.ctx.Done():
		return ErrSessionClosed
	}
}

// unlockLocal gives the key back to the next goroutine of this Session
// that wants it, and forgets the key once nobody does.
func (s *Session) unlockLocal(id lockID, ks *keyState) {
	<-ks.sem
	s.leave(id, ks)
}

// hold makes l the Mutex's lease: grant calls it once the record is ours.
func (m *Mutex) hold(l *Lease) { m.lease.Store(l) }

// letGo takes the Mutex's lease away, for Unlock; nil if it holds none.
func (m *Mutex) letGo() *Lease { return m.lease.Swap(nil) }

// keyState keeps the goroutines of one Session that want one key in line,
// so that they wait for each other locally instead of polling DynamoDB.
type keyState struct {
	sem  chan struct{} // holds a token while a goroutine acquires or holds the key
	refs int           // goroutines waiting for or holding the key; guarded by Session.mu
}

// enter registers a goroutine that wants id.
func (s *Session) enter(id lockID) (*keyState, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, ErrSessionClosed
	}
	ks := s.keys[id]
	if ks == nil {
		ks = &keyState{sem: make(chan struct{}, 1)}
		s.keys[id] = ks
	}
	ks.refs++
	return ks, nil
}

// leave undoes enter: the goroutine no longer wants id.
func (s *Session) leave(id lockID, ks *keyState) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ks.refs--
	if ks.refs == 0 {
		delete(s.keys, id)
	}
}
