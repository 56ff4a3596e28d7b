package main

import (
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"
)

// caughtSignals are the signals `dynamutex run` catches instead of dying
// with the lock held. While it waits for the lock they cancel the wait; while
// CMD runs they are forwarded to CMD's process group, and dynamutex releases
// the lock once CMD has exited. SIGQUIT is among them because Go's default
// reaction, a goroutine dump, would orphan CMD and strand the lock.
var caughtSignals = []os.Signal{syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP, syscall.SIGQUIT}

// notifySignals catches caughtSignals on ch, except those that were ignored
// when dynamutex started: signal.Notify would turn them back on, so that
// `nohup dynamutex run ...` would pass a hangup on to CMD, and a script's
// `dynamutex run ... &` would pass on the SIGINT its shell ignores. Left
// ignored, they stay ignored in CMD too, as the caller meant.
func notifySignals(ch chan<- os.Signal) {
	for _, sig := range caughtSignals {
		if !signal.Ignored(sig) {
			signal.Notify(ch, sig)
		}
	}
}

// signalError is the cause of the wait context when a signal interrupted
// the wait for the lock.
type signalError struct{ sig os.Signal }

// Error says which signal: "interrupted by SIGINT".
func (e *signalError) Error() string { return "interrupted by " + signalName(e.sig) }

// exitCode is 128+N, as a shell reports a process killed by signal N.
func (e *signalError) exitCode() int { return exitSignalBase + signalNumber(e.sig) }

// waitElapsed is the cause of the wait context when --wait ran out.
type waitElapsed struct {
	after  time.Duration
	holder string // who held the lock then, if known: filled in after the wait
}

// Error says how long run waited, and who held the lock if known.
func (e *waitElapsed) Error() string {
	msg := fmt.Sprintf("gave up waiting after %v", e.after)
	if e.holder != "" {
		msg += "; " + e.holder
	}
	return msg
}

// signalNumber is the number of sig, as exit codes use it.
func signalNumber(sig os.Signal) int {
	if s, ok := sig.(syscall.Signal); ok {
		return int(s)
	}
	return 0
}

// signalName spells sig as people type it (SIGINT), not as Go prints it
// ("interrupt").
func signalName(sig os.Signal) string {
	switch sig {
	case syscall.SIGINT:
		return "SIGINT"
	case syscall.SIGTERM:
		return "SIGTERM"
	case syscall.SIGHUP:
		return "SIGHUP"
	case syscall.SIGQUIT:
		return "SIGQUIT"
	case syscall.SIGKILL:
		return "SIGKILL"
	}
	return sig.String()
}
