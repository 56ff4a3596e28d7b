package wire

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"io"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

var rewrite = flag.Bool("update", false, "rewrite testdata/requests.golden from the builders")

// Fixed values, so that the golden file is the same from run to run.
var (
	it      = Item{Table: "locks", PartitionKey: "key", Key: "k"}
	sorted  = Item{Table: "locks", PartitionKey: "key", Key: "k", SortKey: "sk", Sort: "s"}
	seed    = time.UnixMicro(1732540000000000)
	expires = time.Unix(1732626400, 0)
	plain   = Stamp{Sent: 1732540000000}
	bounded = Stamp{Sent: 1732540000000, Deadline: 1732540000610, Before: 1732539999990}
)

func acquire(f func(*AcquireArgs)) *dynamodb.UpdateItemInput {
	a := AcquireArgs{Item: it, Owner: "owner-a", Version: "v1", Lease: 600 * time.Millisecond,
		Seed: seed, Expires: expires, Stamp: plain}
	f(&a)
	return Acquire(a)
}

func replace(f func(*ReplaceArgs)) *dynamodb.UpdateItemInput {
	a := ReplaceArgs{Item: it, Current: []string{"v1"}, Next: "v2", Expires: expires, Stamp: plain}
	f(&a)
	return Replace(a)
}

func claimWrite(stale string) *dynamodb.UpdateItemInput {
	return ClaimWrite(ClaimArgs{Item: it, Stale: stale, Claim: Claim{Version: "v1", Owner: "owner-a",
		Since: time.UnixMilli(1732539000000), Beat: "b1", Lease: 600 * time.Millisecond}})
}

// writes are every shape of write the library sends, with the Op each is.
var writes = []struct {
	name string
	in   *dynamodb.UpdateItemInput
	op   Op
}{
	{"acquire", acquire(func(*AcquireArgs) {}), OpAcquire},
	{"acquire_data", acquire(func(a *AcquireArgs) { a.Data = []byte("payload") }), OpAcquire},
	{"acquire_takeover", acquire(func(a *AcquireArgs) { a.Takeover = "v0" }), OpAcquire},
	{"acquire_stale_claim", acquire(func(a *AcquireArgs) { a.StaleClaim = "b0" }), OpAcquire},
	{"acquire_bounded", acquire(func(a *AcquireArgs) { a.Stamp = bounded }), OpAcquire},
	{"acquire_all", acquire(func(a *AcquireArgs) {
		a.Item, a.Stamp, a.Takeover, a.StaleClaim, a.Data = sorted, bounded, "v0", "b0", []byte("payload")
	}), OpAcquire},
	{"renew", replace(func(*ReplaceArgs) {}), OpRenew},
	{"renew_bounded", replace(func(a *ReplaceArgs) { a.Stamp = bounded }), OpRenew},
	{"release", replace(func(a *ReplaceArgs) { a.Released = true }), OpRelease},
	{"release_bounded_in_doubt", replace(func(a *ReplaceArgs) {
		a.Released, a.Stamp, a.Current = true, bounded, []string{"v1", "v1b"}
	}), OpRelease},
	{"claim", claimWrite(""), OpClaim},
	{"claim_stale", claimWrite("b0"), OpClaim},
	{"unclaim", Unclaim(it, "v1"), OpUnclaim},
	{"cross_java", cross(func(a *CrossArgs) {}), OpAcquire},
	{"cross_java_released", cross(func(a *CrossArgs) { a.Released = true }), OpAcquire},
	{"cross_python_both", cross(func(a *CrossArgs) {
		a.Item, a.Data = sorted, []byte("payload")
		a.Watched = []Watched{{Native, "v0"}, {Python, "rvn-0"}}
	}), OpAcquire},
	{"cross_to_java_from_native_released", cross(func(a *CrossArgs) {
		a.Item, a.Released, a.Watched = javaItem, true, []Watched{{Native, "v0"}}
	}), OpAcquire},
	{"cross_to_python_from_java", cross(func(a *CrossArgs) { a.Item = pythonItem }), OpAcquire},
	{"java_acquire", acquire(func(a *AcquireArgs) { a.Item, a.Takeover, a.Stamp = javaItem, "v0", bounded }), OpAcquire},
	{"java_renew", replace(func(a *ReplaceArgs) { a.Item = javaItem }), OpRenew},
	{"java_release", replace(func(a *ReplaceArgs) { a.Item, a.Released = javaItem, true }), OpRelease},
	{"python_acquire", acquire(func(a *AcquireArgs) {
		a.Item, a.Takeover, a.Data, a.Lease = pythonItem, "v0", []byte("payload"), 2500*time.Millisecond
	}), OpAcquire},
	{"python_renew", replace(func(a *ReplaceArgs) { a.Item, a.Stamp = pythonItem, bounded }), OpRenew},
	{"python_release", replace(func(a *ReplaceArgs) { a.Item, a.Released, a.Next = pythonItem, true, "v1" }), OpRelease},
	{"leased_acquire", acquire(func(a *AcquireArgs) { a.Session = sessKey }), OpAcquire},
	{"leased_acquire_bounded_dead", acquire(func(a *AcquireArgs) {
		a.Session, a.Stamp, a.Takeover = sessKey, bounded, "v0"
		a.Dead = []string{"dynamutex-session:s0", "dynamutex-session:s9"}
	}), OpAcquire},
	{"acquire_dead", acquire(func(a *AcquireArgs) { a.Dead = []string{"dynamutex-session:s0"} }), OpAcquire},
	{"leased_release", LeasedRelease(LeasedReleaseArgs{Item: it, Current: []string{"v1", "v1b"}, Next: "v2",
		Expires: expires, SentMS: plain.Sent}), OpRelease},
	{"session_create", SessionCreate(SessionCreateArgs{Item: sessItem, Owner: "owner-a", Version: "s1",
		Lease: 600 * time.Millisecond, Expires: expires, Stamp: bounded}), OpSession},
	{"session_renew", replace(func(a *ReplaceArgs) { a.Item, a.Stamp = sessItem, bounded }), OpRenew},
	{"session_revoke_watched", Revoke(RevokeArgs{Item: sessItem, Watched: "s1", Next: "s2", SentMS: plain.Sent,
		Expires: expires}), OpRelease},
	{"session_revoke_clock", Revoke(RevokeArgs{Item: sessItem, Before: bounded.Before, Next: "s2",
		SentMS: plain.Sent, Expires: expires}), OpRelease},
}

const sessKey = "dynamutex-session:s1"

var sessItem = Item{Table: "locks", PartitionKey: "key", Key: sessKey}

var (
	javaItem   = Item{Table: "locks", PartitionKey: "key", Key: "k", Layout: Java}
	pythonItem = Item{Table: "locks", PartitionKey: "lock_key", Key: "k", SortKey: "sort_key", Sort: "-", Layout: Python}
)

func cross(f func(*CrossArgs)) *dynamodb.UpdateItemInput {
	a := CrossArgs{AcquireArgs: AcquireArgs{Item: it, Owner: "owner-a", Version: "v1", Lease: 600 * time.Millisecond,
		Seed: seed, Expires: expires, Stamp: plain}, Watched: []Watched{{Java, "rvn-0"}}}
	f(&a)
	return CrossTakeover(a)
}

// body returns the JSON body the AWS SDK sends for one request, made by
// call on a client whose HTTP client keeps the body and answers nothing.
func body(t *testing.T, call func(context.Context, *dynamodb.Client) error) []byte {
	t.Helper()
	var got []byte
	c := dynamodb.New(dynamodb.Options{
		Region: "us-east-1", BaseEndpoint: aws.String("http://wire.invalid"), RetryMaxAttempts: 1,
		Credentials: aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
			return aws.Credentials{AccessKeyID: "id", SecretAccessKey: "secret"}, nil
		}),
		HTTPClient: doFunc(func(r *http.Request) (*http.Response, error) {
			got, _ = io.ReadAll(r.Body)
			return nil, errors.New("not sent")
		}),
	})
	if err := call(context.Background(), c); err == nil || got == nil {
		t.Fatalf("the request was not captured (%v)", err)
	}
	return got
}

type doFunc func(*http.Request) (*http.Response, error)

func (f doFunc) Do(r *http.Request) (*http.Response, error) { return f(r) }

func updateBody(t *testing.T, in *dynamodb.UpdateItemInput) []byte {
	return body(t, func(ctx context.Context, c *dynamodb.Client) error { _, err := c.UpdateItem(ctx, in); return err })
}

// Each write classifies as what it is, from its update expression and its
// SDK input alike.
func TestClassify(t *testing.T) {
	for _, w := range writes {
		if got := ClassifyUpdate(aws.ToString(w.in.UpdateExpression)); got != w.op {
			t.Errorf("%s: ClassifyUpdate = %s, want %s", w.name, got, w.op)
		}
		if got := Classify(w.in); got != w.op {
			t.Errorf("%s: Classify = %s, want %s", w.name, got, w.op)
		}
	}
	for _, u := range []string{"", "SET scratch = :v", "SET #c.#cb = :b", "REMOVE #c, #d", "SET #v = :v"} {
		if got := ClassifyUpdate(u); got != OpOther {
			t.Errorf("ClassifyUpdate(%q) = %s, want other", u, got)
		}
	}
}

// The previous release's writes, as it sent them, classify as what they
// are, so that tools reading a shared table's traffic tell them apart.
func TestClassifyPrevRelease(t *testing.T) {
	raw, err := os.ReadFile("../../testdata/prevrelease/requests.json")
	if err != nil {
		t.Fatal(err)
	}
	var reqs map[string]struct{ UpdateExpression string }
	if err := json.Unmarshal(raw, &reqs); err != nil {
		t.Fatal(err)
	}
	want := map[string]Op{"acquire": OpAcquire, "acquire_data": OpAcquire, "acquire_takeover": OpAcquire,
		"renew": OpRenew, "release": OpRelease}
	if len(reqs) != len(want) {
		t.Fatalf("requests.json has %d requests, want %d", len(reqs), len(want))
	}
	for name, op := range want {
		if got := ClassifyUpdate(reqs[name].UpdateExpression); got != op {
			t.Errorf("%s: %s, want %s", name, got, op)
		}
	}
}

// canonical re-encodes a request body on one line, with its keys sorted and
// without the idempotency token the SDK draws for a transaction.
func canonical(t *testing.T, b []byte) string {
	t.Helper()
	var v map[string]any
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatal(err)
	}
	delete(v, "ClientRequestToken")
	var out strings.Builder
	enc := json.NewEncoder(&out)
	enc.SetEscapeHTML(false) // keep < and > of the conditions readable
	if err := enc.Encode(v); err != nil {
		t.Fatal(err)
	}
	return out.String()
}

// TestRequestsGolden pins every request the builders make, as the SDK puts
// it on the wire, to testdata/requests.golden: a change of the wire format
// shows there, to be checked against the compatibility rules of the
// package documentation (and, for a write, against the classifier), then
// recorded with -update.
func TestRequestsGolden(t *testing.T) {
	var sb strings.Builder
	add := func(name string, b []byte) { sb.WriteString("== " + name + "\n" + canonical(t, b)) }
	for _, w := range writes {
		add(w.name, updateBody(t, w.in))
	}
	for _, g := range []struct {
		name string
		item Item
	}{{"guard", it}, {"guard_java", javaItem}, {"guard_python", pythonItem}, {"guard_session", sessItem}} {
		name, item := g.name, g.item
		add(name, body(t, func(ctx context.Context, c *dynamodb.Client) error {
			_, err := c.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{
				TransactItems: guardItems(item)})
			return err
		}))
	}
	for _, r := range []struct {
		name string
		in   *dynamodb.GetItemInput
	}{{"wait_read", WaitRead(it)}, {"read", Read(sorted)}} {
		add(r.name, body(t, func(ctx context.Context, c *dynamodb.Client) error { _, err := c.GetItem(ctx, r.in); return err }))
	}
	add("scan", body(t, func(ctx context.Context, c *dynamodb.Client) error {
		_, err := c.Scan(ctx, Scan("locks", it.KeyMap()))
		return err
	}))
	const golden = "testdata/requests.golden"
	if *rewrite {
		if err := os.WriteFile(golden, []byte(sb.String()), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if got := sb.String(); got != string(want) {
		t.Errorf("the requests differ from %s; if the change is meant, check it against the compatibility "+
			"rules and rerun with -update. Got:\n%s", golden, got)
	}
}

// Attributes lists each attribute once, and the claim's fields are not
// needed there: they live inside AttrClaim.
func TestAttributes(t *testing.T) {
	seen := map[string]bool{}
	for _, a := range Attributes() {
		if seen[a] {
			t.Errorf("%s listed twice", a)
		}
		seen[a] = true
	}
	if len(seen) != 13 || !seen[AttrExpires] || !seen[AttrClaim] || !seen[AttrSession] || !seen[AttrLockVersion] {
		t.Errorf("Attributes() = %v", Attributes())
	}
	Attributes()[0] = "changed"
	if Attributes()[0] != AttrOwner {
		t.Error("Attributes shares its slice with callers")
	}
}

// guardItems is the guard of item: a Session record's is SessionGuard.
func guardItems(item Item) []types.TransactWriteItem {
	if item.Key == sessKey {
		return []types.TransactWriteItem{SessionGuard(item)}
	}
	return []types.TransactWriteItem{Guard(GuardArgs{Item: item, Token: 8, Owner: "owner-a"})}
}
