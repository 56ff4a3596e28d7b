package interop

import (
	"testing"
)

// Each client reads the other's records. A record dynamutex wrote in a
// client's format, held and then released, is one that client's own reads
// accept (Java get and getAllLocksFromDynamoDB; Python's get), with the
// owner, version and state dynamutex wrote. A record the client wrote is
// one dynamutex's Inspect and List read, naming the client.
func TestClientsReadDynamutexRecords(t *testing.T) {
	for _, kind := range []Kind{Java, Python} {
		t.Run(string(kind), func(t *testing.T) { clientReads(t, kind) })
	}
}

func clientReads(t *testing.T, kind Kind) {
	it, dx, c := crossSetup(t, kind, "-a")
	tbl := it.table

	mustOK(t, dx, dxCmd("acquire", tbl, "k", kind))
	rvn := str(it.raw(t), foreignVersion(kind))
	seen := clientView(t, c, kind, tbl)
	// The holder's heartbeat may replace the version between the two reads.
	if seen.Owner != dx.Owner || seen.LeaseMS != leaseMS || seen.RVN == "" || seen.Expired {
		t.Errorf("%s reads dynamutex's held record as %+v; want owner %s, lease %d ms, a version (the table had %q)",
			kind, seen, dx.Owner, leaseMS, rvn)
	}

	mustOK(t, dx, dxCmd("release", tbl, "k", kind))
	item := it.raw(t)
	seen = clientView(t, c, kind, tbl)
	if seen.Owner != dx.Owner || seen.RVN != str(item, foreignVersion(kind)) {
		t.Errorf("%s reads dynamutex's released record as %+v; the table holds %s", kind, seen, fixtureOf(t, item))
	}
	switch kind {
	case Java:
		if !seen.Expired || str(item, "isReleased") != "1" {
			t.Errorf("Java reads dynamutex's released record as expired=%v (isReleased %q), want released", seen.Expired, str(item, "isReleased"))
		}
	case Python:
		// Python knows no released mark: a release cuts the lease to 1 ms.
		if seen.LeaseMS != 1 {
			t.Errorf("Python reads dynamutex's released record with a lease of %d ms, want 1", seen.LeaseMS)
		}
	}
	t.Logf("%s reads dynamutex's released record: %+v", kind, seen)
}

// clientView is how client c reads key "k": its get, and for Java also its
// list (a Scan that parses every item in the table), which must agree.
func clientView(t *testing.T, c *Driver, kind Kind, tbl string) Reply {
	t.Helper()
	got := mustOK(t, c, lockCmd("get", tbl, "k"))
	if !got.Found {
		t.Fatalf("%s get found no record of k", kind)
	}
	if kind != Java {
		return got
	}
	all := mustOK(t, c, lockCmd("list", tbl, ""))
	if len(all.Locks) != 1 || all.Locks[0].Owner != got.Owner || all.Locks[0].Key != "k" {
		t.Errorf("Java list: %+v, want the one record get read, %+v", all.Locks, got)
	}
	return got
}

// dynamutex reads a record the client wrote, held and (Java) keep-released,
// with Inspect and List, naming the client.
func TestDynamutexReadsClientRecords(t *testing.T) {
	for _, kind := range []Kind{Java, Python} {
		t.Run(string(kind), func(t *testing.T) { dynamutexReads(t, kind) })
	}
}

func dynamutexReads(t *testing.T, kind Kind) {
	it, dx, c := crossSetup(t, kind, "-a")
	tbl := it.table

	mustOK(t, c, foreignCmd("acquire", tbl, "k"))
	got := mustOK(t, dx, dxCmd("get", tbl, "k", kind))
	if !got.Found || got.Client != string(kind) || got.Owner != c.Owner || got.LeaseMS != leaseMS || got.Released || got.Token != 0 {
		t.Errorf("dynamutex Inspect of %s's held record: %+v; want it found, client %s, owner %s, lease %d ms, held",
			kind, got, kind, c.Owner, leaseMS)
	}
	all := mustOK(t, dx, dxCmd("list", tbl, "", kind))
	if len(all.Locks) != 1 || all.Locks[0].Client != string(kind) || all.Locks[0].Owner != c.Owner || all.Locks[0].Error != "" {
		t.Errorf("dynamutex List: %+v, want %s's one record", all.Locks, kind)
	}
	if kind != Java {
		return
	}
	mustOK(t, c, Command{Op: "release", Table: tbl, Key: "k", LeaseMS: leaseMS, HeartbeatMS: heartbeatMS, Keep: true})
	got = mustOK(t, dx, dxCmd("get", tbl, "k", kind))
	if !got.Released || got.Client != "java" || got.Owner != c.Owner {
		t.Errorf("dynamutex Inspect of a Java keep-release: %+v, want it released, client java", got)
	}
}
