//go:build dynamodblocal

package main

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

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
	// Closed with the lock held, the Session lives on until watched; a
	// Session that is revoked or ended shows its locks free.
	if v := h.status("dead"); v.SessionAlive == nil || !*v.SessionAlive || v.Free {
		t.Errorf("status of a lock whose Session stopped renewing a moment ago: %+v, want alive, not free", v)
	}
	r := h.exec(nil, h.args("run", "--key", "dead", "--lease", "600ms", "--", "sh", "-c", "echo $DYNAMUTEX_TOKEN")...)
	if r.code != 0 || strings.TrimSpace(r.stdout) != strconv.FormatUint(tok+1, 10) {
		t.Errorf("run behind a dead Session's lock: %s; want token %d", r, tok+1)
	}
	// The run revoked that Session: its other lock shows free.
	h.deadHolderOf(t, "dead2")
}

// deadHolderOf holds key2 and key in one session-leased Session that then
// stops; a run takes key over, revoking it; status shows key2 free.
func (h *harness) deadHolderOf(t *testing.T, key string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	sess, err := dynamutex.NewSession(ctx, h.sdk(), h.table, dynamutex.WithSessionLease(),
		dynamutex.WithLeaseDuration(deadLease), dynamutex.WithOwner("dead-session"))
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{key, key + "-other"} {
		if _, err := sess.NewMutex(k).Lock(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if err := sess.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if r := h.exec(nil, h.args("run", "--key", key, "--lease", "600ms", "--", "true")...); r.code != 0 {
		t.Fatalf("run behind the dead Session: %s", r)
	}
	if v := h.status(key + "-other"); v.SessionAlive == nil || *v.SessionAlive || !v.Free {
		t.Errorf("status of the revoked Session's other lock: %+v, want its Session ended, free", v)
	}
	if r := h.exec(nil, h.args("status", key+"-other")...); !strings.Contains(r.stdout, "Session that has ended") {
		t.Errorf("status does not say the Session ended:\n%s", r)
	}
}
