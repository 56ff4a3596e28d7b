//go:build dynamodblocal

package main

import (
	"os"
	"strings"
	"testing"
	"time"
)

// TestNoWaitFailsFast checks flock -n behaviour: with the key held, --no-wait
// exits 75 (or --busy-exit-code) at once, without running its command, and
// --wait gives up with the same code once its time is up, having said once
// whom it waits for. A run that finds the key free says nothing.
func TestNoWaitFailsFast(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	const lease = 2 * time.Second
	ho := h.hold("busy", "--lease", lease.String(), "--owner", "the-holder")
	ran := h.path("ran")

	r := h.exec(nil, h.args("run", "--key", "busy", "--lease", lease.String(), "--no-wait", "--", "touch", ran)...)
	if r.code != exitBusy {
		t.Fatalf("--no-wait on a held key: exit %d, want %d: %s", r.code, exitBusy, r)
	}
	if r.elapsed > 2*lease {
		t.Errorf("--no-wait took %v, not well under the %v lease", r.elapsed, lease)
	}
	if want := `lock "busy" is busy: held by "the-holder"`; !strings.Contains(r.stderr, want) {
		t.Errorf("stderr does not say %q: %s", want, r)
	}

	r = h.exec(nil, h.args("run", "--key", "busy", "--no-wait", "--busy-exit-code", "9", "--", "touch", ran)...)
	if r.code != 9 {
		t.Errorf("--busy-exit-code 9: exit %d: %s", r.code, r)
	}

	r = h.exec(nil, h.args("run", "--key", "busy", "--wait", "700ms", "--", "touch", ran)...)
	if r.code != exitBusy || !strings.Contains(r.stderr, "gave up waiting after 700ms") {
		t.Errorf("--wait 700ms on a held key: want exit %d and a message: %s", exitBusy, r)
	}
	if r.elapsed < 700*time.Millisecond {
		t.Errorf("--wait 700ms gave up after %v", r.elapsed)
	}
	if want := `dynamutex: waiting for lock "busy": held by "the-holder" (token ` + ho.token + ", last write "; !strings.Contains(r.stderr, want) ||
		!strings.Contains(r.stderr, "; giving up after 700ms\n") || strings.Count(r.stderr, "waiting for lock") != 1 {
		t.Errorf("--wait 700ms on a held key does not say once that it waits, for whom: %s", r)
	}
	if _, err := os.Stat(ran); err == nil {
		t.Error("a command ran without the lock")
	}
	ho.release()

	r = h.exec(nil, h.args("run", "--key", "busy", "--no-wait", "--", "touch", ran)...)
	if r.code != 0 || r.stderr != "" {
		t.Errorf("--no-wait on a released key: %s", r)
	}
	r = h.exec(nil, h.args("run", "--key", "busy", "--wait", "10s", "--", "true")...)
	if r.code != 0 || r.stderr != "" {
		t.Errorf("a run that did not have to wait said something: %s", r)
	}
}
