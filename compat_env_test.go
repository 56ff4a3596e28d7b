package dynamutex_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/dynamutex/dynamutex"
	"github.com/dynamutex/dynamutex/dynamutextest"
	"github.com/dynamutex/dynamutex/internal/localdb"
	"github.com/dynamutex/dynamutex/internal/wallclock"
)

// These tests share a table between this release and the previous one
// (commit 4a79e60, before clock stamps), in both directions. The previous
// release is present through what it really did: the items it left, the
// UpdateItem requests it sent and its decoder's verdicts, recorded from its
// own code in testdata/prevrelease (see the README there).

const (
	compatOwner = "prev-release" // the owner in the fixtures
	compatLease = 600 * time.Millisecond
	compatData  = "prev-release data"
	compatBound = 50 * time.Millisecond
	// compatAhead moves the wall clock (and DynamoDB's Date with it) as if an
	// hour had passed: every deadline of the test is then far behind, while
	// the monotonic clock, which observation counts on, has not moved.
	compatAhead = time.Hour
)

// compatDateShift moves DynamoDB's Date header by the wall-clock offset of
// this process, so that a clock moved ahead by compatAhead stays within its
// bound: time has passed for both.
type compatDateShift struct{ base http.RoundTripper }

func (d compatDateShift) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := d.base.RoundTrip(r)
	if err == nil {
		if date, perr := http.ParseTime(resp.Header.Get("Date")); perr == nil {
			resp.Header.Set("Date", date.Add(wallclock.Offset()).UTC().Format(http.TimeFormat))
		}
	}
	return resp, err
}

// compatEnv is one table on one backend.
type compatEnv struct {
	t     *testing.T
	db    *tap // counts this release's acquire writes
	table string
	seq   int
}

// compatEach runs f on the in-memory store and, when the tests have one,
// on DynamoDB Local.
func compatEach(t *testing.T, f func(e *compatEnv)) {
	type backend struct {
		name string
		open func(t *testing.T) testDB
	}
	backends := []backend{{"memory", func(*testing.T) testDB { return dynamutextest.New() }}}
	if onLocal(t) {
		backends = append(backends, backend{"dynamodb", func(t *testing.T) testDB {
			return localdb.Client(localdb.Endpoint(t), compatDateShift{localdb.Transport()}, localdb.NoRetries)
		}})
	}
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			db := newTap(b.open(t))
			f(&compatEnv{t: t, db: db, table: newTable(t, db)})
		})
	}
}

// session opens a Session with the test's short lease.
func (e *compatEnv) session(owner string, opts ...dynamutex.Option) *dynamutex.Session {
	return newSession(e.t, e.db, e.table, append([]dynamutex.Option{dynamutex.WithOwner(owner)}, opts...)...)
}

// updates runs f and returns the acquire writes it made. The renewals that
// the heartbeat loop sends for the locks a test still holds are left out:
// they come whenever they are due, and would make a count of one TryLock's
// requests racy.
func (e *compatEnv) updates(f func()) int {
	before := e.db.count(opAcquire)
	f()
	return e.db.count(opAcquire) - before
}

// shiftClock moves the wall clock of the process ahead by compatAhead until
// the test ends.
func (e *compatEnv) shiftClock() {
	wallclock.SetOffset(compatAhead)
	e.t.Cleanup(func() { wallclock.SetOffset(0) })
}

func (e *compatEnv) get(key string) map[string]types.AttributeValue {
	e.t.Helper()
	out, err := e.db.GetItem(context.Background(), &dynamodb.GetItemInput{
		TableName: aws.String(e.table), ConsistentRead: aws.Bool(true),
		Key: map[string]types.AttributeValue{"key": avS(key)},
	})
	if err != nil {
		e.t.Fatalf("GetItem %q: %v", key, err)
	}
	return out.Item
}

// compatFill gives the placeholders of a fixture their values.
type compatFill struct {
	key, version, cur, next, old string
	token                        uint64
}

// fixture reads a fixture file with its placeholders filled in.
func (e *compatEnv) fixture(file string, f compatFill) map[string]map[string]any {
	e.t.Helper()
	raw, err := os.ReadFile("testdata/prevrelease/" + file)
	if err != nil {
		e.t.Fatal(err)
	}
	now := time.Now()
	text := strings.NewReplacer(
		"{{table}}", e.table, "{{key}}", f.key, "{{version}}", f.version, "{{cur}}", f.cur,
		"{{next}}", f.next, "{{old}}", f.old, "{{token}}", strconv.FormatUint(f.token, 10),
		"{{expires_at}}", strconv.FormatInt(now.Add(time.Hour).Unix(), 10),
		"{{seed}}", strconv.FormatInt(now.UnixMicro(), 10),
	).Replace(string(raw))
	if i := strings.Index(text, "{{"); i >= 0 {
		e.t.Fatalf("%s: placeholder left unfilled near %q", file, text[i:min(i+30, len(text))])
	}
	var out map[string]map[string]any
	if err := json.Unmarshal([]byte(text), &out); err != nil {
		e.t.Fatal(err)
	}
	return out
}

// putOld plants the item the previous release left as fixture name.
func (e *compatEnv) putOld(name, key string, token uint64) {
	e.t.Helper()
	wire := e.fixture("items.json", compatFill{key: key, version: "prev-" + key, token: token})[name]
	if wire == nil {
		e.t.Fatalf("items.json has no %q", name)
	}
	if _, err := e.db.PutItem(context.Background(), &dynamodb.PutItemInput{
		TableName: aws.String(e.table), Item: compatWireItem(e.t, wire),
	}); err != nil {
		e.t.Fatal(err)
	}
}

// replay sends the previous release's request name, filled in by f.
func (e *compatEnv) replay(name string, f compatFill) (*dynamodb.UpdateItemOutput, error) {
	e.t.Helper()
	body := e.fixture("requests.json", f)[name]
	if body == nil {
		e.t.Fatalf("requests.json has no %q", name)
	}
	in := &dynamodb.UpdateItemInput{
		TableName:                           aws.String(body["TableName"].(string)),
		Key:                                 compatWireItem(e.t, body["Key"].(map[string]any)),
		UpdateExpression:                    aws.String(body["UpdateExpression"].(string)),
		ConditionExpression:                 aws.String(body["ConditionExpression"].(string)),
		ExpressionAttributeValues:           compatWireItem(e.t, body["ExpressionAttributeValues"].(map[string]any)),
		ExpressionAttributeNames:            map[string]string{},
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailure(body["ReturnValuesOnConditionCheckFailure"].(string)),
	}
	if rv, ok := body["ReturnValues"].(string); ok {
		in.ReturnValues = types.ReturnValue(rv)
	}
	for k, v := range body["ExpressionAttributeNames"].(map[string]any) {
		in.ExpressionAttributeNames[k] = v.(string)
	}
	return e.db.db.UpdateItem(context.Background(), in) // not counted: it is the other release's
}

// mustReplay replays a request that must succeed.
func (e *compatEnv) mustReplay(name string, f compatFill) *dynamodb.UpdateItemOutput {
	e.t.Helper()
	out, err := e.replay(name, f)
	if err != nil {
		e.t.Fatalf("previous release's %s on %q: %v", name, f.key, err)
	}
	return out
}

// compatWireItem decodes a map of attribute values in DynamoDB's JSON with
// the SDK's own decoder, as the Item of a GetItem reply.
func compatWireItem(t *testing.T, wire map[string]any) map[string]types.AttributeValue {
	t.Helper()
	body, err := json.Marshal(map[string]any{"Item": wire})
	if err != nil {
		t.Fatal(err)
	}
	c := dynamodb.New(dynamodb.Options{
		Region: "us-east-1", BaseEndpoint: aws.String("http://decode.invalid"), Credentials: aws.AnonymousCredentials{},
		HTTPClient: compatReply(body),
	})
	out, err := c.GetItem(context.Background(), &dynamodb.GetItemInput{
		TableName: aws.String("t"), Key: map[string]types.AttributeValue{"key": avS("k")},
	})
	if err != nil {
		t.Fatalf("decoding %s: %v", body, err)
	}
	return out.Item
}

// compatReply answers every request with body.
type compatReply []byte

func (b compatReply) Do(*http.Request) (*http.Response, error) {
	return &http.Response{StatusCode: 200, Header: http.Header{"Content-Type": {"application/x-amz-json-1.0"}},
		Body: io.NopCloser(bytes.NewReader(b))}, nil
}

// compatOldRecord is what the previous release's decoder reads.
type compatOldRecord struct {
	owner, version string
	token          uint64
	leaseMS        uint64
	released       bool
	data           []byte
}

// compatOldDecode is a frozen copy of the rules of decodeRecord in the
// previous release (`git show 4a79e60:record.go`): version a non-empty S,
// owner an S, token an N of 0 to 2^64-1, lease_ms an N of 1 ms to 7 days,
// released a BOOL, data absent or a B; every other attribute ignored. It
// returns the attribute it refuses, if any. TestPrevReleaseDecoderVerdicts
// holds it to that decoder's own verdicts.
func compatOldDecode(item map[string]types.AttributeValue) (compatOldRecord, string) {
	var r compatOldRecord
	s := func(name string) (string, bool) {
		v, ok := item[name].(*types.AttributeValueMemberS)
		if !ok {
			return "", false
		}
		return v.Value, true
	}
	n := func(name string) (uint64, bool) {
		v, ok := item[name].(*types.AttributeValueMemberN)
		if !ok {
			return 0, false
		}
		u, err := strconv.ParseUint(v.Value, 10, 64)
		return u, err == nil
	}
	var ok bool
	if r.version, ok = s("version"); !ok || r.version == "" {
		return r, "version"
	}
	if r.owner, ok = s("owner"); !ok {
		return r, "owner"
	}
	if r.token, ok = n("token"); !ok {
		return r, "token"
	}
	if r.leaseMS, ok = n("lease_ms"); !ok || r.leaseMS == 0 || r.leaseMS > uint64(7*24*time.Hour/time.Millisecond) {
		return r, "lease_ms"
	}
	rel, ok := item["released"].(*types.AttributeValueMemberBOOL)
	if !ok {
		return r, "released"
	}
	r.released = rel.Value
	switch d := item["data"].(type) {
	case nil:
	case *types.AttributeValueMemberB:
		r.data = d.Value
	default:
		return r, "data"
	}
	return r, ""
}

// mustOldDecode checks that the previous release reads item, and returns
// what it reads.
func mustOldDecode(t *testing.T, what string, item map[string]types.AttributeValue) compatOldRecord {
	t.Helper()
	r, bad := compatOldDecode(item)
	if bad != "" {
		t.Fatalf("%s: the previous release's decoder refuses %s: %v", what, bad, item[bad])
	}
	return r
}
