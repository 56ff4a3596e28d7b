package dynamutex

import "sync"

// writeSlots serialize the writes of each lease of a Session: a renewal in
// flight finishes before a release starts, so a release is never undone by
// a renewal. Each lease has one flag, Lease.writing, guarded by mu, instead
// of a sync.Mutex or a channel of its own: a channel costs over 100 bytes a
// held lock, and a sync.Mutex, held across a request, would stall a
// testing/synctest bubble, where a goroutine waiting on a mutex is not
// durably blocked and fake time could not advance to the request's timeout.
// A goroutine waiting in sync.Cond.Wait is durably blocked. Waiters are
// rare (a release behind a renewal of the same lease), so one condition
// for the whole Session costs nothing. The zero value is ready to use.
type writeSlots struct {
	mu   sync.Mutex
	done sync.Cond // L is mu, set on first use
}

// lock waits until *busy is false, then sets it.
func (w *writeSlots) lock(busy *bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.done.L == nil {
		w.done.L = &w.mu
	}
	for *busy {
		w.done.Wait()
	}
	*busy = true
}

// unlock clears *busy and wakes the writes waiting for it.
func (w *writeSlots) unlock(busy *bool) {
	w.mu.Lock()
	*busy = false
	w.mu.Unlock()
	w.done.Broadcast()
}
