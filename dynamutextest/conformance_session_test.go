package dynamutextest_test

import (
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/dynamutex/dynamutex/internal/wire"
)

// The requests of session leases (wire/session.go): the Session record's
// creation, renewal and revocation, a lock held under a session lease, its
// release, the take of a dead Session's lock, and the Session record's
// guard. The Store must answer them as DynamoDB does.

func TestConformanceSessionRequests(t *testing.T) {
	runConformance(t, []conformanceCase{
		{"SessionRecordCycle", caseSessionRecordCycle},
		{"LeasedLockCycle", caseLeasedLockCycle},
		{"SessionGuard", caseSessionGuard},
	})
}

const sessKey = "dynamutex-session:s1"

func sessionCreate(table, version string) *update {
	return &update{in: wire.SessionCreate(wire.SessionCreateArgs{Item: lockItem(table, sessKey), Owner: "owner-s",
		Version: version, Lease: 600 * time.Millisecond, Expires: fixedExpires, Stamp: boundStamp})}
}

func revoke(table string, a wire.RevokeArgs) *update {
	a.Item, a.Next, a.SentMS, a.Expires = lockItem(table, sessKey), "s-revoked", plainStamp.Sent, fixedExpires
	return &update{in: wire.Revoke(a)}
}

func caseSessionRecordCycle(t *testing.T, c api) {
	table := lockTable(t, c)
	_, err := sessionCreate(table, "s1").send(c)
	mustOK(t, err)
	live := item{"key": S(sessKey), "owner": S("owner-s"), "version": S("s1"), "lease_ms": N("600"),
		"released": BOOL(false), "expires_at": N("1732626400"), "sent_ms": N("1732540000000"),
		"stamped_version": S("s1"), "deadline_ms": N("1732540000610")}
	wantItem(t, "created", get(t, c, table, item{"key": S(sessKey)}), live)
	_, err = sessionCreate(table, "s1b").send(c)
	wantConditionFailed(t, err, "UpdateItem", live)
	_, err = (&update{in: wire.Replace(wire.ReplaceArgs{Item: lockItem(table, sessKey), Current: []string{"s1"},
		Next: "s2", Expires: fixedExpires, Stamp: boundStamp})}).send(c)
	mustOK(t, err)
	live["version"], live["stamped_version"] = S("s2"), S("s2")
	// A revocation by a stale watch, and by a clock not yet past the
	// deadline, are refused with the record.
	_, err = revoke(table, wire.RevokeArgs{Watched: "s1"}).send(c)
	wantConditionFailed(t, err, "UpdateItem", live)
	_, err = revoke(table, wire.RevokeArgs{Before: 1732540000610}).send(c)
	wantConditionFailed(t, err, "UpdateItem", live)
	_, err = revoke(table, wire.RevokeArgs{Before: 1732540000611}).send(c)
	mustOK(t, err)
	revoked := item{"key": S(sessKey), "owner": S("owner-s"), "version": S("s-revoked"), "lease_ms": N("600"),
		"released": BOOL(true), "expires_at": N("1732626400"), "sent_ms": N("1732540000000"),
		"stamped_version": S("s-revoked")}
	wantItem(t, "revoked", get(t, c, table, item{"key": S(sessKey)}), revoked)
	// Revoked once, for good: the watched version is gone, and a second
	// revocation is refused too.
	_, err = revoke(table, wire.RevokeArgs{Watched: "s-revoked"}).send(c)
	wantConditionFailed(t, err, "UpdateItem", revoked)
}

func leasedAcquire(table, version string, dead []string) *update {
	return &update{in: wire.Acquire(wire.AcquireArgs{Item: lockItem(table, "k"), Owner: "owner-" + version,
		Version: version, Lease: 600 * time.Millisecond, Seed: fixedSeed, Expires: fixedExpires, Stamp: boundStamp,
		Session: sessKey, Dead: dead})}
}

func caseLeasedLockCycle(t *testing.T, c api) {
	table := lockTable(t, c)
	_, err := leasedAcquire(table, "v1", nil).send(c)
	mustOK(t, err)
	held := item{"key": S("k"), "owner": S("owner-v1"), "lock_version": S("v1"), "session": S(sessKey),
		"token": N("1732540000000001"), "lease_ms": N("600"), "released": BOOL(false),
		"sent_ms": N("1732540000000"), "stamped_version": S("v1")}
	wantItem(t, "held under a session lease", get(t, c, table, item{"key": S("k")}), held)
	// Neither another acquire nor a takeover of a watched "version" passes.
	_, err = leasedAcquire(table, "v2", nil).send(c)
	wantConditionFailed(t, err, "UpdateItem", held)
	_, err = leasedAcquire(table, "v2", []string{"dynamutex-session:other"}).send(c)
	wantConditionFailed(t, err, "UpdateItem", held)
	got, err := leasedAcquire(table, "v2", []string{"dynamutex-session:other", sessKey}).send(c)
	mustOK(t, err)
	wantItem(t, "UPDATED_OLD of the take", got, item{"owner": S("owner-v1"), "lock_version": S("v1"),
		"session": S(sessKey), "token": N("1732540000000001"), "lease_ms": N("600"), "released": BOOL(false),
		"sent_ms": N("1732540000000"), "stamped_version": S("v1")})
	_, err = (&update{in: wire.LeasedRelease(wire.LeasedReleaseArgs{Item: lockItem(table, "k"),
		Current: []string{"v1", "v2"}, Next: "v3", Expires: fixedExpires, SentMS: plainStamp.Sent})}).send(c)
	mustOK(t, err)
	wantItem(t, "released", get(t, c, table, item{"key": S("k")}), item{"key": S("k"), "owner": S("owner-v2"),
		"lock_version": S("v3"), "session": S(sessKey), "token": N("1732540000000002"), "lease_ms": N("600"),
		"released": BOOL(true), "expires_at": N("1732626400"), "sent_ms": N("1732540000000"),
		"stamped_version": S("v3")})
	// A record that a per-lock writer took since carries a version: the
	// dead-Session clause no longer passes, whatever session it names.
	_, err = (&update{in: wire.Acquire(wire.AcquireArgs{Item: lockItem(table, "k"), Owner: "owner-v4", Version: "v4",
		Lease: 600 * time.Millisecond, Seed: fixedSeed, Expires: fixedExpires, Stamp: plainStamp})}).send(c)
	mustOK(t, err)
	_, err = leasedAcquire(table, "v5", []string{sessKey}).send(c)
	if err == nil {
		t.Fatal("the dead-Session clause took a record that a per-lock writer holds")
	}
}

func caseSessionGuard(t *testing.T, c api) {
	table := lockTable(t, c)
	_, err := sessionCreate(table, "s1").send(c)
	mustOK(t, err)
	txn := func() error {
		_, err := c.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{
			wire.SessionGuard(lockItem(table, sessKey)),
			{Put: &types.Put{TableName: aws.String(table), Item: item{"key": S("doc")}}},
		}})
		return err
	}
	mustOK(t, txn())
	_, err = revoke(table, wire.RevokeArgs{Watched: "s1"}).send(c)
	mustOK(t, err)
	err = txn()
	if err == nil {
		t.Fatal("the Session guard passed on a revoked Session record")
	}
	wantAPIError(t, err, "TransactWriteItems", "TransactionCanceledException")
}
