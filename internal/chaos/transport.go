package chaos

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/dynamutex/dynamutex/internal/wire"
)

// Faults the Transport injects. Each names what the library sees and whether
// DynamoDB applied the request.
const (
	FaultThrottling  = "throttling"             // HTTP 400 ThrottlingException; not applied
	FaultProvisioned = "provisioned-throughput" // HTTP 400 ProvisionedThroughputExceededException; not applied
	Fault500         = "http-500"               // HTTP 500 InternalServerError; not applied
	Fault503         = "http-503"               // HTTP 503 ServiceUnavailable; not applied
	FaultTimeout     = "timeout"                // no answer until the request's context ends; not applied
	FaultReset       = "reset"                  // connection reset before sending; not applied
	FaultLostReply   = "lost-reply"             // sent and answered, then the connection resets: applied, reply lost
	FaultLatency     = "latency"                // sent after a delay of up to Faults.Spike

	// FaultUnprocessed is for a batch read of more than one key only:
	// DynamoDB is sent a random non-empty strict subset of the keys, and
	// the reply names the rest in UnprocessedKeys, as DynamoDB's own does
	// when a batch meets its limits. The library must read those again.
	FaultUnprocessed = "unprocessed"
)

// AllFaults lists every fault kind.
var AllFaults = []string{FaultThrottling, FaultProvisioned, Fault500, Fault503, FaultTimeout, FaultReset, FaultLostReply,
	FaultLatency, FaultUnprocessed}

// Faults configures a Transport.
type Faults struct {
	// Rate is the probability that a lock-table request gets a fault, if
	// any of Kinds applies to it.
	Rate float64
	// Kinds are the kinds to choose from, uniformly among those that apply
	// to the request: FaultUnprocessed applies to a batch read of more than
	// one key only, so writes and single reads draw from the others, and a
	// request to which none applies gets no fault. Nil means AllFaults.
	Kinds []string
	Spike time.Duration // the longest FaultLatency delay
	Seed  uint64        // seeds the random source that draws the faults
}

// Transport is an http.RoundTripper for the library's DynamoDB client. It
// injects faults into the library's writes to one table, its reads of it
// (GetItem) and its batch reads that name it (BatchGetItem), and logs every
// such write that DynamoDB applied, with the versions and token it carried,
// so the checker can follow each lease's chain of writes.
type Transport struct {
	Base   http.RoundTripper
	Table  string
	Faults Faults
	Log    *Log

	mu   sync.Mutex
	rng  *rand.Rand
	reqs atomic.Uint64
}

// NewTransport returns a Transport over base, with a random source seeded
// from f.Seed.
func NewTransport(base http.RoundTripper, table string, f Faults, log *Log) *Transport {
	if f.Kinds == nil {
		f.Kinds = AllFaults
	}
	return &Transport{Base: base, Table: table, Faults: f, Log: log, rng: rand.New(rand.NewPCG(f.Seed, f.Seed^0x5eed))}
}

// write is what the transport reads from one UpdateItem request.
type write struct {
	op, key, from, version string
	observed               string   // an acquire's takeover version; a revocation's watched Session version
	session                string   // an acquire's: the Session record that keeps the lock (WithSessionLease)
	dead                   []string // an acquire's: the Session records it read as revoked or gone
	stamp, deadline        int64    // the writer's clock, Unix ms
	before                 int64    // an acquire's takeover-by-clock threshold
	seed                   uint64   // an acquire's token seed: a missing record gets seed+1
}

// parseWrite reads one of the library's writes to the lock table: which
// write it is, as package wire classifies it, and the values the checker
// follows, by the placeholders wire gives them.
func parseWrite(target string, body []byte) (write, bool, string) {
	if !strings.HasSuffix(target, ".UpdateItem") {
		return write{}, false, ""
	}
	var in struct {
		TableName        string
		Key              map[string]map[string]any
		UpdateExpression string
		Values           map[string]map[string]any `json:"ExpressionAttributeValues"`
	}
	if json.Unmarshal(body, &in) != nil {
		return write{}, false, ""
	}
	s := func(m map[string]any) string { v, _ := m["S"].(string); return v }
	n := func(m map[string]any) int64 { v, _ := m["N"].(string); i, _ := strconv.ParseInt(v, 10, 64); return i }
	w := write{op: string(wire.ClassifyUpdate(in.UpdateExpression)), key: keyOf(in.Key), from: s(in.Values[wire.ValCurrent]),
		observed: s(in.Values[wire.ValTakeover]), stamp: n(in.Values[wire.ValSent]),
		deadline: n(in.Values[wire.ValDeadline]), before: n(in.Values[wire.ValBefore]),
		seed: uint64(n(in.Values[wire.ValSeed])), session: s(in.Values[valSession])}
	for i := 0; i < wire.MaxDead; i++ {
		if d := s(in.Values[valDeadSession+strconv.Itoa(i)]); d != "" {
			w.dead = append(w.dead, d)
		}
	}
	// The version placeholders are the same whether the version goes to
	// the version attribute or, for a lock held under a session lease, to
	// its lock version: an acquire writes :v, a release or a Proclaim
	// :nv, and a Session record's creation, renewals and revocation :nv.
	switch w.op {
	case OpAcquire:
		w.version = s(in.Values[wire.ValVersion])
	case OpRenew, OpRelease, OpSession:
		w.version = s(in.Values[wire.ValNext])
	}
	return w, true, in.TableName
}

// The placeholders of an acquire under a session lease (wire.Acquire with
// Session and Dead): the writer's Session record, and, numbered from 0,
// the Session records whose locks the dead-Session clause may take.
const (
	valSession     = ":ss"
	valDeadSession = ":ds"
)

// SetFaults changes the faults injected from now on.
func (t *Transport) SetFaults(f Faults) {
	if f.Kinds == nil {
		f.Kinds = AllFaults
	}
	t.mu.Lock()
	t.Faults = f
	t.mu.Unlock()
}

// pick draws the fault of one request, or none. many says the request is
// a batch read of more than one key, the only kind FaultUnprocessed
// applies to: leaving it out of the other requests' draw, rather than
// drawing it and injecting nothing, keeps their fault rate at Faults.Rate.
func (t *Transport) pick(many bool) string {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.rng.Float64() >= t.Faults.Rate {
		return ""
	}
	kinds := t.Faults.Kinds
	if !many && slices.Contains(kinds, FaultUnprocessed) {
		kinds = slices.DeleteFunc(slices.Clone(kinds), func(k string) bool { return k == FaultUnprocessed })
	}
	if len(kinds) == 0 {
		return ""
	}
	return kinds[t.rng.IntN(len(kinds))]
}

func (t *Transport) spike() time.Duration {
	t.mu.Lock()
	defer t.mu.Unlock()
	return time.Duration(t.rng.Int64N(int64(t.Faults.Spike) + 1))
}

// RoundTrip implements http.RoundTripper.
func (t *Transport) RoundTrip(r *http.Request) (*http.Response, error) {
	var body []byte
	if r.Body != nil {
		var err error
		if body, err = io.ReadAll(r.Body); err != nil {
			return nil, err
		}
		r.Body.Close()
		r.Body = io.NopCloser(bytes.NewReader(body))
	}
	target := r.Header.Get("X-Amz-Target")
	if b, ok := t.lockBatch(target, body); ok {
		return t.read(r, OpBatchRead, b.first, b)
	}
	if key, ok := t.lockRead(target, body); ok {
		return t.read(r, OpRead, key, nil)
	}
	w, ok, table := parseWrite(target, body)
	if !ok || table != t.Table {
		return t.Base.RoundTrip(r)
	}
	fault := t.pick(false)
	if fault != "" {
		t.Log.Add(Event{Kind: KindFault, Op: w.op, Key: w.key, Fault: fault})
	}
	if resp, done, err := t.inject(r, fault); done {
		return resp, err
	}
	if w.op == OpClaim || w.op == OpUnclaim {
		return t.claimWrite(r, w, fault)
	}
	n := t.reqs.Add(1)
	t.Log.Add(Event{Kind: KindSent, Req: n, Op: w.op, Key: w.key, From: w.from, Version: w.version,
		Observed: w.observed, Stamp: w.stamp, Deadline: w.deadline, Before: w.before, Session: w.session, Dead: w.dead})
	resp, err := t.Base.RoundTrip(r)
	if err != nil {
		return nil, err // no answer: the checker treats the write as in doubt
	}
	raw, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return nil, err
	}
	body = decoded(resp.Header.Get("Content-Encoding"), raw)
	e := Event{Req: n, Op: w.op, Key: w.key, Dropped: fault == FaultLostReply}
	switch {
	case resp.StatusCode == http.StatusOK:
		e.Kind, e.Token = KindLanded, landedToken(w, body)
	case ownVersionIn(body, w.version):
		e.Kind, e.Token = KindFound, tokenIn(body, "Item")
	default:
		e.Kind = KindRefused
	}
	t.Log.Add(e)
	if e.Dropped {
		return nil, resetError()
	}
	resp.Body = io.NopCloser(bytes.NewReader(raw))
	return resp, nil
}

// claimWrite sends a claim or unclaim write. The checker does not follow
// it (a claim changes who goes next, not who holds the lock), so it is only
// counted, and a lost reply is a reset after DynamoDB applied it.
func (t *Transport) claimWrite(r *http.Request, w write, fault string) (*http.Response, error) {
	resp, err := t.Base.RoundTrip(r)
	if err != nil {
		return nil, err
	}
	t.Log.Add(Event{Kind: KindClaimWrite, Op: w.op, Key: w.key, OK: resp.StatusCode == http.StatusOK,
		Dropped: fault == FaultLostReply})
	if fault == FaultLostReply {
		resp.Body.Close()
		return nil, resetError()
	}
	return resp, nil
}

// inject applies fault to r before it is sent. done reports that the fault
// answered the request itself; otherwise the caller sends it.
func (t *Transport) inject(r *http.Request, fault string) (*http.Response, bool, error) {
	switch fault {
	case FaultThrottling:
		return errorResponse(r, 400, "ThrottlingException"), true, nil
	case FaultProvisioned:
		return errorResponse(r, 400, "ProvisionedThroughputExceededException"), true, nil
	case Fault500:
		return errorResponse(r, 500, "InternalServerError"), true, nil
	case Fault503:
		return errorResponse(r, 503, "ServiceUnavailable"), true, nil
	case FaultTimeout:
		<-r.Context().Done()
		return nil, true, r.Context().Err()
	case FaultReset:
		return nil, true, resetError()
	case FaultLatency:
		tm := time.NewTimer(t.spike())
		select {
		case <-tm.C:
		case <-r.Context().Done():
			tm.Stop()
			return nil, true, r.Context().Err()
		}
	}
	return nil, false, nil
}

// lockRead tells a waiter's GetItem of the lock table, and its key.
func (t *Transport) lockRead(target string, body []byte) (string, bool) {
	if !strings.HasSuffix(target, ".GetItem") {
		return "", false
	}
	var in struct {
		TableName string
		Key       map[string]map[string]any
	}
	if json.Unmarshal(body, &in) != nil || in.TableName != t.Table {
		return "", false
	}
	return keyOf(in.Key), true
}

// keyOf is the lock's name in a request's key: the partition key of the
// native and the Java table ("key"), or of the Python one ("lock_key").
func keyOf(key map[string]map[string]any) string {
	for _, name := range []string{"key", "lock_key"} {
		if v, ok := key[name]["S"].(string); ok {
			return v
		}
	}
	return ""
}

// read sends a waiter's read (op OpRead) or a batch read (OpBatchRead,
// with b) of the lock table through the same faults as the writes, and a
// batch of more than one key through FaultUnprocessed too. A lost reply is
// a reset after DynamoDB answered: for a read, just an error.
func (t *Transport) read(r *http.Request, op, key string, b *batchRead) (*http.Response, error) {
	fault := t.pick(b != nil && len(b.keys) > 1)
	if fault != "" {
		t.Log.Add(Event{Kind: KindFault, Op: op, Key: key, Fault: fault})
	}
	if resp, done, err := t.inject(r, fault); done {
		return resp, err
	}
	if fault == FaultUnprocessed {
		return t.unprocessed(r, b)
	}
	resp, err := t.Base.RoundTrip(r)
	if err == nil && fault == FaultLostReply {
		resp.Body.Close()
		return nil, resetError()
	}
	return resp, err
}

// decoded returns the JSON of a reply body, gunzipped if need be.
func decoded(encoding string, raw []byte) []byte {
	if encoding != "gzip" {
		return raw
	}
	zr, err := gzip.NewReader(bytes.NewReader(raw))
	if err != nil {
		return nil
	}
	b, err := io.ReadAll(zr)
	if err != nil {
		return nil
	}
	return b
}

// attrs reads the item under field ("Attributes" of an UPDATED_OLD reply,
// "Item" of a condition failure's ALL_OLD).
func attrs(body []byte, field string) map[string]map[string]any {
	var reply map[string]json.RawMessage
	if json.Unmarshal(body, &reply) != nil || reply[field] == nil {
		return nil
	}
	var item map[string]map[string]any
	_ = json.Unmarshal(reply[field], &item)
	return item
}

// landedToken is the token a write that landed made: an acquire's reply
// holds the token it replaced (UPDATED_OLD), or none for a missing record,
// and the write added one to it or to the seed. Other writes make none.
func landedToken(w write, body []byte) uint64 {
	if w.op != OpAcquire {
		return tokenIn(body, "Attributes")
	}
	if old := tokenIn(body, "Attributes"); old != 0 {
		return old + 1
	}
	return w.seed + 1
}

func tokenIn(body []byte, field string) uint64 {
	s, _ := attrs(body, field)["token"]["N"].(string)
	n, _ := strconv.ParseUint(s, 10, 64)
	return n
}

// ownVersionIn reports whether the record in a condition failure carries
// version, in the attribute of any layout: the library keeps it in the
// version attribute of the format it writes (wire.Layout), or, for a lock
// held under a session lease, in its lock version.
func ownVersionIn(body []byte, version string) bool {
	if version == "" {
		return false
	}
	item := attrs(body, "Item")
	if v, _ := item[wire.AttrLockVersion]["S"].(string); v == version {
		return true
	}
	for _, l := range wire.Layouts() {
		if v, _ := item[l.Version]["S"].(string); v == version {
			return true
		}
	}
	return false
}

// resetError is what net/http returns when the peer resets the connection,
// so the SDK and the library see the real thing.
func resetError() error {
	return &net.OpError{Op: "read", Net: "tcp", Err: os.NewSyscallError("read", syscall.ECONNRESET)}
}

func errorResponse(req *http.Request, status int, code string) *http.Response {
	msg := fmt.Sprintf(`{"__type":"com.amazonaws.dynamodb.v20120810#%s","message":"injected by the chaos transport"}`, code)
	return &http.Response{
		StatusCode: status, Status: fmt.Sprintf("%d %s", status, http.StatusText(status)),
		Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header: http.Header{
			"Content-Type":     []string{"application/x-amz-json-1.0"},
			"X-Amzn-Requestid": []string{"chaos"},
		},
		Body: io.NopCloser(strings.NewReader(msg)), ContentLength: int64(len(msg)), Request: req,
	}
}
