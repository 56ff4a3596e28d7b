package dynamutextest_test

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// The cases below send, attribute for attribute, the UpdateItem requests
// that dynamutex makes (see dynamo.go in the root package): acquire, renew
// and release. If the Store answered any of them differently from DynamoDB,
// the library's own tests on the Store would prove nothing.

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
	seed         = "1732540000000000"
)

// acquisition describes one acquire request of the library: takeover is
// the version it may replace ("" for none), data the lock's data ("" for
// none).
type acquisition struct {
	table, key, version, takeover, data string
}

// request builds the UpdateItem that dynamutex sends for a.
func (a acquisition) request() *update {
	expr := "SET #o = :o, #v = :v, #l = :l, #r = :f, #e = :e, #t = if_not_exists(#t, :seed) + :one"
	values := item{
		":o": S("owner-a"), ":v": S(a.version), ":l": N("600"), ":f": BOOL(false), ":true": BOOL(true),
		":e": N("1732626400"), ":seed": N(seed), ":one": N("1"),
	}
	if a.data != "" {
		expr += ", #d = :d"
		values[":d"] = B(a.data)
	} else {
		expr += " REMOVE #d"
	}
	cond := "attribute_not_exists(#pk) OR #r = :true"
	if a.takeover != "" {
		cond += " OR #v = :old"
		values[":old"] = S(a.takeover)
	}
	return newUpdate(a.table, item{"key": S(a.key)}, expr).cond(cond).
		names("#pk", "key", "#o", "owner", "#v", "version", "#t", "token", "#l", "lease_ms",
			"#r", "released", "#e", "expires_at", "#d", "data").
		values(values).returning(types.ReturnValueUpdatedNew).allOldOnFailure()
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
	got, err := acquisition{table, "k", "v1", "", "payload"}.request().send(c)
	mustOK(t, err)
	want := item{
		"owner": S("owner-a"), "version": S("v1"), "lease_ms": N("600"), "released": BOOL(false),
		"expires_at": N("1732626400"), "token": N("1732540000000001"), "data": B("payload"),
	}
	wantItem(t, "UPDATED_NEW", got, want)
	want["key"] = S("k")
	wantItem(t, "stored record", get(t, c, table, item{"key": S("k")}), want)
}

func caseAcquireReleased(t *testing.T, c api) {
	table := lockTable(t, c)
	put(t, c, table, record("k", "v0", bigToken, true))
	got, err := acquisition{table, "k", "v1", "", ""}.request().send(c)
	mustOK(t, err)
	// The removed data attribute is not part of UPDATED_NEW.
	want := item{
		"owner": S("owner-a"), "version": S("v1"), "lease_ms": N("600"), "released": BOOL(false),
		"expires_at": N("1732626400"), "token": N(bigTokenNext),
	}
	wantItem(t, "UPDATED_NEW", got, want)
	want["key"] = S("k")
	wantItem(t, "stored record", get(t, c, table, item{"key": S("k")}), want)
}

func caseAcquireHeld(t *testing.T, c api) {
	table := lockTable(t, c)
	held := record("k", "v0", bigToken, false)
	put(t, c, table, held)
	_, err := acquisition{table, "k", "v1", "", ""}.request().send(c)
	wantConditionFailed(t, err, "UpdateItem", held)
	_, err = acquisition{table, "k", "v1", "some-other-version", ""}.request().send(c)
	wantConditionFailed(t, err, "UpdateItem", held)
	wantItem(t, "record after failed acquisitions", get(t, c, table, item{"key": S("k")}), held)
}

func caseAcquireTakeover(t *testing.T, c api) {
	table := lockTable(t, c)
	put(t, c, table, record("k", "v0", bigToken, false))
	got, err := acquisition{table, "k", "v1", "v0", "new"}.request().send(c)
	mustOK(t, err)
	if show(item{"t": got["token"], "v": got["version"], "d": got["data"]}) !=
		show(item{"t": N(bigTokenNext), "v": S("v1"), "d": B("new")}) {
		t.Errorf("takeover returned %s", show(got))
	}
}

func caseTokenBeyondUint64(t *testing.T, c api) {
	table := lockTable(t, c)
	put(t, c, table, record("k", "v0", "18446744073709551615", true))
	got, err := acquisition{table, "k", "v1", "", ""}.request().send(c)
	mustOK(t, err)
	wantItem(t, "token", item{"token": got["token"]}, item{"token": N("18446744073709551616")})
}

// renewRequest builds the library's renewal (released=false) or release,
// conditional on the record being at any of cur.
func renewRequest(table, next string, released bool, cur ...string) *update {
	expr := "SET #v = :nv, #e = :e"
	names := []string{"#v", "version", "#e", "expires_at"}
	values := item{":nv": S(next), ":e": N("1732626999")}
	cond := ""
	for i, v := range cur {
		name := ":cur"
		if i > 0 {
			name += string(rune('0' + i))
			cond += " OR "
		}
		cond += "#v = " + name
		values[name] = S(v)
	}
	if released {
		expr += ", #r = :true"
		names = append(names, "#r", "released")
		values[":true"] = BOOL(true)
	}
	return newUpdate(table, item{"key": S("k")}, expr).cond(cond).names(names...).values(values).allOldOnFailure()
}

func caseRenew(t *testing.T, c api) {
	table := lockTable(t, c)
	rec := record("k", "v1", bigToken, false)
	put(t, c, table, rec)
	got, err := renewRequest(table, "v2", false, "v0", "v1").send(c)
	mustOK(t, err)
	wantItem(t, "Attributes without ReturnValues", got, nil)
	rec["version"], rec["expires_at"] = S("v2"), N("1732626999")
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
	rec["version"], rec["expires_at"], rec["released"] = S("v2"), N("1732626999"), BOOL(true)
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
