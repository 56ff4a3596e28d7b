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
	var deadline time.Time  // when the group gets SIGKILL, once the lock has ended
	var grace time.Duration // from SIGTERM to SIGKILL, once the lock has ended
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
			cause := context.Cause(s.lock)
			grace = killDelay(s.grace, cause, time.Now())
			fmt.Fprintf(s.a.stderr, "dynamutex: %s; stopping the command: SIGTERM now, SIGKILL in %v\n",
				describeEnd(s.key, cause, s.safe), grace)
			s.child.signal(syscall.SIGTERM)
			deadline = time.Now().Add(grace)
			graceTimer = time.NewTimer(grace)
			graceC = graceTimer.C
		case <-graceC:
			graceC = nil
			fmt.Fprintf(s.a.stderr, "dynamutex: the command did not stop within %v of SIGTERM; sending SIGKILL to its process group\n",
				grace)
			s.child.signal(syscall.SIGKILL)
		}
	}
}

// describeEnd says why the context of lock key ended, without the
// library's "dynamutex:" prefixes: `lock "K" lost: taken over by "x" (token 12)`.
func describeEnd(key string, cause error, safe time.Duration) string {
	var lost *dynamutex.LostError
	var danger *dynamutex.DangerError
	switch {
	case errors.As(cause, &lost):
		msg := fmt.Sprintf("lock %q lost: %s", key, lost.Reason)
		if lost.Owner != "" {
			msg += fmt.Sprintf(" by %q (token %d)", lost.Owner, lost.NewToken)
		}
		return msg
	case errors.As(cause, &danger):
		return describeDanger(key, danger, time.Now())
	case errors.Is(cause, dynamutex.ErrLeaseInDanger):
		return fmt.Sprintf("lock %q in danger: no renewal confirmed within the safe time of %v "+
			"(is DynamoDB reachable?)", key, safe)
	}
	return fmt.Sprintf("lock %q ended: %v", key, cause)
}

// describeDanger says how long is left before another process may take the
// lock over. After a pause of this process (a stopped VM, SIGSTOP, a long
// GC) the danger timer fires late, and the lease may be over already.
func describeDanger(key string, d *dynamutex.DangerError, now time.Time) string {
	left := d.Deadline().Sub(now)
	if left <= 0 {
		return fmt.Sprintf("lock %q in danger: no renewal confirmed for %v, longer than its lease of %v "+
			"(was this process paused?); another process may already hold it", key,
			now.Sub(d.Confirmed).Round(time.Millisecond), d.Lease)
	}
	return fmt.Sprintf("lock %q in danger: no renewal confirmed within the safe time of %v "+
		"(is DynamoDB reachable?); another process may take it over in %v", key, d.Safe,
		left.Round(time.Millisecond))
}

// killDelay is how long CMD gets between SIGTERM and SIGKILL once the lock
// ended with cause at now: the grace, cut short when the lock is in danger
// and the grace would not end a quarter margin before the earliest
// takeover (the danger sign came late, after a pause or on a loaded
// machine). A lock already past that point gets SIGKILL at once.
func killDelay(grace time.Duration, cause error, now time.Time) time.Duration {
	var d *dynamutex.DangerError
	if !errors.As(cause, &d) {
		return grace
	}
	room := (d.Lease - d.Safe) / graceRoomShare
	return max(0, min(grace, d.Deadline().Sub(now)-room))
}
