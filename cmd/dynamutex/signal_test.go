//go:build unix && dynamodblocal

package main

import (
	"os"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestSignalsAreForwarded sends SIGTERM and SIGINT to dynamutex while its
// command runs. The command's trap must run, dynamutex must exit with the
// command's code, and the lock must be released afterwards.
func TestSignalsAreForwarded(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	for _, tc := range []struct {
		sig  syscall.Signal
		name string
		code int
	}{
		{syscall.SIGTERM, "TERM", 42},
		{syscall.SIGINT, "INT", 43},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h := &harness{t: t, endpoint: h.endpoint, table: h.table, dir: t.TempDir()}
			ready, marker := h.path("ready"), h.path("marker")
			const script = `trap 'echo TERM > "$MARKER"; exit 42' TERM; trap 'echo INT > "$MARKER"; exit 43' INT; ` +
				`touch "$READY"; while :; do sleep 0.05; done`
			key := "forward-" + tc.name
			p := h.start([]string{"READY=" + ready, "MARKER=" + marker},
				h.args("run", "--key", key, "--lease", "2s", "--", "sh", "-c", script)...)
			waitFile(t, ready)
			p.signal(tc.sig)
			r := p.wait()
			if r.code != tc.code {
				t.Fatalf("exit %d, want the command's %d: %s", r.code, tc.code, r)
			}
			if b, err := os.ReadFile(marker); err != nil || strings.TrimSpace(string(b)) != tc.name {
				t.Errorf("the command's %s trap did not run (%v, %q)", tc.name, err, b)
			}
			if s := h.status(key); s.State != stateReleased {
				t.Errorf("after the run the record is %q, want released", s.State)
			}
		})
	}
}

// TestSignalWhileWaiting interrupts a run that waits for a held lock: it
// must stop waiting and exit 130 without running its command.
func TestSignalWhileWaiting(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	ho := h.hold("contended", "--lease", "2s")
	ran := h.path("ran")
	p := h.start(nil, h.args("run", "-v", "--key", "contended", "--lease", "2s", "--", "touch", ran)...)
	p.waitStderr(`waiting for lock "contended"`)
	p.signal(syscall.SIGINT)
	r := p.wait()
	if r.code != exitSignalBase+int(syscall.SIGINT) {
		t.Fatalf("exit %d, want 130: %s", r.code, r)
	}
	if !strings.Contains(r.stderr, "interrupted by SIGINT while waiting") {
		t.Errorf("stderr does not say why: %s", r)
	}
	if _, err := os.Stat(ran); err == nil {
		t.Error("the command ran although the wait was interrupted")
	}
	ho.release()
}

// TestIgnoredSignalStaysIgnored runs dynamutex with SIGHUP ignored, as nohup
// does. A hangup must then neither stop dynamutex nor reach the command.
func TestIgnoredSignalStaysIgnored(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	ready, stop := h.path("ready"), h.path("stop")
	args := append([]string{"-c", `trap '' HUP; exec "$@"`, "sh", binary},
		h.args("run", "--key", "nohup", "--lease", "2s", "--", "sh", "-c", holdScript)...)
	p := h.startProgram([]string{"READY=" + ready, "STOP=" + stop}, "sh", args...)
	waitFile(t, ready)
	p.signal(syscall.SIGHUP)
	select {
	case <-p.done:
		t.Fatalf("a hangup ended the run although SIGHUP was ignored: %s", p.wait())
	case <-time.After(500 * time.Millisecond):
	}
	if err := os.WriteFile(stop, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if r := p.wait(); r.code != 0 {
		t.Fatalf("exit %d, want 0: %s", r.code, r)
	}
}
