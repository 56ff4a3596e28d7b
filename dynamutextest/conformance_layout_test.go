package dynamutextest_test

import (
	"testing"
	"time"

	"github.com/dynamutex/dynamutex/internal/wire"
)

// The library's writes in the Java and Python clients' layouts
// (wire.Layout): the Store must answer them as DynamoDB does, the
// UPDATED_OLD of an acquire that removes Java's released mark included.

func TestConformanceLayoutRequests(t *testing.T) {
	runConformance(t, []conformanceCase{
		{"JavaAcquireReleaseAcquire", caseJavaLayoutCycle},
		{"PythonAcquireReleaseAcquire", casePythonLayoutCycle},
		{"CrossTakeoverOfPythonRecordToNative", caseCrossPythonToNative},
	})
}

// layoutAcquire is an acquire of version in layout l on key "k".
func layoutAcquire(it wire.Item, version string) *update {
	return &update{in: wire.Acquire(wire.AcquireArgs{Item: it, Owner: "owner-" + version, Version: version,
		Lease: 2500 * time.Millisecond, Seed: fixedSeed, Expires: fixedExpires, Stamp: plainStamp})}
}

// layoutRelease is the release of version in layout l, writing next.
func layoutRelease(it wire.Item, version, next string) *update {
	return &update{in: wire.Replace(wire.ReplaceArgs{Item: it, Current: []string{version}, Next: next,
		Released: true, Expires: fixedExpires, Stamp: plainStamp})}
}

func caseJavaLayoutCycle(t *testing.T, c api) {
	table := lockTable(t, c)
	it := lockItem(table, "k")
	it.Layout = wire.Java
	_, err := layoutAcquire(it, "v1").send(c)
	mustOK(t, err)
	held := item{"key": S("k"), "recordVersionNumber": S("v1"), "ownerName": S("owner-v1"),
		"leaseDuration": S("2500"), "token": N("1732540000000001"), "sent_ms": N("1732540000000"),
		"stamped_version": S("v1")}
	wantItem(t, "held", get(t, c, table, item{"key": S("k")}), held)
	_, err = layoutAcquire(it, "v2").send(c)
	wantConditionFailed(t, err, "UpdateItem", held)
	_, err = layoutRelease(it, "v1", "v1r").send(c)
	mustOK(t, err)
	released := item{"key": S("k"), "recordVersionNumber": S("v1r"), "ownerName": S("owner-v1"),
		"leaseDuration": S("2500"), "token": N("1732540000000001"), "sent_ms": N("1732540000000"),
		"stamped_version": S("v1r"), "isReleased": S("1")}
	wantItem(t, "released", get(t, c, table, item{"key": S("k")}), released)
	got, err := layoutAcquire(it, "v2").send(c)
	mustOK(t, err)
	// The removed mark is among the attributes UPDATED_OLD returns.
	wantItem(t, "UPDATED_OLD", got, item{"recordVersionNumber": S("v1r"), "ownerName": S("owner-v1"),
		"leaseDuration": S("2500"), "token": N("1732540000000001"), "sent_ms": N("1732540000000"),
		"stamped_version": S("v1r"), "isReleased": S("1")})
}

func pythonItem(table string) wire.Item {
	return wire.Item{Table: table, PartitionKey: "lock_key", Key: "k", SortKey: "sort_key", Sort: "-",
		Layout: wire.Python}
}

func pythonTable(t *testing.T, c api) string {
	t.Helper()
	return createTable(t, c, keyDef{"lock_key", "S"}, keyDef{"sort_key", "S"})
}

func casePythonLayoutCycle(t *testing.T, c api) {
	table := pythonTable(t, c)
	it := pythonItem(table)
	key := item{"lock_key": S("k"), "sort_key": S("-")}
	_, err := layoutAcquire(it, "v1").send(c)
	mustOK(t, err)
	held := item{"lock_key": S("k"), "sort_key": S("-"), "record_version_number": S("v1"),
		"owner_name": S("owner-v1"), "lease_duration": N("2.5"), "expiry_time": N("1732626400"),
		"released": BOOL(false), "token": N("1732540000000001"), "sent_ms": N("1732540000000"),
		"stamped_version": S("v1")}
	wantItem(t, "held", get(t, c, table, key), held)
	_, err = layoutRelease(it, "v1", "v1").send(c)
	mustOK(t, err)
	released := withClaim(held, nil)
	released["released"], released["lease_duration"] = BOOL(true), N("0.001")
	wantItem(t, "released", get(t, c, table, key), released)
	_, err = layoutAcquire(it, "v2").send(c)
	mustOK(t, err)
	wantItem(t, "after the second acquire", get(t, c, table, key), item{"lock_key": S("k"), "sort_key": S("-"),
		"record_version_number": S("v2"), "owner_name": S("owner-v2"), "lease_duration": N("2.5"),
		"expiry_time": N("1732626400"), "released": BOOL(false), "token": N("1732540000000002"),
		"sent_ms": N("1732540000000"), "stamped_version": S("v2")})
}

// A native write takes a Python record over by its version, keeps the
// released attribute both layouts share, and removes Python's others.
func caseCrossPythonToNative(t *testing.T, c api) {
	table := pythonTable(t, c)
	key := item{"lock_key": S("k"), "sort_key": S("-")}
	prev := item{"lock_key": S("k"), "sort_key": S("-"), "owner_name": S("py"), "lease_duration": N("2"),
		"record_version_number": S("rvn-1"), "expiry_time": N("1")}
	put(t, c, table, prev)
	it := pythonItem(table)
	it.Layout = wire.Native
	take := func(rvn string) *update {
		return &update{in: wire.CrossTakeover(wire.CrossArgs{AcquireArgs: wire.AcquireArgs{Item: it,
			Owner: "owner-v1", Version: "v1", Lease: 600 * time.Millisecond, Seed: fixedSeed,
			Expires: fixedExpires, Stamp: plainStamp}, Watched: []wire.Watched{{Layout: wire.Python, Version: rvn}}})}
	}
	_, err := take("rvn-0").send(c)
	wantConditionFailed(t, err, "UpdateItem", prev)
	_, err = take("rvn-1").send(c)
	mustOK(t, err)
	wantItem(t, "after the takeover", get(t, c, table, key), item{"lock_key": S("k"), "sort_key": S("-"),
		"version": S("v1"), "owner": S("owner-v1"), "lease_ms": N("600"), "expires_at": N("1732626400"),
		"released": BOOL(false), "token": N("1732540000000001"), "sent_ms": N("1732540000000"),
		"stamped_version": S("v1")})
}
