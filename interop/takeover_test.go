package interop

import (
	"fmt"
	"testing"
	"time"
)

func replyError(d *Driver, r Reply) error {
	return fmt.Errorf("%s %s %s: %s (%s %s)", d.Owner, r.Op, r.Key, r.Error, r.Class, r.Code)
}

// A holder killed with SIGKILL never releases; a second process of the same
// client must take the lock over by its own rules, and not before one lease
// has passed since the holder's last version landed (versionWatch).
func TestKilledHolderTakenOver(t *testing.T) {
	for _, kind := range []Kind{Java, Python} {
		t.Run(string(kind), func(t *testing.T) { takeover(t, kind) })
	}
}

func takeover(t *testing.T, kind Kind) {
	h := setup(t)
	tbl := createTable(t, h, kind)
	a := start(t, h, kind, string(kind)+"-a")
	b := start(t, h, kind, string(kind)+"-b")
	held := mustOK(t, a, lockCmd("acquire", tbl, "victim"))
	// Each client's own word for "held by someone else", with no waiting:
	// Java's exception class, python-dynamodb-lock's error code.
	busy := map[Kind]string{Java: "LockCurrentlyUnavailableException", Python: "ACQUIRE_TIMEOUT"}
	r := call(t, b, lockCmd("try", tbl, "victim"))
	why := r.Class
	if kind == Python {
		why = r.Code
	}
	if r.OK || why != busy[kind] {
		t.Fatalf("%s tried a lock %s holds: got %+v, want a %s refusal", b.Owner, a.Owner, r, busy[kind])
	}

	it := lockItem{h, kind, tbl, "victim"}
	w := it.watch(t)
	w.sawChange(t)
	killed := time.Now()
	a.Kill()
	got := mustOK(t, b, lockCmd("acquire", tbl, "victim"))
	took := time.Since(killed)
	t.Logf("%s: %s took the lock of the killed %s %v after the kill (lease %d ms, heartbeat %d ms)",
		kind, b.Owner, a.Owner, took.Round(time.Millisecond), leaseMS, heartbeatMS)
	checkTakeover(t, w, b.Owner, time.Now())
	if got.RVN == held.RVN || got.Owner != b.Owner {
		t.Errorf("after takeover the client reports owner %q rvn %q (the killed holder's rvn was %q)", got.Owner, got.RVN, held.RVN)
	}
	item := it.raw(t)
	owner, rvn := str(item, "ownerName"), str(item, "recordVersionNumber")
	if kind == Python {
		owner, rvn = str(item, "owner_name"), str(item, "record_version_number")
	}
	// Not rvn == got.RVN: the new holder's heartbeats change it every
	// heartbeat period, and python-dynamodb-lock may report a version
	// other than the one in the table by the time it answers.
	if owner != b.Owner || rvn == "" || rvn == held.RVN {
		t.Errorf("the table says owner %q rvn %q, want %q with a version of its own (the killed holder's was %q)",
			owner, rvn, b.Owner, held.RVN)
	}
}
