package dynamutex_test

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"go.uber.org/goleak"

	"github.com/dynamutex/dynamutex"
	"github.com/dynamutex/dynamutex/internal/localdb"
)

func TestMain(m *testing.M) {
	flag.Parse()
	quietBenchmarks()
	warmEmulator()
	code := m.Run()
	closeTransports()
	if code == 0 {
		if err := goleak.Find(); err != nil {
			fmt.Fprintln(os.Stderr, "goleak: goroutines left running after the tests:", err)
			code = 1
		}
	}
	os.Exit(code)
}

// warmEmulator sends a few hundred writes to DynamoDB Local before the tests
// start. A freshly started JVM answers its first requests ten times slower
// than a warm one, which would eat the 400 ms safe time of the first tests
// to run. Without an endpoint it does nothing: the tests then fail and say
// how to get one.
func warmEmulator() {
	ep := os.Getenv("DYNAMODB_ENDPOINT")
	if ep == "" {
		return
	}
	tr := newTransport()
	c := localClient(ep, tr)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	table := fmt.Sprintf("warm_up_%d", time.Now().UnixNano())
	if err := dynamutex.CreateTable(ctx, c, table); err != nil {
		return // the tests will report the endpoint's trouble themselves
	}
	// A lease long enough that a cold emulator's slow first replies do not
	// put the warm-up's own locks in danger.
	s, err := dynamutex.NewSession(ctx, c, table, dynamutex.WithLeaseDuration(10*time.Second))
	if err != nil {
		return
	}
	defer s.Close(ctx)
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			m := s.NewMutex(fmt.Sprintf("warm-%d", g))
			for range 75 {
				if _, err := m.Lock(ctx); err != nil {
					return
				}
				_ = m.Unlock(ctx)
			}
		}()
	}
	wg.Wait()
}

// endpoint returns the DynamoDB endpoint under test. Tests never skip without
// one: they fail and say how to get one.
func endpoint(tb testing.TB) string {
	tb.Helper()
	ep := os.Getenv("DYNAMODB_ENDPOINT")
	if ep == "" {
		tb.Fatal("DYNAMODB_ENDPOINT is not set. Run `make test`, which installs and starts DynamoDB Local, " +
			"or start it with scripts/with-dynamodb-local.sh and export its address.")
	}
	return ep
}

// kind of a request, told apart by its body, so tests can count the writes
// of each operation.
const (
	opAcquire = "acquire"
	opRenew   = "renew"
	opRelease = "release"
	opClaim   = "claim"   // a waiter claims the next turn, or re-asserts its claim
	opUnclaim = "unclaim" // a Lock call that gave up removes its claim
	opOther   = "other"
)

// fault decides what happens to one request. The zero value sends it.
type fault struct {
	block   bool // hold the request until its context ends
	drop    bool // send it, then lose the reply
	status  int  // answer with this HTTP status without sending it
	errCode string
	delay   time.Duration
}

// transport counts requests by operation and injects faults.
type transport struct {
	base http.RoundTripper

	mu     sync.Mutex
	counts map[string]int
	inject func(op, key string, body map[string]any) fault
}

var (
	transportsMu sync.Mutex
	transports   []*http.Transport
)

func closeTransports() {
	transportsMu.Lock()
	defer transportsMu.Unlock()
	for _, t := range transports {
		t.CloseIdleConnections()
	}
}

func newTransport() *transport {
	base := http.DefaultTransport.(*http.Transport).Clone()
	base.MaxIdleConnsPerHost = 64
	transportsMu.Lock()
	transports = append(transports, base)
	transportsMu.Unlock()
	return &transport{base: base, counts: map[string]int{}}
}

func (t *transport) setFault(f func(op, key string, body map[string]any) fault) {
	t.mu.Lock()
	t.inject = f
	t.mu.Unlock()
}

// count returns how many requests of op were sent so far.
func (t *transport) count(op string) int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.counts[op]
}

func (t *transport) total() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	n := 0
	for _, c := range t.counts {
		n += c
	}
	return n
}

func classifyRequest(target string, body map[string]any) string {
	if !strings.HasSuffix(target, ".UpdateItem") {
		return strings.TrimPrefix(target, "DynamoDB_20120810.")
	}
	update, _ := body["UpdateExpression"].(string)
	return classifyUpdate(update)
}

// quietBenchmarks keeps the Sessions' Warn lines (a renewal late under the
// load a benchmark makes on purpose) out of a benchmark run's output, where
// go test interleaves them with result lines and benchstat then cannot
// parse those. Tests keep the default logger.
func quietBenchmarks() {
	if f := flag.Lookup("test.bench"); f != nil && f.Value.String() != "" {
		slog.SetDefault(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError})))
	}
}

// classifyUpdate tells the library's writes apart by their update expression.
func classifyUpdate(update string) string {
	switch {
	case strings.Contains(update, "if_not_exists"):
		return opAcquire
	case strings.Contains(update, "#r = :true"):
		return opRelease
	case strings.HasPrefix(update, "SET #v = :nv, #e = :e"):
		return opRenew
	case update == "SET #c = :claim":
		return opClaim
	case update == "REMOVE #c":
		return opUnclaim
	}
	return opOther
}

func lockKeyOf(body map[string]any) string {
	k, _ := body["Key"].(map[string]any)
	for _, v := range k {
		if m, ok := v.(map[string]any); ok {
			if s, ok := m["S"].(string); ok {
				return s
			}
		}
	}
	return ""
}

func (t *transport) RoundTrip(req *http.Request) (*http.Response, error) {
	var raw []byte
	if req.Body != nil {
		raw, _ = io.ReadAll(req.Body)
		req.Body.Close()
		req.Body = io.NopCloser(bytes.NewReader(raw))
	}
	var body map[string]any
	_ = json.Unmarshal(raw, &body)
	op := classifyRequest(req.Header.Get("X-Amz-Target"), body)
	key := lockKeyOf(body)

	t.mu.Lock()
	t.counts[op]++
	inject := t.inject
	t.mu.Unlock()

	var f fault
	if inject != nil {
		f = inject(op, key, body)
	}
	if f.delay > 0 {
		select {
		case <-time.After(f.delay):
		case <-req.Context().Done():
			return nil, req.Context().Err()
		}
	}
	switch {
	case f.block:
		<-req.Context().Done()
		return nil, req.Context().Err()
	case f.status != 0:
		code := f.errCode
		if code == "" {
			code = "InternalServerError"
		}
		msg := fmt.Sprintf(`{"__type":"com.amazonaws.dynamodb.v20120810#%s","message":"injected"}`, code)
		return &http.Response{
			StatusCode: f.status, Status: http.StatusText(f.status), Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
			Header:  http.Header{"Content-Type": []string{"application/x-amz-json-1.0"}, "X-Amzn-Requestid": []string{"injected"}},
			Body:    io.NopCloser(strings.NewReader(msg)),
			Request: req, ContentLength: int64(len(msg)),
		}, nil
	}
	resp, err := t.base.RoundTrip(req)
	if err == nil && f.drop {
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return nil, fmt.Errorf("injected: reply lost after the request was applied")
	}
	return resp, err
}

// newClient returns a DynamoDB client for the endpoint under test, talking
// through a fresh counting transport. SDK retries are off so that the
// library's own retry logic is what the tests see.
func newClient(tb testing.TB) (*dynamodb.Client, *transport) {
	tb.Helper()
	ep := endpoint(tb)
	tr := newTransport()
	return localClient(ep, tr, localdb.NoRetries), tr
}

// localClient builds a client for DynamoDB Local at ep, which accepts any
// credentials.
func localClient(ep string, tr http.RoundTripper, optFns ...func(*dynamodb.Options)) *dynamodb.Client {
	return localdb.Client(ep, tr, optFns...)
}

// heldRecord is a well-formed lock record held by owner, as another process
// would have written it.
func heldRecord(key, owner, version string, token uint64, lease time.Duration) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{
		"key": avS(key), "owner": avS(owner), "version": avS(version),
		"token": avN(strconv.FormatUint(token, 10)), "lease_ms": avN(strconv.FormatInt(lease.Milliseconds(), 10)),
		"released": avB(false),
	}
}

var tableSeq atomic.Int64

var unsafeChars = regexp.MustCompile(`[^a-zA-Z0-9_.-]`)

// newTable creates a fresh lock table for one test.
func newTable(tb testing.TB, c dynamutex.DynamoDBAPI, opts ...dynamutex.TableOption) string {
	tb.Helper()
	name := unsafeChars.ReplaceAllString(tb.Name(), "_")
	if len(name) > 200 {
		name = name[:200]
	}
	name = fmt.Sprintf("%s_%d_%d", name, time.Now().UnixNano()%1e6, tableSeq.Add(1))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := dynamutex.CreateTable(ctx, c, name, opts...); err != nil {
		tb.Fatalf("CreateTable: %v", err)
	}
	return name
}

// Short leases keep the suite fast on loopback.
const (
	testLease     = 600 * time.Millisecond
	testSafe      = 400 * time.Millisecond
	testHeartbeat = 100 * time.Millisecond
)

func fastOptions(extra ...dynamutex.Option) []dynamutex.Option {
	return append(leaseOptions(testLease, testSafe, testHeartbeat), extra...)
}

// leaseOptions sets a Session's lease, safe time and heartbeat, with an
// expiry of an hour so that test records do not linger.
func leaseOptions(lease, safe, heartbeat time.Duration) []dynamutex.Option {
	return []dynamutex.Option{
		dynamutex.WithLeaseDuration(lease),
		dynamutex.WithSafeTime(safe),
		dynamutex.WithHeartbeatPeriod(heartbeat),
		dynamutex.WithExpiry(time.Hour),
	}
}

// newSession opens a Session with short leases and closes it when the test ends.
func newSession(tb testing.TB, c dynamutex.DynamoDBAPI, table string, opts ...dynamutex.Option) *dynamutex.Session {
	tb.Helper()
	s, err := dynamutex.NewSession(context.Background(), c, table, fastOptions(opts...)...)
	if err != nil {
		tb.Fatalf("NewSession: %v", err)
	}
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := s.Close(ctx); err != nil {
			tb.Errorf("Close: %v", err)
		}
	})
	return s
}

// getItem reads a lock record with the raw SDK.
func getItem(tb testing.TB, c *dynamodb.Client, table, key string) map[string]types.AttributeValue {
	tb.Helper()
	out, err := c.GetItem(context.Background(), &dynamodb.GetItemInput{
		TableName:      aws.String(table),
		Key:            map[string]types.AttributeValue{"key": &types.AttributeValueMemberS{Value: key}},
		ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		tb.Fatalf("GetItem: %v", err)
	}
	return out.Item
}

func putItem(tb testing.TB, c *dynamodb.Client, table string, item map[string]types.AttributeValue) {
	tb.Helper()
	if _, err := c.PutItem(context.Background(), &dynamodb.PutItemInput{TableName: aws.String(table), Item: item}); err != nil {
		tb.Fatalf("PutItem: %v", err)
	}
}

func avS(v string) types.AttributeValue { return &types.AttributeValueMemberS{Value: v} }
func avN(v string) types.AttributeValue { return &types.AttributeValueMemberN{Value: v} }
func avB(v bool) types.AttributeValue   { return &types.AttributeValueMemberBOOL{Value: v} }
func attrS(item map[string]types.AttributeValue, k string) string {
	if v, ok := item[k].(*types.AttributeValueMemberS); ok {
		return v.Value
	}
	return ""
}
func attrBool(item map[string]types.AttributeValue, k string) bool {
	v, ok := item[k].(*types.AttributeValueMemberBOOL)
	return ok && v.Value
}

// waitFor polls cond until it holds or the deadline passes.
func waitFor(tb testing.TB, within time.Duration, what string, cond func() bool) {
	tb.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			tb.Fatalf("timed out after %v waiting for %s", within, what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func ctxTimeout(tb testing.TB, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	tb.Cleanup(cancel)
	return ctx
}
