package dynamutexotel

import (
	"sync"
	"time"
)

// holdID tells one acquisition from every other: the token alone is unique
// per key only.
type holdID struct {
	key, sortKey string
	token        uint64
}

// holds keeps the instant of every acquisition still held. Its entry is
// deleted by the first event that ends the hold, so a hold that falls into
// danger and is then released or lost is measured once, and the count of
// locks held, moved only here, can neither drift nor go below zero.
type holds struct {
	mu    sync.Mutex
	since map[holdID]time.Time
}

// start records the acquisition of id at t and, if it is new, runs
// counted, which adds it to the count of locks held: under the lock, so
// that no collection can see an end counted before its start.
func (h *holds) start(id holdID, t time.Time, counted func()) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if _, ok := h.since[id]; ok {
		return
	}
	if h.since == nil {
		h.since = make(map[holdID]time.Time)
	}
	h.since[id] = t
	counted()
}

// end deletes id and returns when its hold started; false if it had ended
// already or was never seen. counted runs under the lock, as in start.
func (h *holds) end(id holdID, counted func()) (time.Time, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	t, ok := h.since[id]
	if ok {
		delete(h.since, id)
		counted()
	}
	return t, ok
}
