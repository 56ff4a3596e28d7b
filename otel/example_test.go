package dynamutexotel_test

import (
	"context"
	"fmt"

	"go.opentelemetry.io/otel/attribute"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/dynamutex/dynamutex"
	"github.com/dynamutex/dynamutex/dynamutextest"
	dynamutexotel "github.com/dynamutex/dynamutex/otel"
)

// Wire the Observer to a MeterProvider, lock once, and read what was
// recorded. A service would pass its own provider's Meter (or
// otel.Meter("dynamutex")) and a real DynamoDB client; the ManualReader
// stands in for an exporter.
func Example() {
	ctx := context.Background()
	reader := sdkmetric.NewManualReader()
	provider := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	defer provider.Shutdown(ctx)

	obs, err := dynamutexotel.New(provider.Meter("github.com/dynamutex/dynamutex"))
	if err != nil {
		fmt.Println(err)
		return
	}
	db := dynamutextest.New() // in memory, for the example
	if err := dynamutex.CreateTable(ctx, db, "locks"); err != nil {
		fmt.Println(err)
		return
	}
	sess, err := dynamutex.NewSession(ctx, db, "locks", dynamutex.WithObserver(obs))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer sess.Close(ctx)

	m := sess.NewMutex("report/daily")
	if _, err := m.Lock(ctx); err != nil {
		fmt.Println(err)
		return
	}
	if err := m.Unlock(ctx); err != nil {
		fmt.Println(err)
		return
	}

	var rm metricdata.ResourceMetrics
	if err := reader.Collect(ctx, &rm); err != nil {
		fmt.Println(err)
		return
	}
	printMetrics(rm, dynamutexotel.MetricAcquisitions, dynamutexotel.MetricHeld,
		dynamutexotel.MetricWaitDuration, dynamutexotel.MetricHoldDuration)
	// Output:
	// dynamutex.lock.acquisitions{dynamutex.acquired.how=free} = 1
	// dynamutex.locks.held{} = 0
	// dynamutex.lock.wait.duration{dynamutex.acquired.how=free}: 1 recorded
	// dynamutex.lock.hold.duration{dynamutex.hold.end=released}: 1 recorded
}

// printMetrics prints the data points of the named metrics in rm, in the
// order given: a sum's value, a histogram's count.
func printMetrics(rm metricdata.ResourceMetrics, names ...string) {
	byName := map[string]metricdata.Aggregation{}
	for _, sm := range rm.ScopeMetrics {
		for _, md := range sm.Metrics {
			byName[md.Name] = md.Data
		}
	}
	enc := attribute.DefaultEncoder()
	for _, name := range names {
		switch d := byName[name].(type) {
		case metricdata.Sum[int64]:
			for _, dp := range d.DataPoints {
				fmt.Printf("%s{%s} = %d\n", name, dp.Attributes.Encoded(enc), dp.Value)
			}
		case metricdata.Histogram[float64]:
			for _, dp := range d.DataPoints {
				fmt.Printf("%s{%s}: %d recorded\n", name, dp.Attributes.Encoded(enc), dp.Count)
			}
		}
	}
}
