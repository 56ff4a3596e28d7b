package dynamutexotel_test

import (
	"context"
	"errors"
	"testing"
	"testing/synctest"
	"time"

	"go.opentelemetry.io/otel/attribute"

	"github.com/dynamutex/dynamutex"
	"github.com/dynamutex/dynamutex/dynamutextest"
	dynamutexotel "github.com/dynamutex/dynamutex/otel"
)

const (
	acquisitions = dynamutexotel.MetricAcquisitions
	waits        = dynamutexotel.MetricWaitDuration
	holdTimes    = dynamutexotel.MetricHoldDuration
	held         = dynamutexotel.MetricHeld
)

func lock(t *testing.T, m *dynamutex.Mutex) {
	t.Helper()
	if _, err := m.Lock(context.Background()); err != nil {
		t.Fatal(err)
	}
}

func unlock(t *testing.T, m *dynamutex.Mutex) {
	t.Helper()
	if err := m.Unlock(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// Lock and Unlock twice: the first acquisition finds no record, the second
// a released one. The gauge counts the lock while it is held and returns
// to zero; each hold is timed once, exactly, in the bubble's fake time;
// and without WithKeyAttribute no data point names the key.
func TestLockUnlock(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		mt := newMeter(t)
		m := mt.session(t, dynamutextest.New()).NewMutex("job")

		lock(t, m)
		c := mt.collect(t)
		c.wantSum(t, held, 1)
		c.wantSum(t, acquisitions, 1, how(dynamutex.AcquiredFree))
		c.wantCount(t, waits, 1, how(dynamutex.AcquiredFree))
		time.Sleep(3 * time.Second)
		unlock(t, m)
		lock(t, m)
		time.Sleep(2 * time.Second)
		unlock(t, m)

		c = mt.collect(t)
		c.wantSum(t, held, 0)
		c.wantSum(t, acquisitions, 1, how(dynamutex.AcquiredFree))
		c.wantSum(t, acquisitions, 1, how(dynamutex.AcquiredReleased))
		c.wantCount(t, waits, 1, how(dynamutex.AcquiredReleased))
		if n, sum := c.histogram(holdTimes, end(dynamutexotel.HoldEndReleased)); n != 2 || sum != 5 {
			t.Errorf("hold durations: %d holds of %v s in all, want 2 of 5 s", n, sum)
		}
		for name, want := range map[string]int{acquisitions: 2, waits: 2, holdTimes: 1, held: 1} {
			if got := c.points(name); got != want {
				t.Errorf("%s has %d data points, want %d (no key attribute)", name, got, want)
			}
		}
	})
}

// WithKeyAttribute splits every per-lock instrument by key.
func TestKeyAttribute(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		mt := newMeter(t, dynamutexotel.WithKeyAttribute())
		s := mt.session(t, dynamutextest.New())
		a, b := s.NewMutex("a"), s.NewMutex("b")
		lock(t, a)
		lock(t, b)
		c := mt.collect(t)
		c.wantSum(t, held, 1, key("a"))
		c.wantSum(t, held, 1, key("b"))
		unlock(t, a)
		c = mt.collect(t)
		c.wantSum(t, held, 0, key("a"))
		c.wantSum(t, held, 1, key("b"))
		unlock(t, b)

		c = mt.collect(t)
		c.wantSum(t, held, 0, key("b"))
		c.wantSum(t, acquisitions, 1, how(dynamutex.AcquiredFree), key("a"))
		c.wantSum(t, acquisitions, 1, how(dynamutex.AcquiredFree), key("b"))
		c.wantCount(t, holdTimes, 1, end(dynamutexotel.HoldEndReleased), key("a"))
		c.wantCount(t, holdTimes, 1, end(dynamutexotel.HoldEndReleased), key("b"))
	})
}

// A holder that crashed (its Session closed without Unlock) is taken over
// after the waiter watched its record for one lease: the acquisition says
// so, and its wait is exactly that lease.
func TestTakeoverWatched(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		db := dynamutextest.New()
		crashed := openSession(t, db, dynamutex.WithOwner("crashed"))
		lock(t, crashed.NewMutex("job"))
		if err := crashed.Close(context.Background()); err != nil {
			t.Fatal(err)
		}

		mt := newMeter(t)
		m := mt.session(t, db).NewMutex("job")
		lock(t, m)
		unlock(t, m)
		c := mt.collect(t)
		c.wantSum(t, acquisitions, 1, how(dynamutex.AcquiredTakeoverWatched))
		n, sum := c.histogram(waits, how(dynamutex.AcquiredTakeoverWatched))
		if want := dynamutex.DefaultLeaseDuration.Seconds(); n != 1 || sum != want {
			t.Errorf("takeover waits: %d of %v s in all, want 1 of %v s", n, sum, want)
		}
		c.wantSum(t, held, 0)
	})
}

// A holder cut off from DynamoDB fails its renewals and falls into danger
// at the safe time; once another Session has taken the lock over and the
// network is back, the holder's renewal finds it lost. The hold ends once,
// at the danger; the renewal failures are exactly those the Session
// reported.
func TestDangerThenLost(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx := context.Background()
		db := dynamutextest.New()
		net := &flaky{DynamoDBAPI: db}
		mt := newMeter(t)
		m := mt.session(t, net).NewMutex("job")
		lctx, err := m.Lock(ctx)
		if err != nil {
			t.Fatal(err)
		}
		net.fail.Store(true)
		<-lctx.Done()
		if !errors.Is(context.Cause(lctx), dynamutex.ErrLeaseInDanger) {
			t.Fatalf("lock context ended with %v, want ErrLeaseInDanger", context.Cause(lctx))
		}
		thief := openSession(t, db, dynamutex.WithOwner("thief")).NewMutex("job")
		lock(t, thief)
		net.fail.Store(false)
		time.Sleep(dynamutex.DefaultLeaseDuration) // the holder's renewals resume and find the record taken
		if err := m.Unlock(ctx); !errors.Is(err, dynamutex.ErrLockLost) {
			t.Fatalf("Unlock of the lost lock = %v, want ErrLockLost", err)
		}
		unlock(t, thief)

		c := mt.collect(t)
		c.wantSum(t, dynamutexotel.MetricInDanger, 1)
		c.wantSum(t, dynamutexotel.MetricLost, 1)
		c.wantCount(t, holdTimes, 1, end(dynamutexotel.HoldEndInDanger))
		c.wantCount(t, holdTimes, 0, end(dynamutexotel.HoldEndLost))
		c.wantSum(t, held, 0)
		failed := int64(mt.events.count(dynamutex.EventRenewalFailed))
		if failed == 0 {
			t.Fatal("no renewal failed while the network was cut")
		}
		c.wantSum(t, dynamutexotel.MetricRenewalFailures, failed)
	})
}

// A lease in danger and then released is timed once, at the danger, and
// leaves the gauge at zero.
func TestDangerThenReleased(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx := context.Background()
		net := &flaky{DynamoDBAPI: dynamutextest.New()}
		mt := newMeter(t)
		m := mt.session(t, net).NewMutex("job")
		lctx, err := m.Lock(ctx)
		if err != nil {
			t.Fatal(err)
		}
		net.fail.Store(true)
		<-lctx.Done()
		net.fail.Store(false)
		unlock(t, m)

		c := mt.collect(t)
		if n := mt.events.count(dynamutex.EventReleased); n != 1 {
			t.Fatalf("%d EventReleased, want 1", n)
		}
		c.wantCount(t, holdTimes, 1, end(dynamutexotel.HoldEndInDanger))
		c.wantCount(t, holdTimes, 0, end(dynamutexotel.HoldEndReleased))
		c.wantSum(t, held, 0)
		safe := (3 * dynamutex.DefaultLeaseDuration / 4).Seconds()
		if _, sum := c.histogram(holdTimes, end(dynamutexotel.HoldEndInDanger)); sum != safe {
			t.Errorf("hold until danger = %v s, want the safe time, %v s", sum, safe)
		}
	})
}

// Claims and clock-trust changes are counted; the clock events carry no
// key, so WithKeyAttribute does not add one to them.
func TestClaimsAndClockChanges(t *testing.T) {
	mt := newMeter(t, dynamutexotel.WithKeyAttribute())
	for _, ev := range []dynamutex.Event{
		{Kind: dynamutex.EventClaimed, Key: "job", Wait: time.Second},
		{Kind: dynamutex.EventClaimed, Key: "job", Wait: time.Second},
		{Kind: dynamutex.EventClockUntrusted, Skew: time.Second},
		{Kind: dynamutex.EventClockTrusted},
		{Kind: dynamutex.EventClockUntrusted, Skew: -time.Second},
		{Kind: dynamutex.EventRenewed, Key: "job", Token: 1},
	} {
		mt.obs.Observe(ev)
	}
	c := mt.collect(t)
	c.wantSum(t, dynamutexotel.MetricClaims, 2, key("job"))
	c.wantSum(t, dynamutexotel.MetricClockChanges, 2, attribute.Bool(dynamutexotel.AttrTrusted, false))
	c.wantSum(t, dynamutexotel.MetricClockChanges, 1, attribute.Bool(dynamutexotel.AttrTrusted, true))
	if _, ok := c[held]; ok {
		t.Errorf("a renewal without an acquisition moved the gauge: %+v", c[held])
	}
}

// An end without its start (an Observer created after the acquisition)
// is counted as what it is but never moves the gauge below zero.
func TestEndWithoutStart(t *testing.T) {
	mt := newMeter(t)
	mt.obs.Observe(dynamutex.Event{Kind: dynamutex.EventInDanger, Key: "job", Token: 7})
	mt.obs.Observe(dynamutex.Event{Kind: dynamutex.EventReleased, Key: "job", Token: 7})
	c := mt.collect(t)
	c.wantSum(t, dynamutexotel.MetricInDanger, 1)
	if _, ok := c[held]; ok {
		t.Errorf("ends without a start moved the gauge: %+v", c[held])
	}
	if n := c.points(holdTimes); n != 0 {
		t.Errorf("ends without a start recorded %d hold data points", n)
	}
}

func TestNewNilMeter(t *testing.T) {
	if _, err := dynamutexotel.New(nil); !errors.Is(err, dynamutexotel.ErrNilMeter) {
		t.Fatalf("New(nil) = %v, want ErrNilMeter", err)
	}
}

// A healthy holder whose record vanished (deleted by hand) finds it lost
// at its next renewal: the hold ends there, once, and no danger is counted.
func TestLost(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		db := dynamutextest.New()
		mt := newMeter(t)
		m := mt.session(t, db).NewMutex("job")
		lock(t, m)
		deleteRecord(t, db, "job")
		time.Sleep(dynamutex.DefaultLeaseDuration / 2) // past the next renewal, before the safe time
		if err := m.Unlock(context.Background()); !errors.Is(err, dynamutex.ErrLockLost) {
			t.Fatalf("Unlock of the lost lock = %v, want ErrLockLost", err)
		}

		c := mt.collect(t)
		c.wantSum(t, dynamutexotel.MetricLost, 1)
		c.wantCount(t, holdTimes, 1, end(dynamutexotel.HoldEndLost))
		c.wantSum(t, held, 0)
		if n := c.points(dynamutexotel.MetricInDanger); n != 0 {
			t.Errorf("a lock lost while healthy counted %d danger data points", n)
		}
	})
}
