package classic_test

import (
	"cmp"
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"regexp"
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
	"github.com/dynamutex/dynamutex/bench/classic"
)

func TestMain(m *testing.M) {
	if os.Getenv("AWS_ENDPOINT_URL_DYNAMODB") == "" {
		fmt.Fprintln(os.Stderr, "AWS_ENDPOINT_URL_DYNAMODB is not set. Run through the repository's script, which starts DynamoDB Local:\n"+
			"\tcd bench/classic && ../../scripts/with-dynamodb-local.sh go test -run '^$' -bench . -benchtime 40x -count 6 .")
		os.Exit(2)
	}
	if err := warmUp(); err != nil {
		fmt.Fprintln(os.Stderr, "warming DynamoDB Local up:", err)
		os.Exit(2)
	}
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

// warmUp runs both protocols before anything is measured: a few hundred
// cycles, then more for as long as $CLASSIC_WARMUP says (a Go duration), if
// set. A fresh DynamoDB Local answers several times slower than a warm one
// until its JIT has compiled the paths of GetItem, PutItem, UpdateItem and
// DeleteItem, which takes thousands of requests; without a warm-up the first
// sub-benchmark would pay for all. run.sh sets $CLASSIC_WARMUP for its first
// round only, since the emulator stays warm across rounds.
func warmUp() error {
	extra, err := time.ParseDuration(cmp.Or(os.Getenv("CLASSIC_WARMUP"), "0s"))
	if err != nil {
		return fmt.Errorf("CLASSIC_WARMUP: %w", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute+extra)
	defer cancel()
	c, _ := client()
	dt, err := createDynamutexTable(ctx, c, "warm_up_dynamutex")
	if err != nil {
		return err
	}
	ct, err := createClassicTable(ctx, c, "warm_up_classic")
	if err != nil {
		return err
	}
	s, err := dynamutex.NewSession(ctx, c, dt, quiet())
	if err != nil {
		return err
	}
	defer s.Close(ctx)
	cl := classic.New(c, ct, classic.Options{})
	until := time.Now().Add(extra)
	more := func(i int) bool { return i < 40 || time.Now().Before(until) }
	errs := make(chan error, 8)
	var wg sync.WaitGroup
	for g := range 4 {
		key := fmt.Sprintf("warm-%d", g)
		wg.Go(func() {
			m := s.NewMutex(key)
			for i := 0; more(i); i++ {
				if _, err := m.Lock(ctx); err != nil {
					errs <- err
					return
				}
				if err := m.Unlock(ctx); err != nil {
					errs <- err
					return
				}
			}
		})
		wg.Go(func() {
			for i := 0; more(i); i++ {
				l, err := cl.Acquire(ctx, key)
				if err != nil {
					errs <- err
					return
				}
				if err := l.Release(ctx); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	return <-errs
}

// counter is an http.RoundTripper that counts requests by DynamoDB
// operation, from the X-Amz-Target header.
type counter struct {
	base http.RoundTripper
	mu   sync.Mutex
	n    map[string]int
}

func (c *counter) RoundTrip(req *http.Request) (*http.Response, error) {
	op := req.Header.Get("X-Amz-Target")
	op = op[strings.LastIndexByte(op, '.')+1:]
	c.mu.Lock()
	c.n[op]++
	c.mu.Unlock()
	return c.base.RoundTrip(req)
}

func (c *counter) snapshot() map[string]int {
	c.mu.Lock()
	defer c.mu.Unlock()
	m := make(map[string]int, len(c.n))
	for k, v := range c.n {
		m[k] = v
	}
	return m
}

func (c *counter) total() int {
	n := 0
	for _, v := range c.snapshot() {
		n += v
	}
	return n
}

// since returns the requests of each operation made after the snapshot before.
func (c *counter) since(before map[string]int) map[string]int {
	d := map[string]int{}
	for k, v := range c.snapshot() {
		if v != before[k] {
			d[k] = v - before[k]
		}
	}
	return d
}

var (
	transportsMu sync.Mutex
	transports   []*http.Transport
)

// closeTransports closes idle keep-alive connections, whose reader and
// writer goroutines goleak would otherwise report.
func closeTransports() {
	transportsMu.Lock()
	defer transportsMu.Unlock()
	for _, t := range transports {
		t.CloseIdleConnections()
	}
}

// client returns a DynamoDB client for DynamoDB Local with its own
// connections and request counter. SDK retries are off so that the counts
// are the protocol's own requests.
func client() (*dynamodb.Client, *counter) {
	base := http.DefaultTransport.(*http.Transport).Clone()
	base.MaxIdleConnsPerHost = 64
	transportsMu.Lock()
	transports = append(transports, base)
	transportsMu.Unlock()
	tr := &counter{base: base, n: map[string]int{}}
	c := dynamodb.New(dynamodb.Options{
		BaseEndpoint: aws.String(os.Getenv("AWS_ENDPOINT_URL_DYNAMODB")),
		Region:       "us-east-1",
		Credentials: aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
			return aws.Credentials{AccessKeyID: "local", SecretAccessKey: "local", Source: "test"}, nil
		}),
		HTTPClient:       &http.Client{Transport: tr},
		RetryMaxAttempts: 1,
	})
	return c, tr
}

var (
	tableSeq    atomic.Int64
	unsafeChars = regexp.MustCompile(`[^a-zA-Z0-9_.-]`)
)

func tableName(prefix string) string {
	name := unsafeChars.ReplaceAllString(prefix, "_")
	return fmt.Sprintf("%.180s_%d_%d", name, time.Now().UnixNano()%1e6, tableSeq.Add(1))
}

// createDynamutexTable makes a fresh table for the library and for the raw
// two-write cycle, which writes the library's record.
func createDynamutexTable(ctx context.Context, c *dynamodb.Client, prefix string) (string, error) {
	name := tableName(prefix)
	return name, dynamutex.CreateTable(ctx, c, name)
}

// createClassicTable makes a fresh table shaped as the classic clients
// expect: a string partition key, on-demand, TTL on expiry_time.
func createClassicTable(ctx context.Context, c *dynamodb.Client, prefix string) (string, error) {
	name := tableName(prefix)
	_, err := c.CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName:            aws.String(name),
		BillingMode:          types.BillingModePayPerRequest,
		AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String(classic.AttrKey), AttributeType: types.ScalarAttributeTypeS}},
		KeySchema:            []types.KeySchemaElement{{AttributeName: aws.String(classic.AttrKey), KeyType: types.KeyTypeHash}},
	})
	if err != nil {
		return "", err
	}
	if err := dynamodb.NewTableExistsWaiter(c).Wait(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(name)}, time.Minute); err != nil {
		return "", err
	}
	_, err = c.UpdateTimeToLive(ctx, &dynamodb.UpdateTimeToLiveInput{
		TableName:               aws.String(name),
		TimeToLiveSpecification: &types.TimeToLiveSpecification{AttributeName: aws.String("expiry_time"), Enabled: aws.Bool(true)},
	})
	return name, err
}

func newDynamutexTable(tb testing.TB, c *dynamodb.Client) string {
	tb.Helper()
	name, err := createDynamutexTable(ctxFor(tb, 30*time.Second), c, tb.Name())
	if err != nil {
		tb.Fatalf("create table: %v", err)
	}
	return name
}

func newClassicTable(tb testing.TB, c *dynamodb.Client) string {
	tb.Helper()
	name, err := createClassicTable(ctxFor(tb, 30*time.Second), c, tb.Name())
	if err != nil {
		tb.Fatalf("create table: %v", err)
	}
	return name
}

// quiet keeps the library's Warn lines out of benchmark output.
func quiet() dynamutex.Option {
	return dynamutex.WithLogger(slog.New(slog.DiscardHandler))
}

// newSession opens a Session that is closed when tb ends.
func newSession(tb testing.TB, c *dynamodb.Client, table string, opts ...dynamutex.Option) *dynamutex.Session {
	tb.Helper()
	s, err := dynamutex.NewSession(context.Background(), c, table, append([]dynamutex.Option{quiet()}, opts...)...)
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

func ctxFor(tb testing.TB, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	tb.Cleanup(cancel)
	return ctx
}
