package main

import (
	"context"
	"os"
	"time"
)

// waitWatch cancels the wait for the lock when one of caughtSignals arrives
// or --wait runs out. It runs only while dynamutex connects and waits; once
// the lock is held, the supervisor reads the signals instead.
//
// A goroutine with its own timer is used rather than context.WithTimeout
// because the lock's context descends from the wait context: a deadline
// there would also end the lock, in the middle of CMD.
type waitWatch struct {
	stop   chan struct{}
	exited chan struct{}
}

// watchWait starts the watch. limit 0 means no time limit.
func watchWait(cancel context.CancelCauseFunc, sigs <-chan os.Signal, limit time.Duration) *waitWatch {
	w := &waitWatch{stop: make(chan struct{}), exited: make(chan struct{})}
	go func() {
		defer close(w.exited)
		var expired <-chan time.Time
		if limit > 0 {
			t := time.NewTimer(limit)
			defer t.Stop()
			expired = t.C
		}
		select {
		case sig := <-sigs:
			cancel(&signalError{sig: sig})
		case <-expired:
			cancel(&waitElapsed{after: limit})
		case <-w.stop:
		}
	}()
	return w
}

// end stops the watch and waits for it, so that nothing cancels the wait
// context after end returns: whatever cancelled it before is final.
func (w *waitWatch) end() {
	close(w.stop)
	<-w.exited
}
