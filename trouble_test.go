package dynamutex_test

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/dynamutex/dynamutex"
	"github.com/dynamutex/dynamutex/dynamutextest"
)

// observerFunc adapts a function to dynamutex.Observer.
type observerFunc func(dynamutex.Event)

func (f observerFunc) Observe(ev dynamutex.Event) { f(ev) }

// slowRenewals returns db with every renewal delayed by delay, as a
// saturated DynamoDB would.
func slowRenewals(db testDB, delay time.Duration) *tap {
	t := newTap(db)
	t.setFault(func(op, _ string, _ any) fault {
		if op == opRenew {
			return fault{delay: delay}
		}
		return fault{}
	})
	return t
}

// warnLog keeps the Warn records about renewals logged through it.
type warnLog struct {
	mu   sync.Mutex
	msgs []string
	recs []slog.Record
}

func (w *warnLog) Enabled(_ context.Context, l slog.Level) bool { return l >= slog.LevelWarn }
func (w *warnLog) Handle(_ context.Context, r slog.Record) error {
	if !strings.Contains(r.Message, "renew") {
		return nil // danger and loss have Warn lines of their own
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	w.msgs = append(w.msgs, r.Message)
	w.recs = append(w.recs, r.Clone())
	return nil
}
func (w *warnLog) WithAttrs([]slog.Attr) slog.Handler { return w }
func (w *warnLog) WithGroup(string) slog.Handler      { return w }

// lateCount is the count a Warn record gives: 1 for a single late renewal,
// the "late" attribute for a summary.
func lateCount(r slog.Record) int {
	if !strings.Contains(r.Message, "running late") {
		return 1
	}
	n := 0
	r.Attrs(func(a slog.Attr) bool {
		if a.Key == "late" {
			n = int(a.Value.Int64())
		}
		return true
	})
	return n
}

// When DynamoDB slows down, every held lock renews late at once. The
// Session logs one Warn a heartbeat period about it, the first late renewal
// at once and the rest of each period summed up, rather than one per lock;
// the Observer still hears of every one.
func TestSynctestLateRenewalsLogOncePerPeriod(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx := context.Background()
		warns := &warnLog{}
		var lateEvents atomic.Int64
		obs := observerFunc(func(ev dynamutex.Event) {
			if ev.Kind == dynamutex.EventRenewed && ev.Late {
				lateEvents.Add(1)
			}
		})
		const period = 5 * time.Second // the default heartbeat
		// 10 renewals in flight (the default parallelism) of 625 ms each: a
		// round of 200 locks takes 2.5 periods, so every renewal is late.
		db := slowRenewals(dynamutextest.New(), period/8)
		s := memSession(t, db, dynamutex.WithLogger(slog.New(warns)), dynamutex.WithObserver(obs))
		defer s.Close(ctx)
		const locks = 200
		for i := range locks {
			if _, err := s.NewMutex(fmt.Sprintf("k%d", i)).Lock(ctx); err != nil {
				t.Fatal(err)
			}
		}
		const periods = 6
		time.Sleep(periods * period)
		synctest.Wait()

		warns.mu.Lock()
		defer warns.mu.Unlock()
		if n := lateEvents.Load(); n < locks {
			t.Fatalf("%d late renewals observed, want at least one per lock (%d): the test did not slow renewals down", n, locks)
		}
		if len(warns.msgs) > periods+1 {
			t.Errorf("%d Warn lines in %d periods, want at most one a period: %q", len(warns.msgs), periods, warns.msgs)
		}
		logged := 0
		for _, r := range warns.recs {
			logged += lateCount(r)
		}
		t.Logf("%d late renewals, %d Warn lines accounting for %d of them", lateEvents.Load(), len(warns.msgs), logged)
		// Late renewals of the period still running are counted, not yet
		// summed up: at most a period's worth.
		if n := int(lateEvents.Load()); logged > n || logged < n-2*locks {
			t.Errorf("the Warn lines account for %d late renewals, the Observer saw %d", logged, n)
		}
	})
}
