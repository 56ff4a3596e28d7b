package dynamutexotel_test

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"go.opentelemetry.io/otel/attribute"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/dynamutex/dynamutex"
	"github.com/dynamutex/dynamutex/dynamutextest"
	dynamutexotel "github.com/dynamutex/dynamutex/otel"
)

// meter is an Observer on a MeterProvider whose ManualReader the test
// collects from, with a recorder of the same events beside it, so that a
// count can be checked against the events that really came.
type meter struct {
	reader *sdkmetric.ManualReader
	obs    *dynamutexotel.Observer
	events recorder
}

func newMeter(t *testing.T, opts ...dynamutexotel.Option) *meter {
	t.Helper()
	reader := sdkmetric.NewManualReader()
	provider := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	t.Cleanup(func() { _ = provider.Shutdown(context.Background()) })
	obs, err := dynamutexotel.New(provider.Meter("test"), opts...)
	if err != nil {
		t.Fatal(err)
	}
	return &meter{reader: reader, obs: obs}
}

// Observe hands ev to the Observer under test and keeps it.
func (m *meter) Observe(ev dynamutex.Event) {
	m.obs.Observe(ev)
	m.events.Observe(ev)
}

// session opens a Session observed by m on a fresh table of db.
func (m *meter) session(t *testing.T, db dynamutex.DynamoDBAPI, opts ...dynamutex.Option) *dynamutex.Session {
	t.Helper()
	return openSession(t, db, append([]dynamutex.Option{dynamutex.WithObserver(m)}, opts...)...)
}

func openSession(t *testing.T, db dynamutex.DynamoDBAPI, opts ...dynamutex.Option) *dynamutex.Session {
	t.Helper()
	ctx := context.Background()
	if err := dynamutex.CreateTable(ctx, db, "locks"); err != nil {
		t.Fatal(err)
	}
	// The warnings of the faults the tests inject are expected: keep them
	// out of the test output.
	quiet := dynamutex.WithLogger(slog.New(slog.DiscardHandler))
	s, err := dynamutex.NewSession(ctx, db, "locks", append([]dynamutex.Option{quiet}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close(context.Background()) })
	return s
}

// collect reads every metric once.
func (m *meter) collect(t *testing.T) collected {
	t.Helper()
	var rm metricdata.ResourceMetrics
	if err := m.reader.Collect(context.Background(), &rm); err != nil {
		t.Fatal(err)
	}
	out := collected{}
	for _, sm := range rm.ScopeMetrics {
		for _, md := range sm.Metrics {
			out[md.Name] = md
		}
	}
	return out
}

// collected is one collection, by instrument name.
type collected map[string]metricdata.Metrics

// sum returns the value of name's data point whose attributes are exactly
// attrs, and whether there is one.
func (c collected) sum(name string, attrs ...attribute.KeyValue) (int64, bool) {
	want := attribute.NewSet(attrs...)
	s, _ := c[name].Data.(metricdata.Sum[int64])
	for _, dp := range s.DataPoints {
		if dp.Attributes.Equals(&want) {
			return dp.Value, true
		}
	}
	return 0, false
}

// points counts name's data points: one per attribute set.
func (c collected) points(name string) int {
	switch d := c[name].Data.(type) {
	case metricdata.Sum[int64]:
		return len(d.DataPoints)
	case metricdata.Histogram[float64]:
		return len(d.DataPoints)
	}
	return 0
}

// histogram returns the count and sum of name's data point whose
// attributes are exactly attrs.
func (c collected) histogram(name string, attrs ...attribute.KeyValue) (uint64, float64) {
	want := attribute.NewSet(attrs...)
	h, _ := c[name].Data.(metricdata.Histogram[float64])
	for _, dp := range h.DataPoints {
		if dp.Attributes.Equals(&want) {
			return dp.Count, dp.Sum
		}
	}
	return 0, 0
}

// wantSum fails t unless name's data point with attrs is want.
func (c collected) wantSum(t *testing.T, name string, want int64, attrs ...attribute.KeyValue) {
	t.Helper()
	if got, ok := c.sum(name, attrs...); !ok || got != want {
		t.Errorf("%s%v = %d (present %v), want %d", name, attrs, got, ok, want)
	}
}

// wantCount fails t unless name's histogram with attrs counts want.
func (c collected) wantCount(t *testing.T, name string, want uint64, attrs ...attribute.KeyValue) {
	t.Helper()
	if got, _ := c.histogram(name, attrs...); got != want {
		t.Errorf("%s%v count = %d, want %d", name, attrs, got, want)
	}
}

// recorder keeps every event.
type recorder struct {
	mu     sync.Mutex
	events []dynamutex.Event
}

func (r *recorder) Observe(ev dynamutex.Event) {
	r.mu.Lock()
	r.events = append(r.events, ev)
	r.mu.Unlock()
}

// count returns how many events of kind came.
func (r *recorder) count(kind dynamutex.EventKind) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, ev := range r.events {
		if ev.Kind == kind {
			n++
		}
	}
	return n
}

// flaky fails every UpdateItem while fail is set, as a cut network would,
// so that renewals fail and the lease falls into danger.
type flaky struct {
	dynamutex.DynamoDBAPI
	fail atomic.Bool
}

var errCut = errors.New("injected: connection reset")

func (f *flaky) UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error) {
	if f.fail.Load() {
		return nil, errCut
	}
	return f.DynamoDBAPI.UpdateItem(ctx, in, optFns...)
}

func how(h dynamutex.AcquiredHow) attribute.KeyValue {
	return attribute.String(dynamutexotel.AttrAcquiredHow, h.String())
}

func end(e string) attribute.KeyValue { return attribute.String(dynamutexotel.AttrHoldEnd, e) }

func key(k string) attribute.KeyValue { return attribute.String(dynamutexotel.AttrKey, k) }

// deleteRecord deletes key's record from the table "locks" of db.
func deleteRecord(t *testing.T, db *dynamutextest.Store, key string) {
	t.Helper()
	_, err := db.DeleteItem(context.Background(), &dynamodb.DeleteItemInput{TableName: aws.String("locks"),
		Key: map[string]types.AttributeValue{"key": &types.AttributeValueMemberS{Value: key}}})
	if err != nil {
		t.Fatal(err)
	}
}
