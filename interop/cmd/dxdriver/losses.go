package main

import (
	"sync"

	"github.com/dynamutex/dynamutex"
)

// losses records the locks the Sessions found lost, by fencing token. A
// lock context keeps the first cause that ended it: a holder paused past its
// lease ends in danger, and the renewal after the pause, which finds the
// record taken over, changes nothing there. The EventLost that renewal
// sends is how state can still say the lock was lost.
type losses struct {
	mu   sync.Mutex
	lost map[uint64]error
}

// Observe keeps the *LostError of each EventLost.
func (o *losses) Observe(e dynamutex.Event) {
	if e.Kind != dynamutex.EventLost {
		return
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.lost == nil {
		o.lost = map[uint64]error{}
	}
	o.lost[e.Token] = e.Err
}

// of is the loss of the lock with token, or nil.
func (o *losses) of(token uint64) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.lost[token]
}
