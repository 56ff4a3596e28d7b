//go:build dynamodblocal

package main

import (
	"strconv"
	"strings"
	"testing"

	"github.com/dynamutex/dynamutex"
)

// TestRunSessionLease: run --session-lease holds its lock under a Session
// record, status names that Session as alive while it holds, list leaves
// the Session record out, and a run takes the lock of a dead Session's
// holder over once that Session is watched for its lease.
func TestRunSessionLease(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	ho := h.hold("svc", "--session-lease", "--lease", "600ms")
	v := h.status("svc")
	if v.State != stateHeld || !strings.HasPrefix(v.Session, "dynamutex-session:") || v.SessionAlive == nil ||
		!*v.SessionAlive || v.Free {
		t.Errorf("status of a lock held with --session-lease: %+v, want held under a live Session", v)
	}
	if r := h.exec(nil, h.args("status", "svc")...); !strings.Contains(r.stdout, "session:") ||
		!strings.Contains(r.stdout, "alive") {
		t.Errorf("status does not name the live Session:\n%s", r)
	}
	if r := h.exec(nil, h.args("list")...); strings.Contains(r.stdout, "dynamutex-session:") ||
		!strings.Contains(r.stdout, "(session lease)") {
		t.Errorf("list shows the Session record, or not the lock's session lease:\n%s", r)
	}
	ho.release()

	tok := h.deadHolder("dead", dynamutex.WithSessionLease())
	r := h.exec(nil, h.args("run", "--key", "dead", "--lease", "600ms", "--", "sh", "-c", "echo $DYNAMUTEX_TOKEN")...)
	if r.code != 0 || strings.TrimSpace(r.stdout) != strconv.FormatUint(tok+1, 10) {
		t.Errorf("run behind a dead Session's lock: %s; want token %d", r, tok+1)
	}
}
