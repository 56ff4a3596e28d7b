package chaos

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"hash/crc32"
	"io"
	"maps"
	"net/http"
	"strconv"
	"strings"
)

// batchRead is a BatchGetItem that names the lock table, kept as sent so
// that FaultUnprocessed can send DynamoDB part of it and give back the
// rest with the request's own projection and consistency.
type batchRead struct {
	request map[string]json.RawMessage // the whole request
	items   map[string]json.RawMessage // its RequestItems, by table
	table   string                     // the lock table
	read    map[string]json.RawMessage // the lock table's KeysAndAttributes: Keys, ProjectionExpression, ...
	keys    []json.RawMessage          // the lock table's keys, in the order asked
	first   string                     // the lock name in the first key: the one the log names
}

// lockBatch tells a BatchGetItem whose RequestItems name the lock table.
// Another table's keys in the same request ride along untouched.
func (t *Transport) lockBatch(target string, body []byte) (*batchRead, bool) {
	if !strings.HasSuffix(target, ".BatchGetItem") {
		return nil, false
	}
	b := &batchRead{table: t.Table}
	if json.Unmarshal(body, &b.request) != nil || json.Unmarshal(b.request["RequestItems"], &b.items) != nil ||
		b.items[t.Table] == nil || json.Unmarshal(b.items[t.Table], &b.read) != nil ||
		json.Unmarshal(b.read["Keys"], &b.keys) != nil || len(b.keys) == 0 {
		return nil, false
	}
	var key map[string]map[string]any
	_ = json.Unmarshal(b.keys[0], &key)
	b.first = keyOf(key)
	return b, true
}

// unprocessed sends DynamoDB a random non-empty strict subset of the lock
// table's keys in b, and answers with its reply plus the rest of the keys
// in UnprocessedKeys. The rewritten request keeps the SDK's signature,
// which no longer covers its body: DynamoDB Local, the chaos runs' only
// endpoint, does not check it.
func (t *Transport) unprocessed(r *http.Request, b *batchRead) (*http.Response, error) {
	sent, held := t.split(b.keys)
	body, err := b.with(sent)
	if err != nil {
		return nil, err
	}
	part := r.Clone(r.Context())
	part.Body, part.ContentLength = io.NopCloser(bytes.NewReader(body)), int64(len(body))
	part.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
	resp, err := t.Base.RoundTrip(part)
	if err != nil || resp.StatusCode != http.StatusOK {
		return resp, err
	}
	resp.Request = r
	return b.withHeld(resp, held)
}

// split draws a random non-empty strict subset of keys (at least two) to
// send, and returns it and the rest, each in the order asked.
func (t *Transport) split(keys []json.RawMessage) (sent, held []json.RawMessage) {
	t.mu.Lock()
	n := 1 + t.rng.IntN(len(keys)-1)
	order := t.rng.Perm(len(keys))
	t.mu.Unlock()
	send := make([]bool, len(keys))
	for _, i := range order[:n] {
		send[i] = true
	}
	for i, k := range keys {
		if send[i] {
			sent = append(sent, k)
		} else {
			held = append(held, k)
		}
	}
	return sent, held
}

// with is the request with the lock table's keys replaced by keys.
func (b *batchRead) with(keys []json.RawMessage) ([]byte, error) {
	read, err := b.readOf(keys)
	if err != nil {
		return nil, err
	}
	items := maps.Clone(b.items)
	items[b.table] = read
	request := maps.Clone(b.request)
	if request["RequestItems"], err = json.Marshal(items); err != nil {
		return nil, err
	}
	return json.Marshal(request)
}

// readOf is the lock table's KeysAndAttributes with keys for its Keys.
func (b *batchRead) readOf(keys []json.RawMessage) (json.RawMessage, error) {
	read := maps.Clone(b.read)
	var err error
	if read["Keys"], err = json.Marshal(keys); err != nil {
		return nil, err
	}
	return json.Marshal(read)
}

// errBatchReply: DynamoDB answered a BatchGetItem with a body the
// transport cannot add the held keys to.
var errBatchReply = errors.New("chaos: undecodable BatchGetItem reply")

// withHeld adds held to the lock table's UnprocessedKeys in resp, after
// any DynamoDB left there itself, and re-encodes the reply as DynamoDB
// sent it: gzipped if it was, with its length and the CRC32 of its bytes,
// which the SDK checks.
func (b *batchRead) withHeld(resp *http.Response, held []json.RawMessage) (*http.Response, error) {
	raw, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return nil, err
	}
	encoding := resp.Header.Get("Content-Encoding")
	body, err := b.addHeld(decoded(encoding, raw), held)
	if err != nil {
		return nil, err
	}
	if encoding == "gzip" {
		body = gzipped(body)
	}
	resp.Body, resp.ContentLength = io.NopCloser(bytes.NewReader(body)), int64(len(body))
	resp.Header.Set("Content-Length", strconv.Itoa(len(body)))
	resp.Header.Set("X-Amz-Crc32", strconv.FormatUint(uint64(crc32.ChecksumIEEE(body)), 10))
	return resp, nil
}

// addHeld is the JSON of a BatchGetItem reply with held added to the lock
// table's UnprocessedKeys.
func (b *batchRead) addHeld(body []byte, held []json.RawMessage) ([]byte, error) {
	var reply, unprocessed map[string]json.RawMessage
	var own struct{ Keys []json.RawMessage }
	if json.Unmarshal(body, &reply) != nil ||
		reply["UnprocessedKeys"] != nil && json.Unmarshal(reply["UnprocessedKeys"], &unprocessed) != nil ||
		unprocessed[b.table] != nil && json.Unmarshal(unprocessed[b.table], &own) != nil {
		return nil, errBatchReply
	}
	if unprocessed == nil {
		unprocessed = map[string]json.RawMessage{}
	}
	var err error
	if unprocessed[b.table], err = b.readOf(append(own.Keys, held...)); err != nil {
		return nil, err
	}
	if reply["UnprocessedKeys"], err = json.Marshal(unprocessed); err != nil {
		return nil, err
	}
	return json.Marshal(reply)
}

func gzipped(b []byte) []byte {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	_, _ = zw.Write(b) // a bytes.Buffer takes every write
	_ = zw.Close()
	return buf.Bytes()
}
