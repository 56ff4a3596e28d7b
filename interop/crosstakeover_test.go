package interop

import (
	"testing"
	"time"
)

// A holder killed with SIGKILL is taken over across clients, by the
// taker's own rule and no sooner than one lease after the killed holder's
// last version landed (versionWatch): a Java or Python waiter takes a
// killed dynamutex holder's record in its format, and a dynamutex waiter in
// the client's format takes a killed Java or Python holder's.
func TestClientTakesOverKilledDynamutex(t *testing.T) {
	for _, kind := range []Kind{Java, Python} {
		t.Run(string(kind), func(t *testing.T) {
			h := setup(t)
			tbl := createFormatTable(t, h, kind)
			holder := start(t, h, Dynamutex, "dynamutex-a")
			taker := start(t, h, kind, string(kind)+"-b")
			killAndTake(t, lockItem{h, kind, tbl, "k"}, holder, taker)
		})
	}
}

func TestDynamutexTakesOverKilledClient(t *testing.T) {
	for _, kind := range []Kind{Java, Python} {
		t.Run(string(kind), func(t *testing.T) {
			h := setup(t)
			tbl := createFormatTable(t, h, kind)
			holder := start(t, h, kind, string(kind)+"-a")
			taker := start(t, h, Dynamutex, "dynamutex-b")
			killAndTake(t, lockItem{h, kind, tbl, "k"}, holder, taker)
		})
	}
}

// killAndTake has holder take it.key, kills it once the watch has seen a
// heartbeat, and has taker take the lock with a blocking acquire.
func killAndTake(t *testing.T, it lockItem, holder, taker *Driver) {
	t.Helper()
	mustOK(t, holder, it.cmd(holder, "acquire"))
	if r := call(t, taker, it.cmd(taker, "try")); r.OK {
		t.Fatalf("%s took the lock %s holds: %+v", taker.Owner, holder.Owner, r)
	}
	w := it.watch(t)
	w.sawChange(t)
	killed := time.Now()
	holder.Kill()
	got := mustOK(t, taker, it.cmd(taker, "acquire"))
	took := time.Since(killed)
	old := checkTakeover(t, w, taker.Owner, time.Now())
	t.Logf("%s (%s) took the lock of the killed %s %v after the kill, at most %v after the killed holder's last version landed (lease %d ms, heartbeat %d ms, poll %d ms)",
		taker.Owner, it.kind, holder.Owner, took.Round(time.Millisecond), time.Unix(0, got.TNS).Sub(old.landedAfter).Round(time.Millisecond),
		leaseMS, heartbeatMS, it.cmd(taker, "acquire").RefreshMS)
	item := it.raw(t)
	if owner := str(item, ownerAttr(it.kind)); owner != taker.Owner || str(item, foreignVersion(it.kind)) == "" {
		t.Errorf("after the takeover the table holds %s, want %s's record in %s's format", fixtureOf(t, item), taker.Owner, it.kind)
	}
}

// cmd is the command for op on the item, for driver d: in the item's
// format for a dxdriver, plain for the client itself.
func (it lockItem) cmd(d *Driver, op string) Command {
	if d.Kind == Dynamutex {
		return dxCmd(op, it.table, it.key, it.kind)
	}
	return lockCmd(op, it.table, it.key)
}

// ownerAttr is the attribute of kind's owner name.
func ownerAttr(kind Kind) string {
	if kind == Python {
		return "owner_name"
	}
	return "ownerName"
}
