package dynamutex

import (
	"container/heap"
	"time"
)

// A lease whose safe time is its own (a lock renewed by itself, or the
// Session record under a session lease) must fall into danger when that
// time runs out, even while its renewal is stuck and the heartbeat loop
// waits for it. One timer per Session does this for all of them: it is set
// for the earliest safe time in dangers, a min-heap of those leases, and
// fires apart from the loop. A timer per lease did the same for about 145
// bytes a held lock.

// dangers is a min-heap of leases by safe time. Guarded by Session.mu; a
// lease's safeAt only changes with Session.mu held while it is in the heap.
type dangers []*Lease

func (h dangers) Len() int           { return len(h) }
func (h dangers) Less(i, j int) bool { return h[i].safeAt.Load() < h[j].safeAt.Load() }
func (h dangers) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].dangerIndex, h[j].dangerIndex = int32(i), int32(j)
}
func (h *dangers) Push(x any) {
	l := x.(*Lease)
	l.dangerIndex = int32(len(*h))
	*h = append(*h, l)
}
func (h *dangers) Pop() any {
	old := *h
	l := old[len(old)-1]
	old[len(old)-1] = nil
	*h = old[:len(old)-1]
	l.dangerIndex = -1
	return l
}

// watchDangerLocked sets l's safe time to sent plus the safe time and
// (re)places l among the leases the danger timer watches. A lock that is
// in danger already stays so, and is no longer watched. Called with s.mu.
func (s *Session) watchDangerLocked(l *Lease, sent time.Time) {
	l.setSafeAt(sent)
	switch {
	case l.state.Load() != stateHeld || (l.inDanger.Load() && l != s.sl):
		s.unwatchDangerLocked(l)
		return
	case l.dangerIndex >= 0:
		heap.Fix(&s.dangers, int(l.dangerIndex))
	default:
		heap.Push(&s.dangers, l)
	}
	s.armDangerLocked()
}

// watchDanger is watchDangerLocked for a caller without s.mu.
func (s *Session) watchDanger(l *Lease, sent time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.watchDangerLocked(l, sent)
}

// unwatchDangerLocked takes l off the danger timer's watch. Called with s.mu.
func (s *Session) unwatchDangerLocked(l *Lease) {
	if l.dangerIndex >= 0 {
		heap.Remove(&s.dangers, int(l.dangerIndex))
		s.armDangerLocked()
	}
}

// unwatchDanger is unwatchDangerLocked for a caller without s.mu.
func (s *Session) unwatchDanger(l *Lease) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.unwatchDangerLocked(l)
}

// armDangerLocked sets the danger timer for the earliest safe time
// watched. Called with s.mu.
func (s *Session) armDangerLocked() {
	if s.dangerStopped || len(s.dangers) == 0 {
		if s.dangerTimer != nil {
			s.dangerTimer.Stop()
		}
		return
	}
	wait := time.Duration(s.dangers[0].safeAt.Load()) - time.Since(s.epoch)
	if s.dangerTimer == nil {
		s.dangerTimer = time.AfterFunc(wait, s.fireDanger)
		return
	}
	s.dangerTimer.Reset(wait)
}

// fireDanger runs on the danger timer: it puts every lease past its safe
// time in danger and sets the timer for the next. endangered runs without
// s.mu, which the Session record's takes to reach every lock.
func (s *Session) fireDanger() {
	s.mu.Lock()
	now := int64(time.Since(s.epoch))
	var due []*Lease
	for len(s.dangers) > 0 && s.dangers[0].safeAt.Load() <= now {
		due = append(due, heap.Pop(&s.dangers).(*Lease))
	}
	s.armDangerLocked()
	s.mu.Unlock()
	for _, l := range due {
		l.endangered()
	}
}

// stopDangerTimer runs once the heartbeat loop has stopped, so that no
// renewal can set the timer again after Close.
func (s *Session) stopDangerTimer() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.dangerStopped = true
	s.armDangerLocked()
}
