package main

import (
	"fmt"
	"sync"
	"time"

	"github.com/dynamutex/dynamutex"
)

// waitTally adds up a run's whole wait for the lock. The library's
// EventAcquired (and its "acquired" log line) covers only the call that took
// the lock: after a --no-wait watch that is the second TryLock, which took
// milliseconds and one request, although the run had watched the holder
// for a whole lease. So the tally keeps the run's own start and the
// requests of the calls that did not take the lock, and the verbose report
// gives the sum.
//
// It is the Session's observer (a Session has one), so it passes every
// event on to next.
type waitTally struct {
	next dynamutex.Observer // the clock warning, or nil

	mu       sync.Mutex
	start    time.Time     // when the run began to take the lock
	requests int           // requests made before the call that took the lock
	waited   time.Duration // from start to the grant; set on EventAcquired
	attempts int           // all requests, the granting call's included
}

// begin marks the start of the wait.
func (w *waitTally) begin() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.start = time.Now()
}

// add counts n requests that did not take the lock: a refused TryLock, or
// the read that names the holder.
func (w *waitTally) add(n int) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.requests += n
}

// Observe completes the tally on EventAcquired, and passes every event on.
func (w *waitTally) Observe(ev dynamutex.Event) {
	if ev.Kind == dynamutex.EventAcquired {
		w.mu.Lock()
		w.waited, w.attempts = time.Since(w.start), w.requests+ev.Attempts
		w.mu.Unlock()
	}
	if w.next != nil {
		w.next.Observe(ev)
	}
}

// summary is "after 20s and 2 requests", for the line that reports the
// lock acquired.
func (w *waitTally) summary() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	unit := "requests"
	if w.attempts == 1 {
		unit = "request"
	}
	return fmt.Sprintf("after %v and %d %s", roughly(w.waited), w.attempts, unit)
}
