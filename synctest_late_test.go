package dynamutex_test

import (
	"context"
	"fmt"
	"log/slog"
	"testing"
	"testing/synctest"
	"time"

	"github.com/dynamutex/dynamutex"
	"github.com/dynamutex/dynamutex/dynamutextest"
)

// A renewal is late, with a Warn, only when it is late enough to matter:
// renewals a few milliseconds past the heartbeat period are on time, and
// renewals more than a quarter period past it are late.
//
// The lateness is made exactly in the bubble: with one renewal in flight
// at a time (WithParallelism(1)) and every renewal taking delay, two locks
// saturate the loop, which then alternates between them, so that each
// lock's renewals are sent exactly 2 × delay apart.
func TestSynctestLateMeansLateEnoughToMatter(t *testing.T) {
	const period = dynamutex.DefaultHeartbeatPeriod
	for _, tc := range []struct {
		name     string
		apart    time.Duration // between a lock's renewals, once the loop is saturated
		wantLate bool
	}{
		{"4ms past the period", period + 4*time.Millisecond, false},
		{"just under a quarter past", period + period/4 - 2*time.Millisecond, false},
		{"a third past", period + period/3, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				late, warns := renewalsApart(t, tc.apart)
				if got := late > 0; got != tc.wantLate {
					t.Errorf("%d of the renewals %v apart were late, want late: %v", late, tc.apart, tc.wantLate)
				}
				if got := warns > 0; got != tc.wantLate {
					t.Errorf("%d Warn lines about renewals %v apart, want some: %v", warns, tc.apart, tc.wantLate)
				}
			})
		})
	}
}

// renewalsApart holds two locks whose renewals are sent apart apart, and
// returns, after a warm-up, how many renewals were late and how many Warn
// lines were logged about renewals. It fails the test unless every renewal
// after the warm-up took one attempt and came exactly apart after the
// previous one, so that the case tests what it says.
func renewalsApart(t *testing.T, apart time.Duration) (late, warns int) {
	ctx := context.Background()
	rec := &recorder{}
	wl := &warnLog{}
	db := slowRenewals(dynamutextest.New(), apart/2)
	s := memSession(t, db, dynamutex.WithParallelism(1), dynamutex.WithObserver(rec), dynamutex.WithLogger(slog.New(wl)))
	defer s.Close(ctx)
	keys := []string{"a", "b"}
	for _, k := range keys {
		if _, err := s.NewMutex(k).Lock(ctx); err != nil {
			t.Fatal(err)
		}
	}
	// The first renewals of the two locks are not yet in step: a lock can
	// wait for the other's first renewal on top of its own spread.
	const warmUp, periods = 4, 10
	period := dynamutex.DefaultHeartbeatPeriod
	time.Sleep(warmUp * period)
	synctest.Wait()
	skip := map[string]int{}
	for _, k := range keys {
		skip[k] = len(rec.find(dynamutex.EventRenewed, k))
	}
	wl.mu.Lock()
	warnsBefore := len(wl.msgs)
	wl.mu.Unlock()

	time.Sleep(periods * period)
	synctest.Wait()
	for _, k := range keys {
		evs := rec.find(dynamutex.EventRenewed, k)[skip[k]:]
		if min := int(periods*period/apart) - 1; len(evs) < min {
			t.Fatalf("lock %s: %d renewals in %d periods, want at least %d", k, len(evs), periods, min)
		}
		for i, ev := range evs {
			if ev.Attempts != 1 || ev.Wait != apart {
				t.Fatalf("lock %s: renewal %d = %+v, want one attempt %v after the previous", k, i, ev, apart)
			}
			if ev.Late {
				late++
			}
		}
	}
	wl.mu.Lock()
	defer wl.mu.Unlock()
	return late, len(wl.msgs) - warnsBefore
}

// The first renewal of a lock keeps the slack of every later one: taken in
// a burst, 200 locks are first renewed spread over the quarter period that
// ends a twentieth of a period early, never at the period itself, where the
// least scheduling delay made the latest of them late.
func TestSynctestFirstRenewalKeepsItsSlack(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx := context.Background()
		rec := &recorder{}
		s := memSession(t, dynamutextest.New(), dynamutex.WithObserver(rec))
		defer s.Close(ctx)
		const locks = 200
		for i := range locks {
			if _, err := s.NewMutex(fmt.Sprintf("k%d", i)).Lock(ctx); err != nil {
				t.Fatal(err)
			}
		}
		period := dynamutex.DefaultHeartbeatPeriod
		time.Sleep(period)
		synctest.Wait()
		every := period - period/20
		for i := range locks {
			evs := rec.find(dynamutex.EventRenewed, fmt.Sprintf("k%d", i))
			if len(evs) != 1 {
				t.Fatalf("lock %d: %d renewals in the first period, want 1", i, len(evs))
			}
			if ev := evs[0]; ev.Wait > every || ev.Wait < every-period/4 || ev.Late {
				t.Fatalf("lock %d: first renewal %+v, want %v to %v after the acquisition, not late",
					i, ev, every-period/4, every)
			}
		}
	})
}
