package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"syscall"
	"time"

	"github.com/dynamutex/dynamutex"
)

// supervisor watches CMD while the lock is held. It forwards caught signals
// to CMD's process group, and when the lock's context ends (the lock was
// lost, or its renewals stopped landing for longer than the safe time) it
// stops CMD: SIGTERM to the group, SIGKILL after the grace period.
type supervisor struct {
	a     *app
	key   string
	child *child
	lock  context.Context // the context Lock returned
	sigs  <-chan os.Signal
	grace time.Duration
	safe  time.Duration // for the message about a lease in danger
}

// outcome is how CMD ended.
type outcome struct {
	code int  // CMD's exit code, or exitLost
	lost bool // the lock ended before CMD did, and that was reported
}

// wait returns when CMD (the process dynamutex started) has exited.
func (s *supervisor) wait() outcome {
	lockDone := s.lock.Done()
	var graceTimer *time.Timer
	var graceC <-chan time.Time
	var deadline time.Time // when the group gets SIGKILL, once the lock has ended
	lost := false
	for {
		select {
		case <-s.child.done:
			if graceTimer != nil {
				graceTimer.Stop()
			}
			if lost {
				// CMD may have left processes behind in its group; they are
				// still running without the lock.
				s.child.drain(deadline)
				return outcome{code: exitLost, lost: true}
			}
			if s.lock.Err() != nil {
				// The lock ended as CMD exited: which came first cannot be told.
				fmt.Fprintf(s.a.stderr, "dynamutex: %s; the command had already exited\n",
					describeEnd(s.key, context.Cause(s.lock), s.safe))
				return outcome{code: exitLost, lost: true}
			}
			return outcome{code: s.child.exitCode()}
		case sig := <-s.sigs:
			s.child.signal(sig)
		case <-lockDone:
			lockDone = nil
			lost = true
			fmt.Fprintf(s.a.stderr, "dynamutex: %s; stopping the command\n",
				describeEnd(s.key, context.Cause(s.lock), s.safe))
			s.child.signal(syscall.SIGTERM)
			deadline = time.Now().Add(s.grace)
			graceTimer = time.NewTimer(s.grace)
			graceC = graceTimer.C
		case <-graceC:
			graceC = nil
			fmt.Fprintf(s.a.stderr, "dynamutex: the command did not stop within %v of SIGTERM; sending SIGKILL to its process group\n",
				s.grace)
			s.child.signal(syscall.SIGKILL)
		}
	}
}

// describeEnd says why the context of lock key ended, without the
// library's "dynamutex:" prefixes: `lock "K" lost: taken over by "x" (token 12)`.
func describeEnd(key string, cause error, safe time.Duration) string {
	var lost *dynamutex.LostError
	switch {
	case errors.As(cause, &lost):
		msg := fmt.Sprintf("lock %q lost: %s", key, lost.Reason)
		if lost.Owner != "" {
			msg += fmt.Sprintf(" by %q (token %d)", lost.Owner, lost.NewToken)
		}
		return msg
	case errors.Is(cause, dynamutex.ErrLeaseInDanger):
		return fmt.Sprintf("lock %q in danger: no renewal confirmed within the safe time of %v "+
			"(is DynamoDB reachable?); another process may take it over soon", key, safe)
	}
	return fmt.Sprintf("lock %q ended: %v", key, cause)
}
