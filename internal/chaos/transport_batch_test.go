package chaos

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"hash/crc32"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/dynamutex/dynamutex/internal/localdb"
)

const (
	batchTable = "locks"
	otherTable = "other"
)

// fakeDynamo is a base RoundTripper that answers as DynamoDB would, for
// what these tests ask: a BatchGetItem with an item for every key asked
// (its key and an owner), anything else with an empty object. It gzips
// its replies when the request accepts gzip, signs them with the CRC32 of
// the bytes sent, and records every request it gets.
type fakeDynamo struct {
	mu   sync.Mutex
	reqs []fakeRequest
}

type fakeRequest struct {
	target string
	body   []byte
}

func (f *fakeDynamo) RoundTrip(r *http.Request) (*http.Response, error) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return nil, err
	}
	if int64(len(body)) != r.ContentLength {
		return nil, fmt.Errorf("fake: body of %d bytes, content length %d", len(body), r.ContentLength)
	}
	target := r.Header.Get("X-Amz-Target")
	f.mu.Lock()
	f.reqs = append(f.reqs, fakeRequest{target, body})
	f.mu.Unlock()
	reply := []byte("{}")
	if strings.HasSuffix(target, ".BatchGetItem") {
		if reply, err = batchReply(body); err != nil {
			return nil, err
		}
	}
	h := http.Header{"Content-Type": []string{"application/x-amz-json-1.0"}}
	if r.Header.Get("Accept-Encoding") == "gzip" {
		reply = gzipped(reply)
		h.Set("Content-Encoding", "gzip")
	}
	h.Set("X-Amz-Crc32", strconv.FormatUint(uint64(crc32.ChecksumIEEE(reply)), 10))
	return &http.Response{StatusCode: 200, Status: "200 OK", Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header: h, Body: io.NopCloser(bytes.NewReader(reply)), ContentLength: int64(len(reply)), Request: r}, nil
}

func batchReply(body []byte) ([]byte, error) {
	var in struct {
		RequestItems map[string]struct{ Keys []map[string]map[string]any }
	}
	if err := json.Unmarshal(body, &in); err != nil {
		return nil, err
	}
	responses := map[string][]map[string]map[string]any{}
	for table, ka := range in.RequestItems {
		for _, k := range ka.Keys {
			k["owner"] = map[string]any{"S": "someone"}
			responses[table] = append(responses[table], k)
		}
	}
	return json.Marshal(map[string]any{"Responses": responses, "UnprocessedKeys": map[string]any{}})
}

// sent returns the requests the fake got since the last call.
func (f *fakeDynamo) sent() []fakeRequest {
	f.mu.Lock()
	defer f.mu.Unlock()
	reqs := f.reqs
	f.reqs = nil
	return reqs
}

// crcCheck sits between the SDK and the Transport and counts the replies
// whose X-Amz-Crc32 does not match their bytes, and the gzipped ones.
type crcCheck struct {
	rt            http.RoundTripper
	mu            sync.Mutex
	bad, gz, seen int
}

func (c *crcCheck) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := c.rt.RoundTrip(r)
	if err != nil {
		return nil, err
	}
	raw, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return nil, err
	}
	resp.Body = io.NopCloser(bytes.NewReader(raw))
	c.mu.Lock()
	defer c.mu.Unlock()
	c.seen++
	if resp.Header.Get("X-Amz-Crc32") != strconv.FormatUint(uint64(crc32.ChecksumIEEE(raw)), 10) ||
		resp.ContentLength != int64(len(raw)) {
		c.bad++
	}
	if resp.Header.Get("Content-Encoding") == "gzip" {
		c.gz++
	}
	return resp, nil
}

// batchRig is a Transport over a fakeDynamo, logging to buf, with an SDK
// client through it.
type batchRig struct {
	fake *fakeDynamo
	tr   *Transport
	crc  *crcCheck
	c    *dynamodb.Client
	buf  *bytes.Buffer
}

func newBatchRig(f Faults, gzip bool) *batchRig {
	r := &batchRig{fake: &fakeDynamo{}, buf: &bytes.Buffer{}}
	r.tr = NewTransport(r.fake, batchTable, f, NewLog(r.buf, 1))
	r.crc = &crcCheck{rt: r.tr}
	r.c = localdb.Client("http://dynamodb.invalid", r.crc, localdb.NoRetries, func(o *dynamodb.Options) {
		o.EnableAcceptEncodingGzip = gzip
	})
	return r
}

func (r *batchRig) events(t *testing.T) []Event {
	t.Helper()
	evs, err := ReadEvents(bytes.NewReader(r.buf.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	r.buf.Reset()
	return evs
}

func lockKeys(prefix string, n int) []map[string]types.AttributeValue {
	keys := make([]map[string]types.AttributeValue, n)
	for i := range keys {
		keys[i] = map[string]types.AttributeValue{"key": &types.AttributeValueMemberS{Value: prefix + strconv.Itoa(i)}}
	}
	return keys
}

// permitRead is a batch read as the library makes it: strongly
// consistent, projected, with attribute names.
func permitRead(keys []map[string]types.AttributeValue) types.KeysAndAttributes {
	return types.KeysAndAttributes{Keys: keys, ConsistentRead: aws.Bool(true),
		ProjectionExpression:     aws.String("#pk, #o"),
		ExpressionAttributeNames: map[string]string{"#pk": "key", "#o": "owner"}}
}

func (r *batchRig) batchGet(items map[string]types.KeysAndAttributes) (*dynamodb.BatchGetItemOutput, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	return r.c.BatchGetItem(ctx, &dynamodb.BatchGetItemInput{RequestItems: items})
}

func names(items []map[string]types.AttributeValue) []string {
	var ns []string
	for _, it := range items {
		ns = append(ns, it["key"].(*types.AttributeValueMemberS).Value)
	}
	slices.Sort(ns)
	return ns
}

// sentKeys reads the lock names a BatchGetItem sent to the fake asked of
// table.
func sentKeys(t *testing.T, req fakeRequest, table string) []string {
	t.Helper()
	var in struct {
		RequestItems map[string]struct{ Keys []map[string]map[string]any }
	}
	if err := json.Unmarshal(req.body, &in); err != nil {
		t.Fatal(err)
	}
	var ns []string
	for _, k := range in.RequestItems[table].Keys {
		ns = append(ns, keyOf(k))
	}
	slices.Sort(ns)
	return ns
}

// TestBatchReadFaults: a batch read of the lock table meets every fault a
// read does, logged as a batch read of its first key; it reaches DynamoDB
// only when the fault lets it (a lost reply, a latency).
func TestBatchReadFaults(t *testing.T) {
	for _, fault := range AllFaults {
		if fault == FaultUnprocessed {
			continue
		}
		t.Run(fault, func(t *testing.T) {
			r := newBatchRig(Faults{Rate: 1, Kinds: []string{fault}, Spike: 5 * time.Millisecond}, false)
			_, err := r.batchGet(map[string]types.KeysAndAttributes{batchTable: permitRead(lockKeys("p", 3))})
			if (err == nil) != (fault == FaultLatency) {
				t.Errorf("batch read: %v", err)
			}
			reached := fault == FaultLatency || fault == FaultLostReply
			if got := len(r.fake.sent()); got != map[bool]int{true: 1, false: 0}[reached] {
				t.Errorf("DynamoDB got %d requests; reached = %v", got, reached)
			}
			evs := r.events(t)
			if len(evs) != 1 || evs[0].Kind != KindFault || evs[0].Op != OpBatchRead || evs[0].Key != "p0" ||
				evs[0].Fault != fault {
				t.Errorf("events %+v, want one batch-read fault of p0", evs)
			}
		})
	}
}

// TestBatchReadUnprocessed: the unprocessed fault sends DynamoDB a
// non-empty strict subset of the lock table's keys, and another table's
// keys all, and the reply, plain or gzipped, decodes to the items of the
// keys sent and UnprocessedKeys that name exactly the rest, with the
// request's own projection, names and consistency.
func TestBatchReadUnprocessed(t *testing.T) {
	for _, gz := range []bool{false, true} {
		t.Run(fmt.Sprint("gzip=", gz), func(t *testing.T) {
			r := newBatchRig(Faults{Rate: 1, Kinds: []string{FaultUnprocessed}, Seed: 7}, gz)
			sizes := map[int]bool{}
			for i := range 20 {
				n := 2 + i%5
				sizes[checkUnprocessed(t, r, n)] = true
			}
			if len(sizes) < 3 {
				t.Errorf("subsets sent of %v sizes only: the draw looks fixed", sizes)
			}
			if r.crc.seen != 20 || r.crc.bad != 0 || gz != (r.crc.gz == 20) {
				t.Errorf("replies %d, CRC or length wrong in %d, gzipped %d", r.crc.seen, r.crc.bad, r.crc.gz)
			}
		})
	}
}

// checkUnprocessed makes one batch read of n lock-table keys and two of
// another table under the unprocessed fault, and returns how many lock
// keys DynamoDB was sent.
func checkUnprocessed(t *testing.T, r *batchRig, n int) int {
	t.Helper()
	read := permitRead(lockKeys("p", n))
	out, err := r.batchGet(map[string]types.KeysAndAttributes{batchTable: read,
		otherTable: {Keys: lockKeys("o", 2)}})
	if err != nil {
		t.Fatal(err)
	}
	reqs := r.fake.sent()
	if len(reqs) != 1 {
		t.Fatalf("DynamoDB got %d requests, want 1", len(reqs))
	}
	sent, asked := sentKeys(t, reqs[0], batchTable), names(read.Keys)
	if len(sent) == 0 || len(sent) >= n {
		t.Fatalf("sent %v of %v: want a non-empty strict subset", sent, asked)
	}
	if got := sentKeys(t, reqs[0], otherTable); !slices.Equal(got, []string{"o0", "o1"}) {
		t.Errorf("sent %v of the other table, want o0 o1", got)
	}
	if got := names(out.Responses[batchTable]); !slices.Equal(got, sent) {
		t.Errorf("items %v, want those sent, %v", got, sent)
	}
	left := out.UnprocessedKeys[batchTable]
	rest := slices.DeleteFunc(slices.Clone(asked), func(k string) bool { return slices.Contains(sent, k) })
	if got := names(left.Keys); !slices.Equal(got, rest) {
		t.Errorf("unprocessed %v, want the rest, %v", got, rest)
	}
	if aws.ToString(left.ProjectionExpression) != "#pk, #o" || !aws.ToBool(left.ConsistentRead) ||
		len(left.ExpressionAttributeNames) != 2 || left.ExpressionAttributeNames["#o"] != "owner" {
		t.Errorf("unprocessed keys read as %+v, not as asked", left)
	}
	if len(out.UnprocessedKeys) != 1 {
		t.Errorf("unprocessed keys of %d tables, want the lock table's only", len(out.UnprocessedKeys))
	}
	evs := r.events(t)
	if len(evs) != 1 || evs[0].Op != OpBatchRead || evs[0].Fault != FaultUnprocessed {
		t.Errorf("events %+v, want one unprocessed batch-read fault", evs)
	}
	return len(sent)
}

// TestUnprocessedOnlyBatches: with the unprocessed fault alone at rate 1,
// a batch read of one key, a read and a write of the lock table get no
// fault at all: it is no fault for them, and no other kind is drawn.
func TestUnprocessedOnlyBatches(t *testing.T) {
	r := newBatchRig(Faults{Rate: 1, Kinds: []string{FaultUnprocessed}}, false)
	ctx := context.Background()
	out, err := r.batchGet(map[string]types.KeysAndAttributes{batchTable: permitRead(lockKeys("p", 1))})
	if err != nil || len(out.Responses[batchTable]) != 1 || len(out.UnprocessedKeys) != 0 {
		t.Fatalf("one-key batch: %+v, %v", out, err)
	}
	key := lockKeys("p", 1)[0]
	if _, err := r.c.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(batchTable), Key: key}); err != nil {
		t.Fatal(err)
	}
	if _, err := r.c.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: aws.String(batchTable), Key: key,
		UpdateExpression:          aws.String("SET #o = :o"),
		ExpressionAttributeNames:  map[string]string{"#o": "owner"},
		ExpressionAttributeValues: map[string]types.AttributeValue{":o": &types.AttributeValueMemberS{Value: "me"}},
	}); err != nil {
		t.Fatal(err)
	}
	if got := len(r.fake.sent()); got != 3 {
		t.Errorf("DynamoDB got %d requests, want 3", got)
	}
	for _, e := range r.events(t) {
		if e.Kind == KindFault {
			t.Errorf("fault %+v", e)
		}
	}
}

// TestPickLeavesUnprocessedToBatches: from all kinds at rate 1, a write
// or single read always draws a fault and never unprocessed; a batch of
// more than one key draws unprocessed among the rest.
func TestPickLeavesUnprocessedToBatches(t *testing.T) {
	tr := NewTransport(&fakeDynamo{}, batchTable, Faults{Rate: 1, Seed: 3}, NewLog(io.Discard, 1))
	batch := 0
	for range 500 {
		if f := tr.pick(false); f == "" || f == FaultUnprocessed {
			t.Fatalf("a single request drew %q", f)
		}
		if tr.pick(true) == FaultUnprocessed {
			batch++
		}
	}
	if batch == 0 {
		t.Error("no batch drew unprocessed in 500")
	}
}

// TestBatchReadOtherTable: a batch read that does not name the lock table
// passes untouched, whatever the faults.
func TestBatchReadOtherTable(t *testing.T) {
	r := newBatchRig(Faults{Rate: 1, Spike: 5 * time.Millisecond}, false)
	for range 20 {
		out, err := r.batchGet(map[string]types.KeysAndAttributes{otherTable: permitRead(lockKeys("o", 3))})
		if err != nil || len(out.Responses[otherTable]) != 3 || len(out.UnprocessedKeys) != 0 {
			t.Fatalf("batch read of another table: %+v, %v", out, err)
		}
	}
	if got := len(r.fake.sent()); got != 20 {
		t.Errorf("DynamoDB got %d requests, want 20", got)
	}
	if evs := r.events(t); len(evs) != 0 {
		t.Errorf("events %+v, want none", evs)
	}
}
