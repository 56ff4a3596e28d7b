package interop

import (
	"strconv"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/google/uuid"
)

// Short timings keep the tests quick; both clients accept them.
const (
	leaseMS     = 2000
	heartbeatMS = 500
)

func lockCmd(op, table, key string) Command {
	return Command{Op: op, Table: table, Key: key, LeaseMS: leaseMS, HeartbeatMS: heartbeatMS,
		WaitMS: 10000, RefreshMS: 100}
}

// lockItem is one lock item of a test: the harness, the client whose
// layout the table has, the table and the key.
type lockItem struct {
	h     *Harness
	kind  Kind
	table string
	key   string
}

// raw reads the item as it is in the table, nil when there is none.
func (it lockItem) raw(t *testing.T) map[string]types.AttributeValue {
	t.Helper()
	item, err := it.h.RawItem(it.table, itemKey(it.kind, it.key))
	if err != nil {
		t.Fatal(err)
	}
	return item
}

func str(item map[string]types.AttributeValue, name string) string {
	if s, ok := item[name].(*types.AttributeValueMemberS); ok {
		return s.Value
	}
	return ""
}

func num(item map[string]types.AttributeValue, name string) string {
	if n, ok := item[name].(*types.AttributeValueMemberN); ok {
		return n.Value
	}
	return ""
}

func fixtureOf(t *testing.T, item map[string]types.AttributeValue, mask ...string) []byte {
	t.Helper()
	b, err := ItemJSON(item, mask...)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// The Java client's item, held, after heartbeats, released with keep, and
// taken again at once by another process because it is marked released.
func TestJavaItemFormat(t *testing.T) {
	h := setup(t)
	tbl := createTable(t, h, Java)
	it := lockItem{h, Java, tbl, "fixture"}
	a := start(t, h, Java, "java-a")
	got := mustOK(t, a, lockCmd("acquire", tbl, "fixture"))

	held := it.raw(t)
	rvn := str(held, "recordVersionNumber")
	if rvn != got.RVN || uuid.Validate(rvn) != nil {
		t.Errorf("recordVersionNumber %q: want the acquired lock's %q, a UUID", rvn, got.RVN)
	}
	checkFixture(t, "java-held.json", fixtureOf(t, held, "recordVersionNumber"))

	// Several heartbeat periods: each heartbeat rewrites the version number
	// and the lease, and nothing else.
	mustOK(t, a, Command{Op: "sleep", MS: 4 * heartbeatMS})
	beaten := it.raw(t)
	if str(beaten, "recordVersionNumber") == rvn {
		t.Errorf("recordVersionNumber still %q after %d ms of heartbeats", rvn, 4*heartbeatMS)
	}
	checkFixture(t, "java-held.json", fixtureOf(t, beaten, "recordVersionNumber"))

	mustOK(t, a, Command{Op: "release", Table: tbl, Key: "fixture", LeaseMS: leaseMS, HeartbeatMS: heartbeatMS, Keep: true})
	kept := it.raw(t)
	checkFixture(t, "java-released-keep.json", fixtureOf(t, kept, "recordVersionNumber"))
	if r := mustOK(t, a, lockCmd("get", tbl, "fixture")); !r.Found || !r.Expired {
		t.Errorf("get after a keep release: found=%v expired=%v, want both true", r.Found, r.Expired)
	}

	b := start(t, h, Java, "java-b")
	mustOK(t, b, lockCmd("try", tbl, "fixture"))
	retaken := it.raw(t)
	if _, ok := retaken["isReleased"]; ok || str(retaken, "ownerName") != "java-b" {
		t.Errorf("released item taken by java-b: %s", fixtureOf(t, retaken))
	}
	mustOK(t, b, lockCmd("release", tbl, "fixture"))
	if gone := it.raw(t); gone != nil {
		t.Errorf("a default release should delete the item; found %s", fixtureOf(t, gone))
	}
}

// The Python client's item: "-" sort key, lease in seconds, a TTL an hour
// ahead that each heartbeat pushes on; a release always deletes.
func TestPythonItemFormat(t *testing.T) {
	h := setup(t)
	tbl := createTable(t, h, Python)
	it := lockItem{h, Python, tbl, "fixture"}
	a := start(t, h, Python, "python-a")
	got := mustOK(t, a, lockCmd("acquire", tbl, "fixture"))

	held := it.raw(t)
	rvn := str(held, "record_version_number")
	if rvn != got.RVN || uuid.Validate(rvn) != nil {
		t.Errorf("record_version_number %q: want the acquired lock's %q, a UUID", rvn, got.RVN)
	}
	checkExpiry(t, held)
	checkFixture(t, "python-held.json", fixtureOf(t, held, "record_version_number", PythonTTL))

	mustOK(t, a, Command{Op: "sleep", MS: 4 * heartbeatMS})
	beaten := it.raw(t)
	if str(beaten, "record_version_number") == rvn {
		t.Errorf("record_version_number still %q after %d ms of heartbeats", rvn, 4*heartbeatMS)
	}
	checkExpiry(t, beaten)
	checkFixture(t, "python-held.json", fixtureOf(t, beaten, "record_version_number", PythonTTL))

	keep := lockCmd("release", tbl, "fixture")
	keep.Keep = true
	if r := call(t, a, keep); r.OK || r.Class != "Unsupported" {
		t.Errorf("release with keep: got %+v, want the driver to refuse it", r)
	}
	mustOK(t, a, lockCmd("release", tbl, "fixture"))
	if gone := it.raw(t); gone != nil {
		t.Errorf("release should delete the item; found %s", fixtureOf(t, gone))
	}
}

// checkExpiry asserts the TTL attribute is Unix seconds about an hour ahead.
func checkExpiry(t *testing.T, item map[string]types.AttributeValue) {
	t.Helper()
	sec, err := strconv.ParseInt(num(item, PythonTTL), 10, 64)
	ahead := time.Until(time.Unix(sec, 0))
	if err != nil || ahead < 59*time.Minute || ahead > 61*time.Minute {
		t.Errorf("%s = %q: want Unix seconds about an hour ahead (%v ahead, %v)", PythonTTL, num(item, PythonTTL), ahead, err)
	}
}
