//go:build prevcapture

// This file is not part of the module at HEAD. scripts/capture-prevrelease.sh
// copies it into a worktree of the previous release (commit 4a79e60) and runs
// it there, inside that release's own package, so that what it records is
// what that release really sends, leaves in the table and accepts.
package dynamutex

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

const (
	captureOwner = "prev-release"
	captureLease = 600 * time.Millisecond
)

// captureExchange is one request and its reply, as JSON on the wire.
type captureExchange struct {
	target   string
	req, rep map[string]any
}

// captureTransport records every exchange with DynamoDB.
type captureTransport struct {
	base http.RoundTripper
	mu   sync.Mutex
	log  []captureExchange
}

func (c *captureTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	raw, _ := io.ReadAll(req.Body)
	req.Body.Close()
	req.Body = io.NopCloser(bytes.NewReader(raw))
	resp, err := c.base.RoundTrip(req)
	if err != nil {
		return resp, err
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	resp.Body = io.NopCloser(bytes.NewReader(body))
	ex := captureExchange{target: strings.TrimPrefix(req.Header.Get("X-Amz-Target"), "DynamoDB_20120810.")}
	_ = json.Unmarshal(raw, &ex.req)
	_ = json.Unmarshal(body, &ex.rep)
	c.mu.Lock()
	c.log = append(c.log, ex)
	c.mu.Unlock()
	return resp, nil
}

// last returns the last UpdateItem for key whose update expression
// contains marker, and whose condition contains cond.
func (c *captureTransport) last(t *testing.T, key, marker, cond string) map[string]any {
	t.Helper()
	c.mu.Lock()
	defer c.mu.Unlock()
	for i := len(c.log) - 1; i >= 0; i-- {
		ex := c.log[i]
		if ex.target != "UpdateItem" || captureKeyOf(ex.req) != key {
			continue
		}
		u, _ := ex.req["UpdateExpression"].(string)
		k, _ := ex.req["ConditionExpression"].(string)
		if strings.Contains(u, marker) && strings.Contains(k, cond) {
			return ex.req
		}
	}
	t.Fatalf("no UpdateItem for %q with %q and condition %q", key, marker, cond)
	return nil
}

func (c *captureTransport) count(key, marker string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for _, ex := range c.log {
		u, _ := ex.req["UpdateExpression"].(string)
		if ex.target == "UpdateItem" && captureKeyOf(ex.req) == key && strings.Contains(u, marker) {
			n++
		}
	}
	return n
}

func captureKeyOf(body map[string]any) string {
	k, _ := body["Key"].(map[string]any)
	v, _ := k["key"].(map[string]any)
	s, _ := v["S"].(string)
	return s
}

// The update expressions of the three writes of this release.
const (
	markAcquire = "if_not_exists"
	markRelease = "#r = :true"
	markRenew   = "SET #v = :nv, #e = :e"
)

type captureRun struct {
	t      *testing.T
	tr     *captureTransport
	client *dynamodb.Client
	table  string
	items  map[string]any
	reqs   map[string]any
}

func TestCapturePrevRelease(t *testing.T) {
	ep := os.Getenv("AWS_ENDPOINT_URL_DYNAMODB")
	out := os.Getenv("PREVRELEASE_OUT")
	if ep == "" || out == "" {
		t.Fatal("set AWS_ENDPOINT_URL_DYNAMODB and PREVRELEASE_OUT; run scripts/capture-prevrelease.sh")
	}
	base := http.DefaultTransport.(*http.Transport).Clone()
	defer base.CloseIdleConnections()
	tr := &captureTransport{base: base}
	client := dynamodb.New(dynamodb.Options{
		BaseEndpoint: aws.String(ep),
		Region:       "us-east-1",
		Credentials: aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
			return aws.Credentials{AccessKeyID: "local", SecretAccessKey: "local", Source: "capture"}, nil
		}),
		HTTPClient: &http.Client{Transport: tr},
	})
	r := &captureRun{t: t, tr: tr, client: client, items: map[string]any{}, reqs: map[string]any{},
		table: "prevrelease_capture_" + time.Now().Format("150405.000000")}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := CreateTable(ctx, client, r.table); err != nil {
		t.Fatal(err)
	}
	r.plain(ctx)
	r.withData(ctx)
	r.takeover(ctx)
	r.write(out, "items.json", r.items)
	r.write(out, "requests.json", r.reqs)
	r.write(out, "decoder.json", captureDecoderVerdicts())
}

func (r *captureRun) session(ctx context.Context, owner string) *Session {
	s, err := NewSession(ctx, r.client, r.table, WithOwner(owner), WithLeaseDuration(captureLease),
		WithSafeTime(400*time.Millisecond), WithHeartbeatPeriod(100*time.Millisecond), WithExpiry(time.Hour))
	if err != nil {
		r.t.Fatal(err)
	}
	return s
}

// plain: acquire, a renewal, release, without data.
func (r *captureRun) plain(ctx context.Context) {
	s := r.session(ctx, captureOwner)
	defer s.Close(ctx)
	m := s.NewMutex("plain")
	if _, err := m.Lock(ctx); err != nil {
		r.t.Fatal(err)
	}
	r.snapshot(ctx, "held", "plain")
	r.request("acquire", r.tr.last(r.t, "plain", markAcquire, ""))
	for r.tr.count("plain", markRenew) == 0 {
		time.Sleep(10 * time.Millisecond)
	}
	r.snapshot(ctx, "renewed", "plain")
	r.request("renew", r.tr.last(r.t, "plain", markRenew, ""))
	if err := m.Unlock(ctx); err != nil {
		r.t.Fatal(err)
	}
	r.snapshot(ctx, "released", "plain")
	r.request("release", r.tr.last(r.t, "plain", markRelease, ""))
}

func (r *captureRun) withData(ctx context.Context) {
	s := r.session(ctx, captureOwner)
	defer s.Close(ctx)
	m := s.NewMutex("data", WithData([]byte("prev-release data")))
	if _, err := m.Lock(ctx); err != nil {
		r.t.Fatal(err)
	}
	r.snapshot(ctx, "held_data", "data")
	r.request("acquire_data", r.tr.last(r.t, "data", markAcquire, ""))
	if err := m.Unlock(ctx); err != nil {
		r.t.Fatal(err)
	}
	r.snapshot(ctx, "released_data", "data")
}

// takeover: a holder dies; a waiter that watched its version for a lease
// replaces it.
func (r *captureRun) takeover(ctx context.Context) {
	dead := r.session(ctx, "prev-release-dead")
	if _, err := dead.NewMutex("takeover").Lock(ctx); err != nil {
		r.t.Fatal(err)
	}
	if err := dead.Close(ctx); err != nil {
		r.t.Fatal(err)
	}
	s := r.session(ctx, captureOwner)
	defer s.Close(ctx)
	m := s.NewMutex("takeover")
	if _, err := m.Lock(ctx); err != nil {
		r.t.Fatal(err)
	}
	r.snapshot(ctx, "taken_over", "takeover")
	r.request("acquire_takeover", r.tr.last(r.t, "takeover", markAcquire, ":old"))
	if err := m.Unlock(ctx); err != nil {
		r.t.Fatal(err)
	}
}

// snapshot stores the item of key as GetItem returns it on the wire, its
// changing values made into placeholders.
func (r *captureRun) snapshot(ctx context.Context, name, key string) {
	if _, err := r.client.GetItem(ctx, &dynamodb.GetItemInput{
		TableName: aws.String(r.table), ConsistentRead: aws.Bool(true),
		Key: map[string]types.AttributeValue{"key": &types.AttributeValueMemberS{Value: key}},
	}); err != nil {
		r.t.Fatal(err)
	}
	r.tr.mu.Lock()
	rep := r.tr.log[len(r.tr.log)-1].rep
	r.tr.mu.Unlock()
	item, _ := rep["Item"].(map[string]any)
	if item == nil {
		r.t.Fatalf("no item for %q", key)
	}
	placeholder(item, "key", "S", "{{key}}")
	placeholder(item, "version", "S", "{{version}}")
	placeholder(item, "token", "N", "{{token}}")
	placeholder(item, "expires_at", "N", "{{expires_at}}")
	r.items[name] = item
}

// request stores one UpdateItem body, its changing values made into
// placeholders.
func (r *captureRun) request(name string, body map[string]any) {
	body["TableName"] = "{{table}}"
	placeholder(body["Key"].(map[string]any), "key", "S", "{{key}}")
	vals := body["ExpressionAttributeValues"].(map[string]any)
	for name, ph := range map[string]string{":v": "{{version}}", ":nv": "{{next}}", ":cur": "{{cur}}", ":old": "{{old}}"} {
		placeholder(vals, name, "S", ph)
	}
	placeholder(vals, ":e", "N", "{{expires_at}}")
	placeholder(vals, ":seed", "N", "{{seed}}")
	if _, ok := vals[":cur1"]; ok {
		r.t.Fatalf("%s: a renewal in doubt was captured; run again", name)
	}
	r.reqs[name] = body
}

func placeholder(m map[string]any, name, typ, ph string) {
	if v, ok := m[name].(map[string]any); ok {
		if _, ok := v[typ]; ok {
			v[typ] = ph
		}
	}
}

func (r *captureRun) write(dir, name string, v any) {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		r.t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, name), append(b, '\n'), 0o644); err != nil {
		r.t.Fatal(err)
	}
}

// captureVerdict is what this release's decoder says of one item.
type captureVerdict struct {
	Name string         `json:"name"`
	Item map[string]any `json:"item"`
	// OK, and the fields decoded, or the attribute the decoder refused.
	OK        bool   `json:"ok"`
	Attribute string `json:"attribute,omitempty"`
	Owner     string `json:"owner,omitempty"`
	Version   string `json:"version,omitempty"`
	Token     uint64 `json:"token,omitempty"`
	LeaseMS   int64  `json:"lease_ms,omitempty"`
	Released  bool   `json:"released,omitempty"`
	Data      string `json:"data,omitempty"`
}

// captureDecoderVerdicts runs this release's decodeRecord over probe items:
// its own records, records carrying the next release's attributes (of the
// right types and of absurd ones), and each required attribute missing,
// mistyped or out of range.
func captureDecoderVerdicts() []captureVerdict {
	base := func() map[string]any {
		return map[string]any{
			"key": map[string]any{"S": "k"}, "owner": map[string]any{"S": "o"}, "version": map[string]any{"S": "v1"},
			"token": map[string]any{"N": "7"}, "lease_ms": map[string]any{"N": "600"},
			"released": map[string]any{"BOOL": false}, "expires_at": map[string]any{"N": "1700000000"},
		}
	}
	with := func(name string, edits map[string]any) (string, map[string]any) {
		it := base()
		for k, v := range edits {
			if v == nil {
				delete(it, k)
			} else {
				it[k] = v
			}
		}
		return name, it
	}
	type probe struct {
		name string
		item map[string]any
	}
	var probes []probe
	add := func(name string, item map[string]any) { probes = append(probes, probe{name, item}) }
	add(with("old record", nil))
	add(with("old record with data", map[string]any{"data": map[string]any{"B": "ZGF0YQ=="}}))
	add(with("released", map[string]any{"released": map[string]any{"BOOL": true}}))
	add(with("new-release stamp", map[string]any{"sent_ms": map[string]any{"N": "1700000000123"},
		"deadline_ms": map[string]any{"N": "1700000000823"}, "stamped_version": map[string]any{"S": "v1"}}))
	add(with("new-release stamp of another version", map[string]any{"sent_ms": map[string]any{"N": "1"},
		"deadline_ms": map[string]any{"N": "2"}, "stamped_version": map[string]any{"S": "v0"}}))
	add(with("unknown attributes of any type", map[string]any{"sent_ms": map[string]any{"S": "x"},
		"deadline_ms": map[string]any{"BOOL": true}, "stamped_version": map[string]any{"N": "3"},
		"future": map[string]any{"L": []any{}}}))
	for _, a := range []string{"version", "owner", "token", "lease_ms", "released"} {
		add(with(a+" missing", map[string]any{a: nil}))
		wrong := map[string]any{"S": "x"}
		if a == "version" || a == "owner" {
			wrong = map[string]any{"N": "1"}
		}
		add(with(a+" of the wrong type", map[string]any{a: wrong}))
	}
	add(with("version empty", map[string]any{"version": map[string]any{"S": ""}}))
	add(with("token negative", map[string]any{"token": map[string]any{"N": "-1"}}))
	add(with("token fractional", map[string]any{"token": map[string]any{"N": "1.5"}}))
	add(with("lease_ms zero", map[string]any{"lease_ms": map[string]any{"N": "0"}}))
	add(with("lease_ms over a week", map[string]any{"lease_ms": map[string]any{"N": "604800001"}}))
	add(with("lease_ms a week", map[string]any{"lease_ms": map[string]any{"N": "604800000"}}))
	add(with("data of the wrong type", map[string]any{"data": map[string]any{"S": "x"}}))
	add(with("expires_at missing", map[string]any{"expires_at": nil}))
	var out []captureVerdict
	for _, p := range probes {
		out = append(out, captureVerdictOf(p.name, p.item))
	}
	return out
}

func captureVerdictOf(name string, wire map[string]any) captureVerdict {
	v := captureVerdict{Name: name, Item: wire}
	item, err := captureDecodeWire(wire)
	if err != nil {
		panic(name + ": " + err.Error())
	}
	rec, err := decodeRecord("k", item)
	var re *RecordError
	switch {
	case err == nil:
		v.OK, v.Owner, v.Version, v.Token = true, rec.owner, rec.version, rec.token
		v.LeaseMS, v.Released, v.Data = rec.lease.Milliseconds(), rec.released, string(rec.data)
	case errors.As(err, &re):
		v.Attribute = re.Attribute
	default:
		panic(name + ": " + err.Error())
	}
	return v
}

// captureDecodeWire turns a wire item into SDK values through the SDK's own
// decoder: a GetItem reply carrying it.
func captureDecodeWire(wire map[string]any) (map[string]types.AttributeValue, error) {
	body, _ := json.Marshal(map[string]any{"Item": wire})
	c := dynamodb.New(dynamodb.Options{
		Region: "us-east-1", BaseEndpoint: aws.String("http://decode.invalid"),
		Credentials: aws.AnonymousCredentials{},
		HTTPClient: captureFixed(func(*http.Request) (*http.Response, error) {
			return &http.Response{StatusCode: 200, Header: http.Header{"Content-Type": {"application/x-amz-json-1.0"}},
				Body: io.NopCloser(bytes.NewReader(body))}, nil
		}),
	})
	out, err := c.GetItem(context.Background(), &dynamodb.GetItemInput{TableName: aws.String("t"),
		Key: map[string]types.AttributeValue{"key": &types.AttributeValueMemberS{Value: "k"}}})
	if err != nil {
		return nil, err
	}
	return out.Item, nil
}

type captureFixed func(*http.Request) (*http.Response, error)

func (f captureFixed) Do(r *http.Request) (*http.Response, error) { return f(r) }
