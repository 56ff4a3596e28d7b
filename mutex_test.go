package dynamutex_test

import (
	"context"
	"errors"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/dynamutex/dynamutex"
	"github.com/dynamutex/dynamutex/dynamutextest"
)

// One round trip per operation, counted on the wire.
func TestRequestsPerOperation(t *testing.T) {
	c, tr := newClient(t)
	table := newTable(t, c)
	// A long heartbeat keeps renewals out of the Lock/Unlock counts.
	sess := newSession(t, c, table, dynamutex.WithLeaseDuration(30*time.Second),
		dynamutex.WithSafeTime(20*time.Second), dynamutex.WithHeartbeatPeriod(10*time.Second))
	m := sess.NewMutex("counted")
	ctx := ctxTimeout(t, 10*time.Second)

	before := tr.total()
	lctx, err := m.Lock(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if got := tr.total() - before; got != 1 || tr.count(opAcquire) != 1 {
		t.Fatalf("uncontended Lock made %d requests (%d acquire writes), want exactly 1 conditional write", got, tr.count(opAcquire))
	}
	if lctx.Err() != nil {
		t.Fatalf("fresh lock context is done: %v", context.Cause(lctx))
	}
	before = tr.total()
	if err := m.Unlock(ctx); err != nil {
		t.Fatal(err)
	}
	if got := tr.total() - before; got != 1 || tr.count(opRelease) != 1 {
		t.Fatalf("Unlock made %d requests (%d release writes), want exactly 1", got, tr.count(opRelease))
	}
	// Re-acquiring a released record is one write too: no read, no delete.
	before = tr.total()
	if _, err := m.Lock(ctx); err != nil {
		t.Fatal(err)
	}
	if got := tr.total() - before; got != 1 {
		t.Fatalf("Lock of a released record made %d requests, want 1", got)
	}
	if err := m.Unlock(ctx); err != nil {
		t.Fatal(err)
	}
}

// Each renewal is one request per held lock per period. In a synctest
// bubble, so that eight periods take no time and none runs late.
func TestRenewalRequests(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c, _, sess := setupOn(t, dynamutextest.New())
		ctx := ctxTimeout(t, 10*time.Second)
		const locks = 5
		var ms []*dynamutex.Mutex
		var ctxs []context.Context
		for i := range locks {
			m := sess.NewMutex("renew-" + strconv.Itoa(i))
			lctx, err := m.Lock(ctx)
			if err != nil {
				t.Fatal(err)
			}
			ms, ctxs = append(ms, m), append(ctxs, lctx)
		}
		start := c.count(opRenew)
		const periods = 8
		time.Sleep(periods * testHeartbeat)
		renewals := c.count(opRenew) - start
		// Each lock is renewed about once per period; the first renewal is
		// spread over the quarter period before the regular interval, so a
		// lock may be one renewal short.
		if lo, hi := locks*(periods-1), locks*periods; renewals < lo || renewals > hi {
			t.Fatalf("%d renewals for %d locks over %d periods, want %d..%d", renewals, locks, periods, lo, hi)
		}
		if other := c.total() - c.count(opRenew) - c.count(opAcquire) - c.count("DescribeTable") - c.count("DescribeTimeToLive") - c.count("CreateTable") - c.count("UpdateTimeToLive"); other != 0 {
			t.Fatalf("%d unexpected requests while holding locks", other)
		}
		for i, lctx := range ctxs {
			if lctx.Err() != nil {
				t.Fatalf("lock %d ended while renewals succeed: %v", i, context.Cause(lctx))
			}
			if err := ms[i].Unlock(ctx); err != nil {
				t.Fatal(err)
			}
		}
	})
}

// Two Sessions, several goroutines each: one holder at a time, tokens increasing.
func TestTwoSessionsMutualExclusion(t *testing.T) {
	c, _ := newClient(t)
	table := newTable(t, c)
	sessions := []*dynamutex.Session{newSession(t, c, table), newSession(t, c, table)}
	ctx := ctxTimeout(t, 60*time.Second)

	var inside atomic.Int32
	var mu sync.Mutex
	var tokens []uint64
	var wg sync.WaitGroup
	const perWorker = 5
	for _, sess := range sessions {
		m := sess.NewMutex("contended")
		for range 3 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for range perWorker {
					lctx, err := m.Lock(ctx)
					if err != nil {
						t.Error(err)
						return
					}
					if n := inside.Add(1); n != 1 {
						t.Errorf("%d holders at once", n)
					}
					l, _ := dynamutex.LeaseFrom(lctx)
					mu.Lock()
					tokens = append(tokens, l.Token())
					mu.Unlock()
					time.Sleep(2 * time.Millisecond)
					inside.Add(-1)
					if err := m.Unlock(ctx); err != nil {
						t.Error(err)
						return
					}
				}
			}()
		}
	}
	wg.Wait()
	if len(tokens) != 2*3*perWorker {
		t.Fatalf("%d acquisitions, want %d", len(tokens), 2*3*perWorker)
	}
	for i := 1; i < len(tokens); i++ {
		if tokens[i] != tokens[i-1]+1 {
			t.Fatalf("token %d = %d follows %d; want each acquisition to add exactly one", i, tokens[i], tokens[i-1])
		}
	}
}

// A record changed behind the holder's back cancels its context with ErrLockLost.
func TestStolenLockCancelsContext(t *testing.T) {
	c, table, sess := setup(t)
	m := sess.NewMutex("stolen")
	ctx := ctxTimeout(t, 10*time.Second)
	lctx, err := m.Lock(ctx)
	if err != nil {
		t.Fatal(err)
	}
	l, _ := dynamutex.LeaseFrom(lctx)
	// Another writer replaces the record, as a takeover would.
	putItem(t, c, table, heldRecord("stolen", "thief", l.Token()+1, 600*time.Millisecond))
	select {
	case <-lctx.Done():
	case <-time.After(5 * testHeartbeat):
		t.Fatal("lock context still open five heartbeats after the record was replaced")
	}
	cause := context.Cause(lctx)
	var lost *dynamutex.LostError
	if !errors.Is(cause, dynamutex.ErrLockLost) || !errors.As(cause, &lost) {
		t.Fatalf("cause = %v, want a *LostError wrapping ErrLockLost", cause)
	}
	if lost.Owner != "thief" || lost.NewToken != l.Token()+1 || lost.Token != l.Token() {
		t.Fatalf("LostError = %+v, want the thief and its token", lost)
	}
	// Unlock reports the loss, and must not touch the thief's record.
	if err := m.Unlock(ctx); !errors.Is(err, dynamutex.ErrLockLost) {
		t.Fatalf("Unlock after loss = %v, want ErrLockLost", err)
	}
	if item := getItem(t, c, table, "stolen"); attrS(item, "owner") != "thief" || attrBool(item, "released") {
		t.Fatalf("the thief's record was changed: %v", item)
	}
}

// A holder whose renewals hang gets ErrLeaseInDanger exactly at the safe
// time, and a waiter takes over only a lease after its first look, later.
// In a synctest bubble, where those instants are exact.
func TestBlockedRenewalsGiveDangerBeforeTakeover(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c1, table, holder := setupOn(t, dynamutextest.New())
		waiter := newSession(t, newTap(c1.db), table)
		ctx := ctxTimeout(t, 20*time.Second)

		hm := holder.NewMutex("danger")
		lockedAt := time.Now()
		lctx, err := hm.Lock(ctx)
		if err != nil {
			t.Fatal(err)
		}
		c1.setFault(func(op, _ string, _ any) fault { return fault{block: op == opRenew} })

		var takenAt time.Time
		done := make(chan error, 1)
		go func() {
			_, err := waiter.NewMutex("danger").Lock(ctx)
			takenAt = time.Now()
			done <- err
		}()

		<-lctx.Done()
		dangerAt := time.Now()
		if cause := context.Cause(lctx); !errors.Is(cause, dynamutex.ErrLeaseInDanger) {
			t.Fatalf("cause = %v, want ErrLeaseInDanger", cause)
		}
		if d := dangerAt.Sub(lockedAt); d != testSafe {
			t.Errorf("danger after %v, want the safe time %v", d, testSafe)
		}
		if err := <-done; err != nil {
			t.Fatalf("waiter: %v", err)
		}
		if d := takenAt.Sub(lockedAt); d != testLease {
			t.Errorf("waiter took over %v after the holder's acquisition, want the lease %v after its first look", d, testLease)
		}
	})
}

// An abandoned lock (holder gone without Unlock) is taken over exactly the
// record's lease after the waiter's first look, in a synctest bubble.
func TestAbandonedLockTakenOverAfterLease(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c, table, sess := setupOn(t, dynamutextest.New())
		// A record left by a crashed process: never renewed again.
		putItem(t, c, table, heldRecord("abandoned", "crashed", 41, 500*time.Millisecond))
		ctx := ctxTimeout(t, 10*time.Second)
		start := time.Now()
		before := c.count(opAcquire)
		lctx, err := sess.NewMutex("abandoned").Lock(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if waited := time.Since(start); waited != 500*time.Millisecond {
			t.Errorf("took over after %v, want the record's 500ms lease", waited)
		}
		l, _ := dynamutex.LeaseFrom(lctx)
		if l.Token() != 42 {
			t.Fatalf("token after takeover = %d, want 42", l.Token())
		}
		if attempts := c.count(opAcquire) - before; attempts != 2 {
			t.Errorf("%d acquire requests, want a failed attempt and a takeover", attempts)
		}
	})
}

// However long the backoff wants to sleep, a waiter wakes the moment a
// takeover becomes possible, in a synctest bubble.
func TestBackoffNeverSleepsPastTakeover(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c, table, sess := setupOn(t, dynamutextest.New(), dynamutex.WithBackoff(func() backoffPolicy { return constant(time.Hour) }))
		putItem(t, c, table, heldRecord("k", "crashed", 1, 300*time.Millisecond))
		ctx := ctxTimeout(t, 5*time.Second)
		start := time.Now()
		if _, err := sess.NewMutex("k").Lock(ctx); err != nil {
			t.Fatalf("Lock with an hour-long backoff: %v", err)
		}
		if took := time.Since(start); took != 300*time.Millisecond {
			t.Errorf("took over after %v, want the record's 300ms lease", took)
		}
		if got := c.count(opAcquire); got != 2 {
			t.Fatalf("%d acquire requests, want 2: one that fails, one takeover right after the lease", got)
		}
	})
}

// A live holder keeps changing its version, so a waiter never takes over;
// four leases of it, in a synctest bubble.
func TestLiveHolderNeverTakenOver(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c, table, holder := setupOn(t, dynamutextest.New())
		waiter := newSession(t, c, table)
		ctx := ctxTimeout(t, 10*time.Second)
		lctx, err := holder.NewMutex("live").Lock(ctx)
		if err != nil {
			t.Fatal(err)
		}
		wctx, cancel := context.WithTimeout(ctx, 4*testLease)
		defer cancel()
		_, err = waiter.NewMutex("live").Lock(wctx)
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("waiter Lock = %v, want DeadlineExceeded while the holder renews", err)
		}
		if lctx.Err() != nil {
			t.Fatalf("holder lost its lock: %v", context.Cause(lctx))
		}
	})
}

// Unlock releases the record even when the request's context has ended.
func TestUnlockWithCancelledContext(t *testing.T) {
	c, table, sess := setup(t)
	other := newSession(t, c, table)
	reqCtx, cancel := context.WithCancel(context.Background())
	m := sess.NewMutex("req")
	lctx, err := m.Lock(reqCtx)
	if err != nil {
		t.Fatal(err)
	}
	cancel()
	if cause := context.Cause(lctx); !errors.Is(cause, context.Canceled) {
		t.Fatalf("lock context cause after parent cancel = %v", cause)
	}
	if err := m.Unlock(reqCtx); err != nil {
		t.Fatalf("Unlock with a cancelled context: %v", err)
	}
	if c.count(opRelease) != 1 {
		t.Fatalf("%d release writes, want 1", c.count(opRelease))
	}
	if _, err := other.NewMutex("req").TryLock(ctxTimeout(t, 5*time.Second)); err != nil {
		t.Fatalf("record not released: %v", err)
	}
}

// Close cancels lock contexts and waiters promptly, and Lock after Close fails.
func TestCloseCancelsLocksAndWaiters(t *testing.T) {
	c, _ := newClient(t)
	table := newTable(t, c)
	sess, err := dynamutex.NewSession(context.Background(), c, table, fastOptions()...)
	if err != nil {
		t.Fatal(err)
	}
	ctx := ctxTimeout(t, 10*time.Second)
	m := sess.NewMutex("closing")
	lctx, err := m.Lock(ctx)
	if err != nil {
		t.Fatal(err)
	}
	waitErr := make(chan error, 1)
	go func() { _, err := sess.NewMutex("closing").Lock(ctx); waitErr <- err }()
	time.Sleep(20 * time.Millisecond)

	start := time.Now()
	if err := sess.Close(ctx); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-waitErr:
		if !errors.Is(err, dynamutex.ErrSessionClosed) {
			t.Fatalf("waiting Lock = %v, want ErrSessionClosed", err)
		}
	case <-time.After(time.Second):
		t.Fatal("waiting Lock did not return after Close")
	}
	t.Logf("Close and waiter return took %v", time.Since(start))
	if cause := context.Cause(lctx); !errors.Is(cause, dynamutex.ErrSessionClosed) {
		t.Fatalf("lock context cause = %v, want ErrSessionClosed", cause)
	}
	select {
	case <-sess.Done():
	default:
		t.Fatal("Done not closed after Close")
	}
	if _, err := sess.NewMutex("other").Lock(ctx); !errors.Is(err, dynamutex.ErrSessionClosed) {
		t.Fatalf("Lock after Close = %v, want ErrSessionClosed", err)
	}
	// Close leaves the record held; Unlock still releases it.
	if item := getItem(t, c, table, "closing"); attrBool(item, "released") {
		t.Fatal("Close released a record whose holder had not unlocked")
	}
	if err := m.Unlock(ctx); err != nil {
		t.Fatalf("Unlock after Close: %v", err)
	}
	if item := getItem(t, c, table, "closing"); !attrBool(item, "released") {
		t.Fatal("Unlock after Close did not release the record")
	}
	if err := sess.Close(ctx); err != nil {
		t.Fatalf("second Close: %v", err)
	}
}

// Goroutines of one Session exclude each other locally and wake without polling.
func TestLocalExclusionWithoutPolling(t *testing.T) {
	c, _, sess := setup(t)
	ctx := ctxTimeout(t, 10*time.Second)
	m1 := sess.NewMutex("local")
	m2 := sess.NewMutex("local") // a second Mutex on the same key shares the local queue
	if _, err := m1.Lock(ctx); err != nil {
		t.Fatal(err)
	}
	acquires := c.count(opAcquire)

	got := make(chan time.Time, 2)
	go func() {
		if _, err := m1.Lock(ctx); err != nil { // same *Mutex from another goroutine
			t.Error(err)
		}
		got <- time.Now()
	}()
	time.Sleep(3 * testHeartbeat)
	if n := c.count(opAcquire) - acquires; n != 0 {
		t.Fatalf("a local waiter made %d acquire requests while its own Session held the key", n)
	}
	if _, err := m2.TryLock(ctx); !errors.Is(err, dynamutex.ErrLocked) {
		t.Fatalf("TryLock of a key held in this Session = %v, want ErrLocked", err)
	}
	if n := c.count(opAcquire) - acquires; n != 0 {
		t.Fatalf("TryLock of a key held in this Session made %d requests", n)
	}
	released := time.Now()
	if err := m1.Unlock(ctx); err != nil {
		t.Fatal(err)
	}
	at := <-got
	if n := c.count(opAcquire) - acquires; n != 1 {
		t.Fatalf("the woken waiter made %d acquire requests, want 1", n)
	}
	t.Logf("local handoff took %v", at.Sub(released))
	if err := m2.Unlock(ctx); !errors.Is(err, dynamutex.ErrNotLocked) {
		t.Fatalf("Unlock of a Mutex that holds nothing = %v, want ErrNotLocked", err)
	}
	if err := m1.Unlock(ctx); err != nil {
		t.Fatal(err)
	}
	if err := m1.Unlock(ctx); !errors.Is(err, dynamutex.ErrNotLocked) {
		t.Fatalf("second Unlock = %v, want ErrNotLocked", err)
	}
}

func TestNotReentrant(t *testing.T) {
	_, _, sess := setup(t)
	m := sess.NewMutex("reentrant")
	ctx := ctxTimeout(t, 10*time.Second)
	if _, err := m.Lock(ctx); err != nil {
		t.Fatal(err)
	}
	short, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	if _, err := m.Lock(short); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("second Lock by the holder = %v, want it to block until its context ends", err)
	}
	if err := m.Unlock(ctx); err != nil {
		t.Fatal(err)
	}
}

// TryLock reports ErrLocked with the holder, and repeated TryLocks take an abandoned lock over.
func TestTryLock(t *testing.T) {
	c, table, holder := setup(t, dynamutex.WithOwner("holder-1"))
	prober := newSession(t, c, table)
	ctx := ctxTimeout(t, 10*time.Second)
	hm := holder.NewMutex("try", dynamutex.WithData([]byte("job 7")))
	hctx, err := hm.Lock(ctx)
	if err != nil {
		t.Fatal(err)
	}
	hl, _ := dynamutex.LeaseFrom(hctx)

	before := c.count(opAcquire)
	_, err = prober.NewMutex("try").TryLock(ctx)
	var held *dynamutex.HeldError
	if !errors.Is(err, dynamutex.ErrLocked) || !errors.As(err, &held) {
		t.Fatalf("TryLock = %v, want *HeldError", err)
	}
	if held.Owner != "holder-1" || held.Token != hl.Token() || held.Lease != testLease || held.Local {
		t.Fatalf("HeldError = %+v", held)
	}
	if n := c.count(opAcquire) - before; n != 1 {
		t.Fatalf("TryLock made %d requests, want 1", n)
	}

	// The holder goes away without unlocking; its lease runs out.
	if err := holder.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := prober.NewMutex("try").TryLock(ctx); !errors.Is(err, dynamutex.ErrLocked) {
		t.Fatalf("TryLock right after the holder stopped = %v, want ErrLocked", err)
	}
	time.Sleep(testLease + 50*time.Millisecond)
	pctx, err := prober.NewMutex("try").TryLock(ctx)
	if err != nil {
		t.Fatalf("TryLock a lease after the holder stopped renewing = %v, want the takeover", err)
	}
	pl, _ := dynamutex.LeaseFrom(pctx)
	if pl.Token() != hl.Token()+1 {
		t.Fatalf("takeover token %d, want %d", pl.Token(), hl.Token()+1)
	}
}

// Tokens increase across release, takeover and deletion of the record.
func TestFencingTokensSurviveReleaseAndDeletion(t *testing.T) {
	c, table, sess := setup(t)
	ctx := ctxTimeout(t, 10*time.Second)
	m := sess.NewMutex("fenced")
	token := func() uint64 {
		lctx, err := m.Lock(ctx)
		if err != nil {
			t.Fatal(err)
		}
		l, _ := dynamutex.LeaseFrom(lctx)
		if err := m.Unlock(ctx); err != nil {
			t.Fatal(err)
		}
		return l.Token()
	}
	startMicros := uint64(time.Now().UnixMicro())
	t1 := token()
	if t1 <= startMicros {
		t.Fatalf("first token %d not seeded from the clock (now %d µs)", t1, startMicros)
	}
	t2 := token()
	if t2 != t1+1 {
		t.Fatalf("token after release %d, want %d", t2, t1+1)
	}
	if item := getItem(t, c, table, "fenced"); !attrBool(item, "released") {
		t.Fatal("released record was not kept")
	}
	// TTL deletes the idle record.
	if _, err := c.DeleteItem(ctx, &dynamodb.DeleteItemInput{
		TableName: aws.String(table), Key: map[string]types.AttributeValue{"key": avS("fenced")},
	}); err != nil {
		t.Fatal(err)
	}
	time.Sleep(time.Millisecond)
	if t3 := token(); t3 <= t2 {
		t.Fatalf("token after the record was deleted %d, not above %d", t3, t2)
	}
}

// Data travels with the lock, and records carry a TTL attribute.
func TestDataAndExpiry(t *testing.T) {
	c, table, sess := setup(t)
	ctx := ctxTimeout(t, 10*time.Second)
	m := sess.NewMutex("with-data", dynamutex.WithData([]byte{0, 1, 2, 255}))
	lctx, err := m.Lock(ctx)
	if err != nil {
		t.Fatal(err)
	}
	l, _ := dynamutex.LeaseFrom(lctx)
	if d := l.Data(); string(d) != "\x00\x01\x02\xff" {
		t.Fatalf("Data = %v", d)
	}
	if l.Key() != "with-data" || l.Owner() != sess.Owner() || l.SortKey() != "" {
		t.Fatalf("lease = %q %q %q", l.Key(), l.Owner(), l.SortKey())
	}
	item := getItem(t, c, table, "with-data")
	exp, err := strconv.ParseInt(item[dynamutex.ExpiresAttribute].(*types.AttributeValueMemberN).Value, 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	if want := time.Now().Add(time.Hour).Unix(); exp < want-60 || exp > want+60 {
		t.Fatalf("expires_at = %d, want about now + 1h (%d)", exp, want)
	}
	ttl, err := c.DescribeTimeToLive(ctx, &dynamodb.DescribeTimeToLiveInput{TableName: aws.String(table)})
	if err != nil {
		t.Fatal(err)
	}
	if d := ttl.TimeToLiveDescription; d.TimeToLiveStatus != types.TimeToLiveStatusEnabled || aws.ToString(d.AttributeName) != dynamutex.ExpiresAttribute {
		t.Fatalf("TTL = %+v, want enabled on %s", d, dynamutex.ExpiresAttribute)
	}
	if _, ok := dynamutex.LeaseFrom(ctx); ok {
		t.Fatal("LeaseFrom found a lease in a plain context")
	}
	child, cancel := context.WithCancel(lctx)
	defer cancel()
	if cl, ok := dynamutex.LeaseFrom(child); !ok || cl != l {
		t.Fatal("LeaseFrom does not see the lease through a child context")
	}
	if err := m.Unlock(ctx); err != nil {
		t.Fatal(err)
	}
	// A later acquisition without data clears the old holder's data.
	if _, err := sess.NewMutex("with-data").Lock(ctx); err != nil {
		t.Fatal(err)
	}
	if _, ok := getItem(t, c, table, "with-data")["data"]; ok {
		t.Fatal("the previous holder's data survived an acquisition without data")
	}
}

func TestSortKeyTable(t *testing.T) {
	c, _ := newClient(t)
	table := newTable(t, c, dynamutex.WithPartitionKey("pk"), dynamutex.WithSortKey("sk"))
	sess := newSession(t, c, table, dynamutex.WithPartitionKey("pk"), dynamutex.WithSortKey("sk"))
	ctx := ctxTimeout(t, 10*time.Second)
	a := sess.NewMutex("tenant", dynamutex.WithSortKeyValue("a"))
	bm := sess.NewMutex("tenant", dynamutex.WithSortKeyValue("b"))
	if _, err := a.Lock(ctx); err != nil {
		t.Fatal(err)
	}
	lctx, err := bm.TryLock(ctx)
	if err != nil {
		t.Fatalf("a different sort-key value is a different lock: %v", err)
	}
	if l, _ := dynamutex.LeaseFrom(lctx); l.SortKey() != "b" {
		t.Fatalf("SortKey = %q", l.SortKey())
	}
	other := newSession(t, c, table, dynamutex.WithPartitionKey("pk"), dynamutex.WithSortKey("sk"))
	if _, err := other.NewMutex("tenant", dynamutex.WithSortKeyValue("a")).TryLock(ctx); !errors.Is(err, dynamutex.ErrLocked) {
		t.Fatalf("TryLock of a held (pk, sk) = %v, want ErrLocked", err)
	}
}
