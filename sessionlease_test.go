package dynamutex_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/dynamutex/dynamutex"
	"github.com/dynamutex/dynamutex/dynamutextest"
	"github.com/dynamutex/dynamutex/internal/wire"
)

const opSession = string(wire.OpSession)

// isSessionKey tells a Session record's key from a lock's.
func isSessionKey(key string) bool { return strings.HasPrefix(key, wire.SessionKeyPrefix) }

// sessionOutage is f for a request on a Session record while cut is set,
// and no fault otherwise: the Session record out of reach, the locks not.
func sessionOutage(cut *atomic.Bool, key string, f fault) fault {
	if cut.Load() && isSessionKey(key) {
		return f
	}
	return fault{}
}

// sessionCounts counts a tap's writes on Session records and on locks.
type sessionCounts struct{ sessionWrites, lockWrites, reads atomic.Int64 }

func (c *sessionCounts) fault(op, key string, in any) fault {
	switch {
	case op == "GetItem":
		c.reads.Add(1)
	case isSessionKey(key):
		c.sessionWrites.Add(1)
	case op != "DescribeTable" && op != "CreateTable" && op != "UpdateTimeToLive" && op != "DescribeTimeToLive":
		c.lockWrites.Add(1)
	}
	return fault{}
}

// One write per heartbeat period keeps any number of locks: 100 locks held
// for ten periods cost 100 acquires, one Session record and ten renewals
// of it, and no write to any lock record in between.
func TestSynctestSessionLeaseOneWritePerPeriod(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx := context.Background()
		tr := newTap(dynamutextest.New())
		var c sessionCounts
		tr.setFault(c.fault)
		s := memSession(t, tr, dynamutex.WithSessionLease())
		defer s.Close(ctx)
		if n := tr.count(opSession); n != 1 {
			t.Fatalf("NewSession sent %d Session record creations, want 1", n)
		}
		var ctxs []context.Context
		for i := range 100 {
			lctx, err := s.NewMutex(fmt.Sprint("k", i)).Lock(ctx)
			if err != nil {
				t.Fatal(err)
			}
			ctxs = append(ctxs, lctx)
		}
		if n := c.lockWrites.Load(); n != 100 {
			t.Fatalf("100 uncontended Locks sent %d lock writes, want 100", n)
		}
		time.Sleep(10 * dynamutex.DefaultHeartbeatPeriod)
		synctest.Wait()
		// Renewals go a twentieth of a period early: 10 in 10 periods.
		if n, w := c.sessionWrites.Load(), int64(1+10); n != w {
			t.Errorf("Session record writes over 10 periods = %d, want %d (its creation and 10 renewals)", n, w)
		}
		if n := c.lockWrites.Load(); n != 100 {
			t.Errorf("lock writes while holding = %d, want none after the 100 acquires", n-100)
		}
		for i, lctx := range ctxs {
			if lctx.Err() != nil {
				t.Fatalf("lock %d ended while held: %v", i, context.Cause(lctx))
			}
		}
	})
}

// A Session that stops renewing (closed with its locks held, as a crash
// leaves them) loses every lock at once: a waiter takes the first exactly
// one lease after it first read the Session record, with one revocation,
// and every other lock of that Session at once, with one request each: the
// acquire write names the Sessions known dead.
func TestSynctestSessionLeaseTakeoverByWatching(t *testing.T) {
	for _, waiterLease := range []bool{true, false} {
		t.Run(fmt.Sprint("waiter session lease ", waiterLease), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) { checkSessionTakeover(t, waiterLease) })
		})
	}
}

func checkSessionTakeover(t *testing.T, waiterLease bool) {
	ctx := context.Background()
	db := dynamutextest.New()
	a := memSession(t, db, dynamutex.WithOwner("crashed"), dynamutex.WithSessionLease())
	wtr := newTap(db)
	var opts []dynamutex.Option
	if waiterLease {
		opts = append(opts, dynamutex.WithSessionLease())
	}
	b := memSession(t, wtr, append(opts, dynamutex.WithOwner("waiter"))...)
	defer b.Close(ctx)
	tokens := map[string]uint64{}
	for _, k := range []string{"k0", "k1", "k2"} {
		lctx, err := a.NewMutex(k).Lock(ctx)
		if err != nil {
			t.Fatal(err)
		}
		tokens[k] = mustLease(t, lctx).Token()
	}
	if err := a.Close(ctx); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	bctx, err := b.NewMutex("k0").Lock(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if got := time.Since(start); got != dynamutex.DefaultLeaseDuration {
		t.Errorf("takeover after %v, want exactly one lease (%v) after the first read of the Session record",
			got, dynamutex.DefaultLeaseDuration)
	}
	if got := mustLease(t, bctx).Token(); got != tokens["k0"]+1 {
		t.Errorf("token %d, want %d", got, tokens["k0"]+1)
	}
	before := wtr.total()
	for _, k := range []string{"k1", "k2"} {
		start := time.Now()
		lctx, err := b.NewMutex(k).TryLock(ctx)
		if err != nil {
			t.Fatalf("TryLock %s of the revoked Session: %v", k, err)
		}
		if time.Since(start) != 0 || mustLease(t, lctx).Token() != tokens[k]+1 {
			t.Errorf("%s taken after %v with token %d, want at once with %d", k, time.Since(start),
				mustLease(t, lctx).Token(), tokens[k]+1)
		}
	}
	if n := wtr.total() - before; n != 2 {
		t.Errorf("taking two locks of a revoked Session sent %d requests, want 2: each acquire names the dead Session", n)
	}
}

// A holder whose Session renewals stop reaching the table (a pause, a
// partition) is in danger, every lock at once, before a waiter can revoke
// its Session; once revoked, its next renewal tells it, within a period,
// that every lock is lost; its guarded writes are refused before anyone has
// taken the locks; and it takes no more locks.
func TestSynctestSessionLeaseRevoked(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx := context.Background()
		db := dynamutextest.New()
		htr := newTap(db)
		var cut atomic.Bool
		htr.setFault(func(op, key string, in any) fault {
			return sessionOutage(&cut, key, fault{block: true})
		})
		var ev sessionEvents
		h := memSession(t, htr, dynamutex.WithOwner("holder"), dynamutex.WithSessionLease(), dynamutex.WithObserver(&ev))
		defer h.Close(ctx)
		w := memSession(t, db, dynamutex.WithOwner("waiter"))
		defer w.Close(ctx)
		var ended [2]time.Time
		var ctxs [2]context.Context
		var ms [2]*dynamutex.Mutex
		for i, k := range []string{"k0", "k1"} {
			ms[i] = h.NewMutex(k)
			lctx, err := ms[i].Lock(ctx)
			if err != nil {
				t.Fatal(err)
			}
			ctxs[i] = lctx
			context.AfterFunc(ctxs[i], func() { ended[i] = time.Now() })
		}
		cut.Store(true)
		wctx, err := w.NewMutex("k0").Lock(ctx)
		if err != nil {
			t.Fatal(err)
		}
		taken := time.Now()
		synctest.Wait()
		for i, e := range ended {
			var de *dynamutex.DangerError
			if e.IsZero() || !e.Before(taken) || !errors.As(context.Cause(ctxs[i]), &de) {
				t.Errorf("lock %d ended at %v with %v; want in danger before the takeover at %v", i, e, context.Cause(ctxs[i]), taken)
			}
		}
		lk1 := mustLease(t, ctxs[1])
		err = lk1.GuardedWrite(ctx, types.TransactWriteItem{ConditionCheck: &types.ConditionCheck{
			TableName: aws.String("locks"), Key: map[string]types.AttributeValue{"key": avS("k0")},
			ConditionExpression: aws.String("attribute_exists(#k)"), ExpressionAttributeNames: map[string]string{"#k": "key"}}})
		var le *dynamutex.LostError
		if !errors.As(err, &le) || le.Reason != "session revoked" {
			t.Errorf("GuardedWrite under the revoked Session's untaken lock: %v, want a LostError, session revoked", err)
		}
		cut.Store(false)
		time.Sleep(dynamutex.DefaultHeartbeatPeriod)
		synctest.Wait()
		if r, l := ev.byKind[dynamutex.EventSessionRevoked].Load(), ev.byKind[dynamutex.EventLost].Load(); r != 1 || l != 2 {
			t.Errorf("%d EventSessionRevoked and %d EventLost, want 1 and 2 (one per lock)", r, l)
		}
		if _, err := h.NewMutex("k2").TryLock(ctx); !errors.Is(err, dynamutex.ErrSessionRevoked) {
			t.Errorf("TryLock after revocation: %v, want ErrSessionRevoked", err)
		}
		// Within a period of renewals resuming, both locks are known lost:
		// Unlock reports it without a request.
		before := htr.total()
		for i, m := range ms {
			var le *dynamutex.LostError
			if err := m.Unlock(ctx); !errors.As(err, &le) || le.Reason != "session revoked" {
				t.Errorf("Unlock of lock %d of the revoked Session: %v, want a LostError, session revoked", i, err)
			}
		}
		if n := htr.total() - before; n != 0 {
			t.Errorf("Unlock of lost locks sent %d requests, want 0: the loss was known", n)
		}
		if got, want := mustLease(t, wctx).Token(), mustLease(t, ctxs[0]).Token()+1; got != want {
			t.Errorf("the waiter's token %d, want %d", got, want)
		}
	})
}

// Under a declared clock bound a dead Session's first lock is taken, once
// its deadline has passed, with 4 requests: the refused write, a read of
// the Session record, its revocation and the take; every other lock of it
// with 1.
func TestSynctestSessionLeaseClockTakeover(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx := context.Background()
		db := dynamutextest.New()
		bound := dynamutex.WithClockBound(100 * time.Millisecond)
		a := memSession(t, db, dynamutex.WithSessionLease(), bound)
		for _, k := range []string{"k0", "k1"} {
			lockedCtxOf(t, a, k)
		}
		if err := a.Close(ctx); err != nil {
			t.Fatal(err)
		}
		time.Sleep(dynamutex.DefaultLeaseDuration + time.Second)
		tr := newTap(db)
		b := memSession(t, tr, dynamutex.WithSessionLease(), bound)
		defer b.Close(ctx)
		for _, c := range []struct {
			k    string
			want int
		}{{"k0", 4}, {"k1", 1}} {
			k, want := c.k, c.want
			before := tr.total()
			if _, err := b.NewMutex(k).TryLock(ctx); err != nil {
				t.Fatalf("TryLock %s past the dead Session's deadline: %v", k, err)
			}
			if n := tr.total() - before; n != want {
				t.Errorf("TryLock %s sent %d requests, want %d", k, n, want)
			}
		}
	})
}

// A renewal of the Session record whose reply is lost is recognised at the
// next attempt, as a lock's is: nothing is lost.
func TestSynctestSessionLeaseRenewalReplyLost(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx := context.Background()
		tr := newTap(dynamutextest.New())
		var dropped atomic.Int64
		tr.setFault(func(op, key string, in any) fault {
			if op == opRenew && isSessionKey(key) && dropped.Add(1) <= 2 {
				return fault{drop: true}
			}
			return fault{}
		})
		s := memSession(t, tr, dynamutex.WithSessionLease())
		defer s.Close(ctx)
		lctx := lockedCtxOf(t, s, "k")
		time.Sleep(4 * dynamutex.DefaultHeartbeatPeriod)
		synctest.Wait()
		if dropped.Load() < 3 || lctx.Err() != nil {
			t.Fatalf("after %d session renewals, two replies lost: lock context %v, want alive", dropped.Load(), context.Cause(lctx))
		}
	})
}

// Inspect names the Session that keeps a lock and tells whether it lives;
// List leaves the Session records out; Close with no lock held ends the
// Session record, so that readers see it has gone.
func TestSessionLeaseInspect(t *testing.T) {
	tr, table, _ := setup(t)
	ctx := ctxTimeout(t, time.Minute)
	s := newSession(t, tr, table, dynamutex.WithSessionLease(), dynamutex.WithOwner("leased"))
	m := s.NewMutex("k")
	if _, err := m.Lock(ctx); err != nil {
		t.Fatal(err)
	}
	r := newSession(t, tr, table)
	info, err := r.Inspect(ctx, "k")
	if err != nil || !isSessionKey(info.Session) || info.SessionEnded || info.Owner != "leased" || info.Free() {
		t.Fatalf("Inspect = %+v, %v; want held under a live Session", info, err)
	}
	n := 0
	for li, err := range r.List(ctx) {
		if err != nil {
			t.Fatal(err)
		}
		n++
		if li.Key != "k" || li.Session != info.Session {
			t.Errorf("List yields %+v, want only the lock k under %s", li, info.Session)
		}
	}
	if n != 1 {
		t.Errorf("List yielded %d records, want 1", n)
	}
	if err := m.Unlock(ctx); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(ctx); err != nil {
		t.Fatal(err)
	}
	item := getItem(t, tr, table, info.Session)
	if !attrBool(item, "released") {
		t.Errorf("the Session record after Close with no lock held: %v, want released", item)
	}
}

func lockedCtxOf(t *testing.T, s *dynamutex.Session, key string) context.Context {
	t.Helper()
	lctx, err := s.NewMutex(key).Lock(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return lctx
}

// Danger comes to every lock of the Session each time its renewals stop
// for the safe time, not only the first: a lock taken after the Session
// record recovered from one stall is put in danger by the next.
func TestSynctestSessionLeaseDangerAgain(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx := context.Background()
		tr := newTap(dynamutextest.New())
		var cut atomic.Bool
		tr.setFault(func(op, key string, in any) fault { return sessionOutage(&cut, key, fault{status: 500}) })
		s := memSession(t, tr, dynamutex.WithSessionLease())
		defer s.Close(ctx)
		first := lockedCtxOf(t, s, "k0")
		cut.Store(true)
		time.Sleep(dynamutex.DefaultSafeTime + time.Second)
		synctest.Wait()
		var de *dynamutex.DangerError
		if !errors.As(context.Cause(first), &de) {
			t.Fatalf("first lock after a stall past the safe time: %v, want in danger", context.Cause(first))
		}
		cut.Store(false)
		time.Sleep(dynamutex.DefaultHeartbeatPeriod)
		synctest.Wait()
		second := lockedCtxOf(t, s, "k1")
		if second.Err() != nil {
			t.Fatalf("a lock taken after the Session recovered: %v, want held", context.Cause(second))
		}
		cut.Store(true)
		time.Sleep(dynamutex.DefaultSafeTime + time.Second)
		synctest.Wait()
		if !errors.As(context.Cause(second), &de) {
			t.Errorf("second lock after the second stall: %v, want in danger", context.Cause(second))
		}
	})
}

// sessionEvents counts an Observer's events by kind, and those about the
// Session record.
type sessionEvents struct {
	byKind  [16]atomic.Int64
	session atomic.Int64
}

func (e *sessionEvents) Observe(ev dynamutex.Event) {
	e.byKind[ev.Kind].Add(1)
	if isSessionKey(ev.Key) {
		e.session.Add(1)
	}
}

// A Session record created with its reply lost is adopted, not created
// twice; renewals are reported for the Session record, and danger and
// loss for each lock, never for the Session record, so that an Observer
// counting locks counts only locks.
func TestSynctestSessionLeaseEvents(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx := context.Background()
		tr := newTap(dynamutextest.New())
		var dropped, cut atomic.Bool
		tr.setFault(func(op, key string, in any) fault {
			if op == opSession && dropped.CompareAndSwap(false, true) {
				return fault{drop: true}
			}
			return sessionOutage(&cut, key, fault{status: 500})
		})
		var ev sessionEvents
		s := memSession(t, tr, dynamutex.WithSessionLease(), dynamutex.WithObserver(&ev))
		defer s.Close(ctx)
		if n := tr.count(opSession); n != 2 {
			t.Errorf("NewSession sent %d creations after losing the first reply, want 2", n)
		}
		lockedCtxOf(t, s, "k0")
		lockedCtxOf(t, s, "k1")
		time.Sleep(2 * dynamutex.DefaultHeartbeatPeriod)
		synctest.Wait()
		if n := ev.byKind[dynamutex.EventRenewed].Load(); n != 2 || ev.session.Load() != 2 {
			t.Errorf("%d EventRenewed, %d events about the Session record in 2 periods; want 2 and 2", n, ev.session.Load())
		}
		cut.Store(true)
		time.Sleep(dynamutex.DefaultSafeTime)
		synctest.Wait()
		if n := ev.byKind[dynamutex.EventInDanger].Load(); n != 2 {
			t.Errorf("%d EventInDanger, want 2, one per lock", n)
		}
		if ev.byKind[dynamutex.EventSessionRevoked].Load() != 0 ||
			ev.session.Load() != 2+ev.byKind[dynamutex.EventRenewalFailed].Load() {
			t.Errorf("events about the Session record other than renewals: %d", ev.session.Load())
		}
	})
}
