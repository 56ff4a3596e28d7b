package dynamutex_test

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"testing"
	"time"

	"github.com/dynamutex/dynamutex"
	"github.com/dynamutex/dynamutex/internal/localdb"
)

// coldClient is what a fresh process, such as a Lambda cold start, begins
// with: a new client, on DynamoDB Local with a new connection pool, so no
// warm connection either (the pool is nil on the in-memory store). The tap
// counts its calls by operation.
func coldClient(tb testing.TB) (*tap, *http.Transport) {
	tb.Helper()
	if !onLocal(tb) {
		return newTap(memory), nil
	}
	tr := localdb.Transport()
	return newTap(localdb.Client(localdb.Endpoint(tb), tr, localdb.NoRetries)), tr
}

// deadLock names a lock and the Session options of every party to it: the
// holder that crashes and those that take over.
type deadLock struct {
	table, key string
	opts       []dynamutex.Option
}

// coldStart is NewSession followed by one TryLock of the key, as a
// short-lived process would run them. The Session is returned open, with
// the lock if TryLock took it.
func (d deadLock) coldStart(ctx context.Context, c dynamutex.DynamoDBAPI) (*dynamutex.Session, *dynamutex.Mutex, error) {
	s, err := dynamutex.NewSession(ctx, c, d.table, d.opts...)
	if err != nil {
		return nil, nil, fmt.Errorf("NewSession: %w", err)
	}
	m := s.NewMutex(d.key)
	_, err = m.TryLock(ctx)
	return s, m, err
}

// crash locks the key with a Session of its own and closes it without
// Unlock: the record stays held and nobody renews it, as after a crash.
// It returns the holder's owner name.
func (d deadLock) crash(ctx context.Context, tb testing.TB, c dynamutex.DynamoDBAPI) string {
	tb.Helper()
	h, err := dynamutex.NewSession(ctx, c, d.table, d.opts...)
	if err != nil {
		tb.Fatalf("holder NewSession: %v", err)
	}
	if _, err := h.NewMutex(d.key).Lock(ctx); err != nil {
		tb.Fatalf("holder Lock: %v", err)
	}
	if err := h.Close(ctx); err != nil {
		tb.Fatalf("holder Close: %v", err)
	}
	return h.Owner()
}

// TestColdTryLockRequests: a brand-new Session's TryLock on a dead holder's
// lock costs one DescribeTable and one UpdateItem, with or without a clock
// bound. With a bound on both sides that one write takes the lock over;
// without one it cannot, however long the holder has been dead, because
// the new Session has not watched the record for a lease.
func TestColdTryLockRequests(t *testing.T) {
	for _, tc := range []struct {
		name  string
		bound bool
	}{{"bound=none", false}, {"bound=10ms", true}} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := ctxTimeout(t, 30*time.Second)
			c, _ := newClient(t)
			table := newTable(t, c)
			dl := deadLock{table: table, key: "cold", opts: deadHolderOptions(tc.bound)}
			owner := dl.crash(ctx, t, c)
			dl.waitDead(t, c, tc.bound)

			cc, _ := coldClient(t)
			s, m, err := dl.coldStart(ctx, cc)
			if s == nil {
				t.Fatal(err)
			}
			defer s.Close(ctx)
			if got, want := cc.byOperation(), map[string]int{"DescribeTable": 1, "UpdateItem": 1}; !maps.Equal(got, want) {
				t.Errorf("requests of NewSession + TryLock = %v, want %v", got, want)
			}
			if tc.bound {
				if err != nil {
					t.Fatalf("TryLock with a bound on a dead holder's lock: %v, want it taken over", err)
				}
				if err := m.Unlock(ctx); err != nil {
					t.Errorf("Unlock: %v", err)
				}
				return
			}
			var held *dynamutex.HeldError
			if !errors.As(err, &held) || !errors.Is(err, dynamutex.ErrLocked) {
				t.Fatalf("TryLock without a bound = %v, want a *HeldError (ErrLocked)", err)
			}
			if held.Owner != owner || held.LastWrite.IsZero() {
				t.Errorf("HeldError names owner %q, last write %v; want %q and the holder's send time", held.Owner, held.LastWrite, owner)
			}
		})
	}
}

// waitDead waits until a Session that has watched the key would take it
// over: after a lease of watching without a bound; with one, once its clock
// less the bound has also passed the record's deadline, which comes later
// (the deadline adds the bound to the holder's send time). The watcher is a
// Session of its own, so the cold Session under test starts with no
// observation of the record.
func (d deadLock) waitDead(t *testing.T, c dynamutex.DynamoDBAPI, bound bool) {
	t.Helper()
	w := newSession(t, c, d.table, d.opts...)
	waitFor(t, 20*time.Second, "the crashed holder's lock to be free to a watcher", func() bool {
		info, err := w.Inspect(context.Background(), d.key)
		if err != nil {
			t.Fatalf("Inspect: %v", err)
		}
		if bound != !info.Deadline.IsZero() {
			t.Fatalf("record written with bound %v has deadline %v", bound, info.Deadline)
		}
		// The acquire condition compares whole milliseconds, rounded the
		// safe way: a millisecond of margin past the deadline.
		return info.Free() && (!bound || time.Now().Add(-deadBound).After(info.Deadline.Add(time.Millisecond)))
	})
}
