package dynamutex_test

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"regexp"
	"strconv"
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
	"github.com/dynamutex/dynamutex/internal/wire"
)

func TestMain(m *testing.M) {
	flag.Parse()
	quietBenchmarks()
	warmEmulator()
	code := m.Run()
	localdb.CloseIdle()
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
// to run. Without an endpoint it does nothing: the tests then run on the
// in-memory store.
func warmEmulator() {
	ep := os.Getenv(localdb.EndpointVar)
	if ep == "" {
		return
	}
	c := localdb.Client(ep, localdb.Transport())
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

// kind of a request, told apart by its update expression (package wire's
// classifier), so tests can count the writes of each operation.
const (
	opAcquire = string(wire.OpAcquire)
	opRenew   = string(wire.OpRenew)
	opRelease = string(wire.OpRelease)
	opClaim   = string(wire.OpClaim)
	opUnclaim = string(wire.OpUnclaim)
	opOther   = string(wire.OpOther)
)

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
func classifyUpdate(update string) string { return string(wire.ClassifyUpdate(update)) }

// heldRecord is a well-formed lock record held by owner, at the version
// "v-"+owner, as another process would have written it.
func heldRecord(key, owner string, token uint64, lease time.Duration) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{
		"key": avS(key), "owner": avS(owner), "version": avS("v-" + owner),
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
func getItem(tb testing.TB, c testDB, table, key string) map[string]types.AttributeValue {
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

func putItem(tb testing.TB, c testDB, table string, item map[string]types.AttributeValue) {
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

// setup is how most tests begin: a tapped client of the DynamoDB under
// test (see newClient; it also counts and breaks requests), a fresh table,
// and a Session with short leases on it, closed when the test ends.
func setup(tb testing.TB, opts ...dynamutex.Option) (*tap, string, *dynamutex.Session) {
	tb.Helper()
	return setupOn(tb, backend(tb), opts...)
}

// setupOn is setup on db: for the tests in a testing/synctest bubble, which
// run on an in-memory store of their own, since time there is fake and
// DynamoDB Local's replies are not.
func setupOn(tb testing.TB, db testDB, opts ...dynamutex.Option) (*tap, string, *dynamutex.Session) {
	tb.Helper()
	c := newTap(db)
	table := newTable(tb, c)
	return c, table, newSession(tb, c, table, opts...)
}
