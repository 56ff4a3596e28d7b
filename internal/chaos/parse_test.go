package chaos

import (
	"context"
	"errors"
	"io"
	"net/http"
	"reflect"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/dynamutex/dynamutex/internal/localdb"
	"github.com/dynamutex/dynamutex/internal/wire"
)

// bodyOf returns the JSON body the AWS SDK sends for in, caught before it
// leaves the machine.
func bodyOf(t *testing.T, in *dynamodb.UpdateItemInput) []byte {
	t.Helper()
	var body []byte
	catch := roundTripFunc(func(r *http.Request) (*http.Response, error) {
		body, _ = io.ReadAll(r.Body)
		return nil, errors.New("not sent")
	})
	if _, err := localdb.Client("http://transport.invalid", catch, localdb.NoRetries).UpdateItem(context.Background(), in); err == nil || body == nil {
		t.Fatalf("the request was not caught (%v)", err)
	}
	return body
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// The transport reads each of the library's writes, as package wire builds
// them, for what it is and the versions and clock values it carries.
func TestParseWrite(t *testing.T) {
	it := wire.Item{Table: "locks", PartitionKey: "key", Key: "k"}
	exp := time.Unix(1732626400, 0)
	st := wire.Stamp{Sent: 1000, Deadline: 1610, Before: 990}
	sit := wire.Item{Table: "locks", PartitionKey: "key", Key: wire.SessionKeyPrefix + "s1"}
	cases := []struct {
		name string
		in   *dynamodb.UpdateItemInput
		want write
	}{
		{"acquire", wire.Acquire(wire.AcquireArgs{Item: it, Owner: "o", Version: "v1", Lease: time.Second,
			Seed: time.UnixMicro(1), Expires: exp, Stamp: st, Takeover: "v0"}),
			write{op: OpAcquire, key: "k", version: "v1", observed: "v0", stamp: 1000, deadline: 1610, before: 990, seed: 1}},
		{"renew", wire.Replace(wire.ReplaceArgs{Item: it, Current: []string{"v1"}, Next: "v2", Expires: exp, Stamp: st}),
			write{op: OpRenew, key: "k", from: "v1", version: "v2", stamp: 1000, deadline: 1610}},
		{"release", wire.Replace(wire.ReplaceArgs{Item: it, Current: []string{"v1", "v2"}, Next: "v3", Released: true,
			Expires: exp, Stamp: st}),
			write{op: OpRelease, key: "k", from: "v1", version: "v3", stamp: 1000}},
		{"claim", wire.ClaimWrite(wire.ClaimArgs{Item: it, Claim: wire.Claim{Version: "v1", Owner: "o", Beat: "b",
			Since: time.UnixMilli(5), Lease: time.Second}}),
			write{op: OpClaim, key: "k"}},
		{"unclaim", wire.Unclaim(it, "v1"), write{op: OpUnclaim, key: "k"}},
		// Session leases: the lock version goes to lock_version under the
		// same placeholders, and the Session record's own writes carry :nv.
		{"leased acquire from a dead Session", wire.Acquire(wire.AcquireArgs{Item: it, Owner: "o", Version: "lv1",
			Lease: time.Second, Seed: time.UnixMicro(1), Expires: exp, Stamp: st, Session: "dynamutex-session:s1",
			Dead: []string{"dynamutex-session:s0", "dynamutex-session:s9"}}),
			write{op: OpAcquire, key: "k", version: "lv1", stamp: 1000, before: 990, seed: 1,
				session: "dynamutex-session:s1", dead: []string{"dynamutex-session:s0", "dynamutex-session:s9"}}},
		{"leased release", wire.LeasedRelease(wire.LeasedReleaseArgs{Item: it, Current: []string{"lv1"}, Next: "lv2",
			Expires: exp, SentMS: 1000}),
			write{op: OpRelease, key: "k", from: "lv1", version: "lv2", stamp: 1000}},
		{"session create", wire.SessionCreate(wire.SessionCreateArgs{Item: sit, Owner: "o", Version: "s1",
			Lease: time.Second, Expires: exp, Stamp: st}),
			write{op: OpSession, key: sit.Key, version: "s1", stamp: 1000, deadline: 1610}},
		{"session renew", wire.Replace(wire.ReplaceArgs{Item: sit, Current: []string{"s1"}, Next: "s2", Expires: exp, Stamp: st}),
			write{op: OpRenew, key: sit.Key, from: "s1", version: "s2", stamp: 1000, deadline: 1610}},
		{"session revoke", wire.Revoke(wire.RevokeArgs{Item: sit, Watched: "s2", Next: "s3", SentMS: 1000, Expires: exp}),
			write{op: OpRelease, key: sit.Key, version: "s3", observed: "s2", stamp: 1000}},
	}
	for _, tc := range cases {
		got, ok, table := parseWrite("DynamoDB_20120810.UpdateItem", bodyOf(t, tc.in))
		if !ok || table != "locks" || !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s: %+v (ok %v, table %q), want %+v", tc.name, got, ok, table, tc.want)
		}
	}
	if _, ok, _ := parseWrite("DynamoDB_20120810.GetItem", []byte(`{}`)); ok {
		t.Error("a GetItem parsed as a write")
	}
}

// A retry of a write under a session lease finds its own version in the
// record's lock version, not in its version attribute.
func TestOwnVersionInLockVersion(t *testing.T) {
	body := []byte(`{"Item":{"key":{"S":"k"},"lock_version":{"S":"lv1"},"session":{"S":"dynamutex-session:s1"}}}`)
	if !ownVersionIn(body, "lv1") || ownVersionIn(body, "lv2") || ownVersionIn(body, "") {
		t.Error("ownVersionIn does not read the lock version of a record held under a session lease")
	}
}
