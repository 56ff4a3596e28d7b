package dynamutex_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/dynamutex/dynamutex"
)

// lockMetrics counts lifecycle events the way a metrics library's counters
// and histograms would; swap the atomics for Prometheus or OpenTelemetry
// instruments in a real service.
type lockMetrics struct {
	acquired, released, renewed, lateRenewals atomic.Int64
	lostByCause                               [2]atomic.Int64 // 0: in danger, 1: lost
	waitNanos                                 atomic.Int64
}

func (m *lockMetrics) Observe(ev dynamutex.Event) {
	switch ev.Kind {
	case dynamutex.EventAcquired:
		m.acquired.Add(1)
		m.waitNanos.Add(int64(ev.Wait))
	case dynamutex.EventRenewed:
		m.renewed.Add(1)
		if ev.Late {
			m.lateRenewals.Add(1)
		}
	case dynamutex.EventInDanger:
		m.lostByCause[0].Add(1)
	case dynamutex.EventLost:
		m.lostByCause[1].Add(1)
	case dynamutex.EventReleased:
		m.released.Add(1)
	}
}

// Count acquisitions, wait time, renewals and losses with an Observer.
func ExampleWithObserver() {
	ctx := context.Background()
	client := exampleClient()
	table := exampleTable(ctx, client)

	metrics := &lockMetrics{}
	sess, err := dynamutex.NewSession(ctx, client, table, dynamutex.WithObserver(metrics))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer sess.Close(ctx)

	m := sess.NewMutex("report/daily")
	for range 3 {
		if _, err := m.Lock(ctx); err != nil {
			fmt.Println(err)
			return
		}
		if err := m.Unlock(ctx); err != nil {
			fmt.Println(err)
			return
		}
	}
	fmt.Println("acquired:", metrics.acquired.Load())
	fmt.Println("released:", metrics.released.Load())
	fmt.Println("lost or in danger:", metrics.lostByCause[0].Load()+metrics.lostByCause[1].Load())
	fmt.Println("waited:", time.Duration(metrics.waitNanos.Load()) > 0)
	// Output:
	// acquired: 3
	// released: 3
	// lost or in danger: 0
	// waited: true
}
