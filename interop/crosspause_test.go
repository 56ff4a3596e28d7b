package interop

import (
	"testing"
	"time"
)

// A dynamutex holder paused with SIGSTOP for longer than its lease is taken
// over by the other client; resumed, it reports the lock lost (state LOST,
// ErrLockLost), never held, and its release fails without touching the
// taker's record.
func TestPausedDynamutexLearnsLoss(t *testing.T) {
	for _, kind := range []Kind{Java, Python} {
		t.Run(string(kind), func(t *testing.T) { pausedDynamutex(t, kind) })
	}
}

func pausedDynamutex(t *testing.T, kind Kind) {
	it, dx, c := crossSetup(t, kind, "-b")
	mustOK(t, dx, it.cmd(dx, "acquire"))

	w := it.watch(t)
	w.sawChange(t)
	if err := dx.Stop(); err != nil {
		t.Fatal(err)
	}
	resumed := false
	defer func() {
		if !resumed {
			_ = dx.Continue()
		}
	}()
	stopped := time.Now()
	mustOK(t, c, it.cmd(c, "acquire"))
	t.Logf("%s took the lock of the stopped %s %v after SIGSTOP", c.Owner, dx.Owner, time.Since(stopped).Round(time.Millisecond))
	checkTakeover(t, w, c.Owner, time.Now())
	if err := dx.Continue(); err != nil {
		t.Fatal(err)
	}
	resumed = true
	// Several heartbeat periods of the resumed holder, for its heartbeat to
	// meet the taker's record.
	mustOK(t, dx, Command{Op: "sleep", MS: 4 * heartbeatMS})
	st := mustOK(t, dx, it.cmd(dx, "state"))
	t.Logf("the resumed dynamutex holder's state: %s (%s)", st.Status, st.Cause)
	if st.Status != "LOST" {
		t.Errorf("the resumed dynamutex holder reports %s (%s), want LOST: %s holds the lock", st.Status, st.Cause, c.Owner)
	}
	rel := call(t, dx, it.cmd(dx, "release"))
	if rel.OK || rel.Class != "LockLost" {
		t.Errorf("the resumed holder's release: %+v, want it to fail with ErrLockLost", rel)
	}
	item := it.raw(t)
	if str(item, ownerAttr(kind)) != c.Owner {
		t.Errorf("after the old holder resumed the table holds %s, want %s's record", fixtureOf(t, item), c.Owner)
	}
	if got := mustOK(t, c, lockCmd("get", it.table, "k")); got.Owner != c.Owner {
		t.Errorf("%s reads its own lock as %+v", c.Owner, got)
	}
}
