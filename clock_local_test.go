//go:build dynamodblocal

package dynamutex_test

import (
	"errors"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dynamutex/dynamutex"
	"github.com/dynamutex/dynamutex/internal/localdb"
)

// The clock check reads the Date header of DynamoDB's HTTP replies,
// which only DynamoDB Local sends.

// dateShift moves the Date header of every reply by shift, as if DynamoDB's
// clock, or ours, were off by that much.
type dateShift struct {
	base  *http.Transport
	shift atomic.Int64
}

func (d *dateShift) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := d.base.RoundTrip(req)
	if err != nil {
		return resp, err
	}
	if t, perr := http.ParseTime(resp.Header.Get("Date")); perr == nil {
		resp.Header.Set("Date", t.Add(time.Duration(d.shift.Load())).UTC().Format(http.TimeFormat))
	}
	return resp, nil
}

// A Session whose clock disagrees with DynamoDB's Date header by more than
// its bound plus a second plus the round trip stops stamping deadlines and
// stops taking over by clock, says so once, and resumes a lease after the
// replies agree again.
func TestClockCheckAgainstDate(t *testing.T) {
	ep := localdb.Endpoint(t)
	tr := &dateShift{base: &http.Transport{}}
	t.Cleanup(tr.base.CloseIdleConnections)
	client := localdb.Client(ep, tr)
	table := newTable(t, client)
	ctx := ctxTimeout(t, 30*time.Second)
	rec := &recorder{}

	// A holder with a good clock dies; its deadline passes.
	crashAt(t, client, table, "dead")
	time.Sleep(testLease + 2*testBound + 10*time.Millisecond)

	tr.shift.Store(int64(5 * time.Second)) // DynamoDB says it is 5 s later than we think
	s := newSession(t, client, table, dynamutex.WithClockBound(testBound), dynamutex.WithObserver(rec))
	m := s.NewMutex("live")
	if _, err := m.Lock(ctx); err != nil {
		t.Fatal(err)
	}
	ev := rec.waitFor(t, dynamutex.EventClockUntrusted, "")
	if ev.Skew > -4*time.Second || ev.Skew < -6*time.Second || ev.Err == nil {
		t.Errorf("EventClockUntrusted with skew %v and error %v, want about -5s and an error", ev.Skew, ev.Err)
	}
	if _, err := s.NewMutex("dead").TryLock(ctx); !errors.Is(err, dynamutex.ErrLocked) {
		t.Errorf("TryLock of a record past its deadline by an untrusted clock = %v, want ErrLocked", err)
	}
	// The next renewal takes the deadline of the Lock's own write away.
	waitFor(t, 5*time.Second, "a renewal without a deadline", func() bool {
		info, err := s.Inspect(ctx, "live")
		return err == nil && info.Deadline.IsZero() && !info.LastWrite.IsZero()
	})
	if n := len(rec.find(dynamutex.EventClockUntrusted, "")); n != 1 {
		t.Errorf("%d EventClockUntrusted after many disagreeing replies, want 1", n)
	}

	tr.shift.Store(0)
	rec.waitFor(t, dynamutex.EventClockTrusted, "")
	waitFor(t, 5*time.Second, "a renewal with a deadline again", func() bool {
		info, err := s.Inspect(ctx, "live")
		return err == nil && !info.Deadline.IsZero()
	})
	// A record this Session has never seen, past its deadline, is taken at
	// the first look: by clock, since observation needs a lease of watching.
	crashAt(t, client, table, "dead2")
	time.Sleep(testLease + 2*testBound + 10*time.Millisecond)
	if _, err := s.NewMutex("dead2").TryLock(ctx); err != nil {
		t.Errorf("TryLock of a record past its deadline once the clock is trusted again: %v", err)
	}
	if err := m.Unlock(ctx); err != nil {
		t.Fatal(err)
	}
}

// crashAt leaves key held by a Session with a bound that closed without
// Unlock, as a holder that died would.
func crashAt(t *testing.T, client dynamutex.DynamoDBAPI, table, key string) {
	t.Helper()
	ctx := ctxTimeout(t, 10*time.Second)
	s := newSession(t, client, table, dynamutex.WithClockBound(testBound))
	if _, err := s.NewMutex(key).Lock(ctx); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(ctx); err != nil {
		t.Fatal(err)
	}
}
