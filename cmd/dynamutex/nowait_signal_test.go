//go:build unix && dynamodblocal

package main

import (
	"os"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestNoWaitWatchEndsOnSignal: a signal during the watch ends the run as a
// signal during any wait does, with 128+N and without the command; and a
// record stamped ahead of this machine's clock does not look dead.
func TestNoWaitWatchEndsOnSignal(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	ran := h.path("ran")
	h.plant("watched", "v1", 7, time.Now().Add(-time.Hour))
	p := h.start(nil, h.args("run", "--key", "watched", "--no-wait", "-v", "--", "touch", ran)...)
	p.waitStderr("watching for 1.5s")
	p.signal(syscall.SIGINT)
	if r := p.wait(); r.code != exitSignalBase+int(syscall.SIGINT) || !strings.Contains(r.stderr, "the command was not run") {
		t.Errorf("SIGINT during the watch: want exit %d: %s", exitSignalBase+int(syscall.SIGINT), r)
	}

	h.plant("ahead", "v1", 7, time.Now().Add(time.Hour))
	r := h.exec(nil, h.args("run", "--key", "ahead", "--no-wait", "-v", "--", "touch", ran)...)
	if r.code != exitBusy || !strings.Contains(r.stderr, "ahead of this clock, within its lease") || strings.Contains(r.stderr, "watching") {
		t.Errorf("--no-wait on a record stamped ahead: want exit %d at once: %s", exitBusy, r)
	}
	if _, err := os.Stat(ran); err == nil {
		t.Error("a command ran without the lock")
	}
}
