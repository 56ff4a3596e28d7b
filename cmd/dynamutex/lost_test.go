//go:build unix && dynamodblocal

package main

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestLostLockStopsCommand steals the lock behind a run's back. The run must
// notice at its next renewal, say why, send SIGTERM to its command (whose
// trap leaves a marker), and exit 76.
func TestLostLockStopsCommand(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	ready, marker := h.path("ready"), h.path("marker")
	const script = `trap 'echo stopped > "$MARKER"; exit 3' TERM; touch "$READY"; while :; do sleep 0.05; done`
	p := h.start([]string{"READY=" + ready, "MARKER=" + marker},
		h.args("run", "--key", "victim", "--lease", "2s", "--", "sh", "-c", script)...)
	waitFile(t, ready)
	token := h.steal("victim", "thief")

	r := p.wait()
	if r.code != exitLost {
		t.Fatalf("exit %d, want %d: %s", r.code, exitLost, r)
	}
	want := fmt.Sprintf(`dynamutex: lock "victim" lost: taken over by "thief" (token %d); stopping the command`, token)
	if !strings.Contains(r.stderr, want) {
		t.Errorf("stderr does not say %q: %s", want, r)
	}
	if b, err := os.ReadFile(marker); err != nil || strings.TrimSpace(string(b)) != "stopped" {
		t.Errorf("the command's TERM trap did not run (%v): %s", err, r)
	}
	// The release found the thief's record and left it alone.
	if s := h.status("victim"); s.State != stateHeld || s.Owner == nil || *s.Owner != "thief" {
		t.Errorf("after the run the record is %+v, want the thief's", s)
	}
}

// TestLostLockKillsStubbornCommand checks that a command that ignores SIGTERM
// is killed with SIGKILL once --grace has passed, with its whole process
// group.
func TestLostLockKillsStubbornCommand(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	ready := h.path("ready")
	const script = `trap '' TERM; echo $$ > "$READY.tmp"; mv "$READY.tmp" "$READY"; while :; do sleep 0.05; done`
	p := h.start([]string{"READY=" + ready},
		h.args("run", "--key", "stubborn", "--lease", "4s", "--grace", "500ms", "--", "sh", "-c", script)...)
	pid, err := strconv.Atoi(strings.TrimSpace(waitFile(t, ready)))
	if err != nil {
		t.Fatal(err)
	}
	h.steal("stubborn", "thief")

	r := p.wait()
	if r.code != exitLost {
		t.Fatalf("exit %d, want %d: %s", r.code, exitLost, r)
	}
	for _, want := range []string{"stopping the command", "did not stop within 500ms of SIGTERM; sending SIGKILL"} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("stderr does not say %q: %s", want, r)
		}
	}
	if r.elapsed > 20*time.Second {
		t.Errorf("took %v: the command was not killed after --grace", r.elapsed)
	}
	// dynamutex reaped its child, so the pid is gone unless reused.
	if err := syscall.Kill(pid, 0); err != syscall.ESRCH {
		t.Errorf("the command (pid %d) is still there: kill 0 gave %v", pid, err)
	}
}
