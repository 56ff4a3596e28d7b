package dynamutex

import "context"

// A lock's local state lives here: the per-key semaphore that queues the
// goroutines of one Session in memory, and the Lease a Mutex holds. Lock
// takes the first before any request and grant sets the second; Unlock and
// a failed Lock undo them, in the reverse order.

// lockLocal takes the key: at once or not at all for TryLock, or waiting in
// line for Lock until ctx or the Session ends.
func (s *Session) lockLocal(ctx context.Context, id lockID, wait bool) error {
	sem, took := s.takeOrQueue(id, wait)
	switch {
	case took:
		return nil
	case sem == nil:
		return ErrLocked // a TryLock of a key held, with nobody in line
	case !wait:
		select {
		case sem <- struct{}{}:
			return nil
		default:
			return ErrLocked
		}
	}
	select {
	case sem <- struct{}{}:
		return nil
	case <-ctx.Done():
		return context.Cause(ctx)
	case <-s.ctx.Done():
		return ErrSessionClosed
	}
}

// takeOrQueue takes a key that nobody holds and nobody waits for. Otherwise
// it returns the key's semaphore to send on, which a Lock makes on first
// need with the holder's token in it; a TryLock does not make one. So a key
// that is never contended never costs a channel.
func (s *Session) takeOrQueue(id lockID, wait bool) (sem chan struct{}, took bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ks := s.keys[id]
	defer func() { s.keys[id] = ks }()
	switch {
	case ks.sem == nil && !ks.held:
		ks.held = true
		return nil, true
	case ks.sem == nil && wait:
		ks.sem = make(chan struct{}, 1)
		ks.sem <- struct{}{} // the holder's, taken back by its unlockLocal
		ks.held = false      // the token says it from now on
	}
	return ks.sem, false
}

// unlockLocal gives the key back to the next goroutine of this Session
// that wants it, and forgets the key once nobody does.
func (s *Session) unlockLocal(id lockID) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ks := s.keys[id] // there while the key is held: its refs count the holder
	if ks.sem == nil {
		ks.held = false
	} else {
		<-ks.sem // never blocks: the holder's token is in it
	}
	s.keys[id] = ks
	s.leaveLocked(id)
}

// hold makes l the Mutex's lease: grant calls it once the record is ours.
func (m *Mutex) hold(l *Lease) { m.lease.Store(l) }

// letGo takes the Mutex's lease away, for Unlock; nil if it holds none.
func (m *Mutex) letGo() *Lease { return m.lease.Swap(nil) }

// keyState keeps the goroutines of one Session that want one key in line,
// so that they wait for each other locally instead of polling DynamoDB,
// and knows the lease the Session holds on the key.
//
// A key that one goroutine takes while nobody else wants it is only marked
// held. The semaphore, a channel that holds a token while a goroutine
// acquires or holds the key, is made when a second goroutine comes, with
// the first one's token, and then serves everyone until the key is
// forgotten. The Session's map holds keyStates by value, so a key costs
// its map entry and nothing more; all fields are guarded by Session.mu,
// and the channel's own sends and receives need no lock.
type keyState struct {
	sem   chan struct{}
	lease *Lease // the lease held on the key, from grant until forget
	refs  int32  // goroutines waiting for or holding the key
	held  bool   // taken without the semaphore, which does not exist yet
}

// enter registers a goroutine that wants id.
func (s *Session) enter(id lockID) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return ErrSessionClosed
	}
	if s.revoked {
		return ErrSessionRevoked
	}
	ks := s.keys[id]
	ks.refs++
	s.keys[id] = ks
	return nil
}

// leave undoes enter: the goroutine no longer wants id.
func (s *Session) leave(id lockID) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.leaveLocked(id)
}

func (s *Session) leaveLocked(id lockID) {
	ks := s.keys[id]
	ks.refs--
	if ks.refs == 0 {
		delete(s.keys, id)
		return
	}
	s.keys[id] = ks
}

// holdLocked records l as the lease the Session holds on its key. Called
// with s.mu, while the key is held locally.
func (s *Session) holdLocked(l *Lease) {
	ks := s.keys[l.m.id]
	ks.lease = l
	s.keys[l.m.id] = ks
}

// forgetHeldLocked undoes holdLocked. Called with s.mu.
func (s *Session) forgetHeldLocked(l *Lease) {
	if ks, ok := s.keys[l.m.id]; ok && ks.lease == l {
		ks.lease = nil
		s.keys[l.m.id] = ks
	}
}
