package dynamutextest_test

import (
	"testing"
	"time"

	"github.com/dynamutex/dynamutex/internal/wire"
)

// The library's writes on records of the Java and Python lock clients: the
// ordinary acquire refuses them, and wire.CrossTakeover replaces one only
// at the version watched, removing the client's attributes.

func TestConformanceForeignRequests(t *testing.T) {
	runConformance(t, []conformanceCase{
		{"AcquireRefusesForeignVersions", caseAcquireRefusesForeign},
		{"ForeignTakeoverJava", caseForeignTakeoverJava},
		{"ForeignTakeoverJavaReleased", caseForeignTakeoverJavaReleased},
		{"ForeignTakeoverBothVersions", caseForeignTakeoverBoth},
	})
}

// javaRecord is a record as the Java client writes it (interop/testdata).
func javaRecord(rvn string) item {
	return item{"key": S("k"), "ownerName": S("java-a"), "leaseDuration": S("2000"), "recordVersionNumber": S(rvn)}
}

// foreignTakeover is the library's takeover, by owner "owner-v1" writing
// version v1, of a Java record watched at rvn.
func foreignTakeover(table, rvn, version0 string, released bool) *update {
	watched := []wire.Watched{{Layout: wire.Java, Version: rvn}}
	if version0 != "" {
		watched = append([]wire.Watched{{Layout: wire.Native, Version: version0}}, watched...)
	}
	return &update{in: wire.CrossTakeover(wire.CrossArgs{AcquireArgs: wire.AcquireArgs{Item: lockItem(table, "k"),
		Owner: "owner-v1", Version: "v1", Lease: 600 * time.Millisecond, Seed: fixedSeed, Expires: fixedExpires,
		Stamp: plainStamp}, Watched: watched, Released: released})}
}

func caseAcquireRefusesForeign(t *testing.T, c api) {
	table := lockTable(t, c)
	// Released by our attributes, but a Java holder may still heartbeat its
	// version: only the takeover conditioned on that version may pass.
	both := record("k", "v0", bigToken, true)
	both["recordVersionNumber"] = S("rvn-1")
	put(t, c, table, both)
	_, err := acquisition{table: table, version: "v1"}.request().send(c)
	wantConditionFailed(t, err, "UpdateItem", both)
	python := item{"key": S("k"), "owner_name": S("py"), "lease_duration": N("2"),
		"record_version_number": S("rvn-2"), "expires_at": N("1")}
	put(t, c, table, python)
	_, err = acquisition{table: table, version: "v1", takeover: "rvn-2"}.request().send(c)
	wantConditionFailed(t, err, "UpdateItem", python)
}

func caseForeignTakeoverJava(t *testing.T, c api) {
	table := lockTable(t, c)
	prev := javaRecord("rvn-1")
	prev["data"] = B("java data")
	put(t, c, table, prev)
	_, err := foreignTakeover(table, "rvn-0", "", false).send(c)
	wantConditionFailed(t, err, "UpdateItem", prev)
	got, err := foreignTakeover(table, "rvn-1", "", false).send(c)
	mustOK(t, err)
	// UPDATED_OLD holds the removed attributes too.
	wantItem(t, "UPDATED_OLD", got, item{"ownerName": S("java-a"), "leaseDuration": S("2000"),
		"recordVersionNumber": S("rvn-1"), "data": B("java data")})
	want := acquisition{version: "v1"}.acquired("1732540000000001")
	wantItem(t, "record after the takeover", get(t, c, table, item{"key": S("k")}), want)
	// Java's heartbeat, conditioned on its version and owner, now fails.
	_, err = newUpdate(table, item{"key": S("k")}, "SET #ld = :ld, #rvn = :new").
		cond("attribute_exists(#pk) AND #rvn = :rvn AND #on = :on").
		names("#pk", "key", "#ld", "leaseDuration", "#rvn", "recordVersionNumber", "#on", "ownerName").
		values(item{":ld": S("2000"), ":new": S("rvn-2"), ":rvn": S("rvn-1"), ":on": S("java-a")}).send(c)
	wantConditionFailed(t, err, "UpdateItem", nil)
}

func caseForeignTakeoverJavaReleased(t *testing.T, c api) {
	table := lockTable(t, c)
	held := javaRecord("rvn-1")
	put(t, c, table, held)
	_, err := foreignTakeover(table, "rvn-1", "", true).send(c)
	wantConditionFailed(t, err, "UpdateItem", held)
	wantItem(t, "held record", get(t, c, table, item{"key": S("k")}), held)
	released := javaRecord("rvn-1")
	released["isReleased"] = S("1")
	put(t, c, table, released)
	_, err = foreignTakeover(table, "rvn-1", "", true).send(c)
	mustOK(t, err)
	wantItem(t, "record after the take", get(t, c, table, item{"key": S("k")}),
		acquisition{version: "v1"}.acquired("1732540000000001"))
}

func caseForeignTakeoverBoth(t *testing.T, c api) {
	table := lockTable(t, c)
	both := record("k", "v0", bigToken, false)
	for k, v := range javaRecord("rvn-1") {
		both[k] = v
	}
	put(t, c, table, both)
	_, err := foreignTakeover(table, "rvn-1", "", false).send(c)
	wantConditionFailed(t, err, "UpdateItem", both)
	_, err = foreignTakeover(table, "rvn-1", "v9", false).send(c)
	wantConditionFailed(t, err, "UpdateItem", both)
	_, err = foreignTakeover(table, "rvn-1", "v0", false).send(c)
	mustOK(t, err)
	wantItem(t, "record after the takeover", get(t, c, table, item{"key": S("k")}),
		acquisition{version: "v1"}.acquired(bigTokenNext))
}
