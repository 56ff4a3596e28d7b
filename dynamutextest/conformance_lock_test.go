package dynamutextest_test

import (
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/dynamutex/dynamutex/internal/wire"
)

// The cases below send the UpdateItem requests that dynamutex makes, as
// package wire builds them for the library: acquire, renew and release. If
// the Store answered any of them differently from DynamoDB, the library's
// own tests on the Store would prove nothing. (The previous release's
// requests, which a shared table also receives, are replayed on both
// backends by the root package's compat tests.)

func TestConformanceLockRequests(t *testing.T) {
	runConformance(t, []conformanceCase{
		{"AcquireMissingRecord", caseAcquireMissing},
		{"AcquireReleasedRecordRemovesData", caseAcquireReleased},
		{"AcquireHeldRecordFails", caseAcquireHeld},
		{"AcquireTakeover", caseAcquireTakeover},
		{"TokenBeyondUint64", caseTokenBeyondUint64},
		{"RenewWithTwoVersions", caseRenew},
		{"Release", caseRelease},
		{"RenewMissingRecord", caseRenewMissing},
	})
}

const (
	bigToken     = "18446744073709551000"
	bigTokenNext = "18446744073709551001"
)

// The fixed clock values of the requests below, as the library would
// have taken them: the token seed, the expiry, and the clock stamp without
// and with a clock bound.
var (
	fixedSeed    = time.UnixMicro(1732540000000000)
	fixedExpires = time.Unix(1732626400, 0)
	plainStamp   = wire.Stamp{Sent: 1732540000000}
	boundStamp   = wire.Stamp{Sent: 1732540000000, Deadline: 1732540000610, Before: 1732540000000}
)

// lockItem names the record of key in table, whose partition key is "key".
func lockItem(table, key string) wire.Item {
	return wire.Item{Table: table, PartitionKey: "key", Key: key}
}

// acquisition is one acquire write of the library (wire.Acquire) of
// version, by owner "owner-<version>", on key "k".
type acquisition struct {
	table, version string
	takeover       string // the version it may replace, or ""
	stale          string // the beat of a claim it may pass, or ""
	data           string // the lock's data, or ""
	deadline       bool   // a clock-bound write, which may take a record past its deadline
}

func (a acquisition) request() *update {
	st := plainStamp
	if a.deadline {
		st = boundStamp
	}
	return &update{in: wire.Acquire(wire.AcquireArgs{Item: lockItem(a.table, "k"), Owner: "owner-" + a.version,
		Version: a.version, Lease: 600 * time.Millisecond, Seed: fixedSeed, Expires: fixedExpires, Stamp: st,
		Takeover: a.takeover, StaleClaim: a.stale, Data: []byte(a.data)})}
}

// acquireWrites names every attribute an acquire sets or removes: its
// UPDATED_OLD reply is these, as the replaced record had them.
var acquireWrites = []string{"version", "expires_at", "sent_ms", "stamped_version", "owner", "lease_ms",
	"released", "token", "deadline_ms", "data", "claim"}

// replaced is the UPDATED_OLD reply of an acquire that replaced prev: nil
// for a missing record.
func replaced(prev item) item {
	var out item
	for _, name := range acquireWrites {
		if v, ok := prev[name]; ok {
			if out == nil {
				out = item{}
			}
			out[name] = v
		}
	}
	return out
}

// acquired is the whole record a landed acquire of version stores, which
// has no claim and, without a.data, no data.
func (a acquisition) acquired(token string) item {
	updated := item{"version": S(a.version), "expires_at": N("1732626400"), "sent_ms": N("1732540000000"),
		"stamped_version": S(a.version), "owner": S("owner-" + a.version), "lease_ms": N("600"),
		"released": BOOL(false), "token": N(token)}
	if a.deadline {
		updated["deadline_ms"] = N("1732540000610")
	}
	if a.data != "" {
		updated["data"] = B(a.data)
	}
	stored := withClaim(updated, nil)
	stored["key"] = S("k")
	return stored
}

// record is a lock record as another process would have written it.
func record(key, version, token string, released bool) item {
	return item{
		"key": S(key), "owner": S("owner-b"), "version": S(version), "token": N(token),
		"lease_ms": N("600"), "released": BOOL(released), "expires_at": N("1732626400"), "data": B("old data"),
	}
}

func lockTable(t *testing.T, c api) string {
	t.Helper()
	return createTable(t, c, keyDef{"key", types.ScalarAttributeTypeS})
}

func caseAcquireMissing(t *testing.T, c api) {
	table := lockTable(t, c)
	a := acquisition{table: table, version: "v1", data: "payload"}
	got, err := a.request().send(c)
	mustOK(t, err)
	wantItem(t, "UPDATED_OLD", got, nil)
	wantItem(t, "stored record", get(t, c, table, item{"key": S("k")}), a.acquired("1732540000000001"))
}

func caseAcquireReleased(t *testing.T, c api) {
	table := lockTable(t, c)
	prev := record("k", "v0", bigToken, true)
	put(t, c, table, prev)
	a := acquisition{table: table, version: "v1"}
	got, err := a.request().send(c)
	mustOK(t, err)
	// The removed data attribute is part of UPDATED_OLD.
	wantItem(t, "UPDATED_OLD", got, replaced(prev))
	wantItem(t, "stored record", get(t, c, table, item{"key": S("k")}), a.acquired(bigTokenNext))
}

func caseAcquireHeld(t *testing.T, c api) {
	table := lockTable(t, c)
	held := record("k", "v0", bigToken, false)
	put(t, c, table, held)
	_, err := acquisition{table: table, version: "v1"}.request().send(c)
	wantConditionFailed(t, err, "UpdateItem", held)
	_, err = acquisition{table: table, version: "v1", takeover: "some-other-version"}.request().send(c)
	wantConditionFailed(t, err, "UpdateItem", held)
	wantItem(t, "record after failed acquisitions", get(t, c, table, item{"key": S("k")}), held)
}

func caseAcquireTakeover(t *testing.T, c api) {
	table := lockTable(t, c)
	prev := record("k", "v0", bigToken, false)
	put(t, c, table, prev)
	a := acquisition{table: table, version: "v1", takeover: "v0", data: "new"}
	got, err := a.request().send(c)
	mustOK(t, err)
	wantItem(t, "UPDATED_OLD of the takeover", got, replaced(prev))
	wantItem(t, "record after the takeover", get(t, c, table, item{"key": S("k")}), a.acquired(bigTokenNext))
}

func caseTokenBeyondUint64(t *testing.T, c api) {
	table := lockTable(t, c)
	put(t, c, table, record("k", "v0", "18446744073709551615", true))
	_, err := acquisition{table: table, version: "v1"}.request().send(c)
	mustOK(t, err)
	wantItem(t, "token", item{"token": get(t, c, table, item{"key": S("k")})["token"]},
		item{"token": N("18446744073709551616")})
}

// renewRequest builds the library's renewal (released=false) or release
// (wire.Replace) of key "k", conditional on the record being at any of cur.
func renewRequest(table, next string, released bool, cur ...string) *update {
	return &update{in: wire.Replace(wire.ReplaceArgs{Item: lockItem(table, "k"), Current: cur, Next: next,
		Released: released, Expires: time.Unix(1732626999, 0), Stamp: plainStamp})}
}

// renewed is rec as a renewal or release of renewRequest to next leaves it.
func renewed(rec item, next string) {
	rec["version"], rec["expires_at"] = S(next), N("1732626999")
	rec["sent_ms"], rec["stamped_version"] = N("1732540000000"), S(next)
}

func caseRenew(t *testing.T, c api) {
	table := lockTable(t, c)
	rec := record("k", "v1", bigToken, false)
	put(t, c, table, rec)
	got, err := renewRequest(table, "v2", false, "v0", "v1").send(c)
	mustOK(t, err)
	wantItem(t, "Attributes without ReturnValues", got, nil)
	renewed(rec, "v2")
	wantItem(t, "renewed record", get(t, c, table, item{"key": S("k")}), rec)

	_, err = renewRequest(table, "v3", false, "v0", "v1").send(c)
	wantConditionFailed(t, err, "UpdateItem", rec)
}

func caseRelease(t *testing.T, c api) {
	table := lockTable(t, c)
	rec := record("k", "v1", bigToken, false)
	put(t, c, table, rec)
	_, err := renewRequest(table, "v2", true, "v1").send(c)
	mustOK(t, err)
	renewed(rec, "v2")
	rec["released"] = BOOL(true)
	wantItem(t, "released record", get(t, c, table, item{"key": S("k")}), rec)
}

func caseRenewMissing(t *testing.T, c api) {
	table := lockTable(t, c)
	_, err := renewRequest(table, "v2", false, "v1").send(c)
	wantConditionFailed(t, err, "UpdateItem", nil)
	if got := get(t, c, table, item{"key": S("k")}); got != nil {
		t.Errorf("a failed update created %s", show(got))
	}
}
