package dynamutex_test

import (
	"context"
	"errors"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"go.uber.org/goleak"

	"github.com/dynamutex/dynamutex"
	"github.com/dynamutex/dynamutex/dynamutextest"
	"github.com/dynamutex/dynamutex/internal/localdb"
)

// dropFirst loses the reply of the first request of op, after DynamoDB applied it.
func dropFirst(op string) func(string, string, any) fault {
	var once sync.Once
	return func(got, _ string, _ any) fault {
		f := fault{}
		if got == op {
			once.Do(func() { f.drop = true })
		}
		return f
	}
}

// Writes whose replies were lost are recognised and adopted.
func TestLostRepliesAreAdopted(t *testing.T) {
	c, table, sess := setup(t)
	ctx := ctxTimeout(t, 10*time.Second)
	m := sess.NewMutex("lost-reply")

	c.setFault(dropFirst(opAcquire))
	lctx, err := m.Lock(ctx)
	if err != nil {
		t.Fatalf("Lock whose first reply was lost: %v", err)
	}
	if n := c.count(opAcquire); n != 2 {
		t.Fatalf("%d acquire requests, want 2 (the lost one and the retry that adopts it)", n)
	}
	l, _ := dynamutex.LeaseFrom(lctx)
	item := getItem(t, c, table, "lost-reply")
	if attrS(item, "owner") != sess.Owner() || item["token"].(*types.AttributeValueMemberN).Value != strconv.FormatUint(l.Token(), 10) {
		t.Fatalf("adopted lease token %d does not match the record %v", l.Token(), item)
	}

	c.setFault(dropFirst(opRenew))
	time.Sleep(6 * testHeartbeat) // well past the safe time: several renewals, the first reply lost
	if lctx.Err() != nil {
		t.Fatalf("lock ended after a lost renewal reply: %v", context.Cause(lctx))
	}

	c.setFault(dropFirst(opRelease))
	if err := m.Unlock(ctx); err != nil {
		t.Fatalf("Unlock whose first reply was lost: %v", err)
	}
	if !attrBool(getItem(t, c, table, "lost-reply"), "released") {
		t.Fatal("record not released")
	}
}

// Failing renewals are retried; a lock is lost only when its record changed.
func TestTransientRenewalErrorsAreRetried(t *testing.T) {
	c, _, sess := setup(t)
	ctx := ctxTimeout(t, 10*time.Second)
	m := sess.NewMutex("flaky")
	lctx, err := m.Lock(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	failures := 0
	c.setFault(func(op, _ string, _ any) fault {
		if op != opRenew {
			return fault{}
		}
		mu.Lock()
		defer mu.Unlock()
		failures++
		switch failures {
		case 1:
			return fault{status: 500}
		case 2:
			return fault{status: 400, errCode: "ThrottlingException"}
		case 3:
			return fault{status: 400, errCode: "ProvisionedThroughputExceededException"}
		}
		return fault{}
	})
	time.Sleep(8 * testHeartbeat)
	mu.Lock()
	n := failures
	mu.Unlock()
	if n < 4 {
		t.Fatalf("only %d renewal attempts", n)
	}
	if lctx.Err() != nil {
		t.Fatalf("lock ended after transient renewal errors: %v", context.Cause(lctx))
	}
	if err := m.Unlock(ctx); err != nil {
		t.Fatal(err)
	}
}

// One heartbeat goroutine for many locks, and a stuck renewal does not
// delay the others, in a synctest bubble: no renewal of the others runs
// late, however loaded the machine.
func TestStuckRenewalDoesNotDelayOthers(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		tr := newTap(dynamutextest.New())
		table := newTable(t, tr)
		base := runtime.NumGoroutine()
		const heartbeat, safe = 250 * time.Millisecond, time.Second
		sess := newSession(t, tr, table, dynamutex.WithParallelism(4), dynamutex.WithLeaseDuration(1500*time.Millisecond),
			dynamutex.WithSafeTime(safe), dynamutex.WithHeartbeatPeriod(heartbeat))
		ctx := ctxTimeout(t, 20*time.Second)
		const locks = 100
		ctxs := map[string]context.Context{}
		var ms []*dynamutex.Mutex
		for i := range locks {
			key := "many-" + strconv.Itoa(i)
			m := sess.NewMutex(key)
			lctx, err := m.Lock(ctx)
			if err != nil {
				t.Fatal(err)
			}
			ctxs[key] = lctx
			ms = append(ms, m)
		}
		// Goroutines: the heartbeat loop and up to parallelism renewals;
		// nothing per lock.
		if g := runtime.NumGoroutine() - base; g > 1+4 {
			t.Fatalf("%d goroutines for %d locks", g, locks)
		}
		tr.setFault(func(op, key string, _ any) fault {
			return fault{block: op == opRenew && key == "many-0"}
		})
		time.Sleep(safe + 3*heartbeat)
		if cause := context.Cause(ctxs["many-0"]); !errors.Is(cause, dynamutex.ErrLeaseInDanger) {
			t.Fatalf("stuck lock: cause %v, want ErrLeaseInDanger", cause)
		}
		for key, lctx := range ctxs {
			if key != "many-0" && lctx.Err() != nil {
				t.Fatalf("%s ended while only many-0 was stuck: %v", key, context.Cause(lctx))
			}
		}
		tr.setFault(nil)
		for _, m := range ms {
			if err := m.Unlock(ctx); err != nil {
				t.Fatal(err)
			}
		}
	})
}

// A renewal in flight when Unlock runs cannot revive the released record.
func TestReleaseWaitsForRenewalInFlight(t *testing.T) {
	c, table, sess := setup(t)
	ctx := ctxTimeout(t, 10*time.Second)
	m := sess.NewMutex("race")
	if _, err := m.Lock(ctx); err != nil {
		t.Fatal(err)
	}
	inFlight := make(chan struct{}, 1)
	c.setFault(func(op, _ string, _ any) fault {
		if op == opRenew {
			select {
			case inFlight <- struct{}{}:
			default:
			}
			return fault{delay: 50 * time.Millisecond}
		}
		return fault{}
	})
	<-inFlight
	if err := m.Unlock(ctx); err != nil {
		t.Fatal(err)
	}
	renewals := c.count(opRenew)
	time.Sleep(3 * testHeartbeat)
	if c.count(opRenew) != renewals {
		t.Fatal("renewals continued after Unlock")
	}
	if !attrBool(getItem(t, c, table, "race"), "released") {
		t.Fatal("record is not released after Unlock")
	}
}

// landUnheardThenHang is a fault for the acquire writes: the first lands
// and its reply is lost, later ones hang until their context ends, so
// that no retry can adopt the landed write before the caller gives up.
func landUnheardThenHang() func(op, key string, in any) fault {
	var acquires atomic.Int32
	return func(op, _ string, _ any) fault {
		if op != opAcquire {
			return fault{}
		}
		n := acquires.Add(1)
		return fault{drop: n == 1, block: n > 1}
	}
}

// A Lock abandoned while its write is in doubt leaves no held record behind.
func TestInDoubtAcquisitionIsReleased(t *testing.T) {
	c, table, sess := setup(t)
	ctx, cancel := context.WithCancel(context.Background())
	c.setFault(landUnheardThenHang())
	errc := make(chan error, 1)
	go func() { _, err := sess.NewMutex("doubt").Lock(ctx); errc <- err }()
	// The request is counted before it is sent: cancelling on the count
	// alone could stop it before it lands, leaving nothing in doubt.
	waitFor(t, 2*time.Second, "an acquire to land", func() bool { return len(getItem(t, c, table, "doubt")) > 0 })
	cancel()
	if err := <-errc; !errors.Is(err, context.Canceled) {
		t.Fatalf("Lock = %v, want context.Canceled", err)
	}
	waitFor(t, 2*time.Second, "the in-doubt record to be released", func() bool {
		return attrBool(getItem(t, c, table, "doubt"), "released")
	})
}

// Foreign or partial records give a clear error and are left untouched.
func TestForeignRecords(t *testing.T) {
	c, table, sess := setup(t)
	ctx := ctxTimeout(t, 10*time.Second)
	cases := map[string]map[string]types.AttributeValue{
		"foreign":       {"payload": avS("someone else's")},
		"version-num":   {"owner": avS("x"), "version": avN("7"), "token": avN("1"), "lease_ms": avN("100"), "released": avB(false)},
		"no-lease":      {"owner": avS("x"), "version": avS("v"), "token": avN("1"), "released": avB(false)},
		"released-str":  {"owner": avS("x"), "version": avS("v"), "token": avN("1"), "lease_ms": avN("100"), "released": avS("true")},
		"token-neg":     {"owner": avS("x"), "version": avS("v"), "token": avN("-5"), "lease_ms": avN("100"), "released": avB(false)},
		"lease-absurd":  {"owner": avS("x"), "version": avS("v"), "token": avN("1"), "lease_ms": avN("99999999999"), "released": avB(false)},
		"data-string":   {"owner": avS("x"), "version": avS("v"), "token": avN("1"), "lease_ms": avN("100"), "released": avB(false), "data": avS("d")},
		"owner-missing": {"version": avS("v"), "token": avN("1"), "lease_ms": avN("100"), "released": avB(false)},
	}
	for key, item := range cases {
		t.Run(key, func(t *testing.T) {
			item["key"] = avS(key)
			putItem(t, c, table, item)
			for _, try := range []func(context.Context) (context.Context, error){
				sess.NewMutex(key).TryLock, sess.NewMutex(key).Lock,
			} {
				_, err := try(ctx)
				var re *dynamutex.RecordError
				if !errors.Is(err, dynamutex.ErrCorruptRecord) || !errors.As(err, &re) || re.Key != key {
					t.Fatalf("got %v, want a *RecordError for %q", err, key)
				}
				if !strings.Contains(err.Error(), re.Attribute) {
					t.Fatalf("error %q does not name the attribute", err)
				}
			}
			got := getItem(t, c, table, key)
			if len(got) != len(item) {
				t.Fatalf("record changed: %v", got)
			}
		})
	}
}

// Close leaves no goroutine behind, even with locks held and waiters blocked.
func TestCloseLeavesNoGoroutines(t *testing.T) {
	ignore := goleak.IgnoreCurrent()
	c, tr := newClient(t)
	table := newTable(t, c)
	sess, err := dynamutex.NewSession(context.Background(), c, table, fastOptions()...)
	if err != nil {
		t.Fatal(err)
	}
	ctx := ctxTimeout(t, 10*time.Second)
	for i := range 20 {
		if _, err := sess.NewMutex("leak-" + strconv.Itoa(i)).Lock(ctx); err != nil {
			t.Fatal(err)
		}
	}
	tr.setFault(func(op, key string, _ any) fault { return fault{block: op == opRenew && key == "leak-3"} })
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); _, _ = sess.NewMutex("leak-1").Lock(ctx) }()
	time.Sleep(3 * testHeartbeat)
	if err := sess.Close(ctx); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	localdb.CloseIdle()
	goleak.VerifyNone(t, ignore)
}

// A renewal that lands but whose reply is lost leaves the record at the
// renewal's version while the lease still knows the previous one. Found by
// the soak with the tests' short heartbeat, whose renewal deadline a loaded
// machine overran: Unlock then reported ErrLockLost for a lock nobody else
// had touched, and left the record held until its lease ran out.
func TestUnlockAfterLostRenewalReply(t *testing.T) {
	c, table, sess := setup(t)
	ctx := ctxTimeout(t, 10*time.Second)
	var renewals atomic.Int32
	c.setFault(func(op, _ string, _ any) fault {
		if op != opRenew {
			return fault{}
		}
		if renewals.Add(1) == 1 {
			return fault{drop: true}
		}
		// Later attempts, which would find and adopt the landed one, fail
		// before reaching DynamoDB, so that Unlock runs while it is in doubt.
		return fault{status: 500}
	})
	m := sess.NewMutex("lost-renewal-reply")
	if _, err := m.Lock(ctx); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 5*time.Second, "a renewal retry after the lost reply", func() bool { return renewals.Load() >= 2 })
	before := c.count(opRelease)
	if err := m.Unlock(ctx); err != nil {
		t.Fatalf("Unlock after a renewal whose reply was lost: %v", err)
	}
	if item := getItem(t, c, table, m.Key()); !attrBool(item, "released") {
		t.Fatalf("record not released: %v", item)
	}
	if n := c.count(opRelease) - before; n != 1 {
		t.Fatalf("Unlock made %d release requests, want 1: the release names both versions that are ours", n)
	}
}

// A release that landed without a reply, after which another Session took
// the free record before the retry, is still a successful release: the retry
// finds a stranger's record within the holder's safe time, when nobody could
// have taken the lock over unless the release had landed. Found by the
// chaos harness, where such an Unlock reported ErrLockLost.
func TestReleaseLostReplyThenAcquiredElsewhere(t *testing.T) {
	c, table, sess := setup(t)
	other := newSession(t, c, table)
	ctx := ctxTimeout(t, 10*time.Second)
	m := sess.NewMutex("released-then-taken")
	if _, err := m.Lock(ctx); err != nil {
		t.Fatal(err)
	}
	om := other.NewMutex("released-then-taken")
	var releases atomic.Int32
	var taken context.Context
	var takeErr error
	c.setFault(func(op, _ string, _ any) fault {
		if op != opRelease {
			return fault{}
		}
		switch releases.Add(1) {
		case 1:
			return fault{drop: true}
		case 2:
			// Before the retry reaches DynamoDB, the other Session takes
			// the record the lost release freed.
			taken, takeErr = om.TryLock(ctx)
		}
		return fault{}
	})
	if err := m.Unlock(ctx); err != nil {
		t.Fatalf("Unlock whose release landed before another Session took the lock: %v", err)
	}
	if takeErr != nil {
		t.Fatalf("the other Session could not take the released lock: %v", takeErr)
	}
	if releases.Load() != 2 {
		t.Fatalf("%d release requests, want 2 (the lost one and its retry)", releases.Load())
	}
	if taken.Err() != nil {
		t.Fatalf("the other Session's lock ended: %v", context.Cause(taken))
	}
	c.setFault(nil)
	if err := om.Unlock(ctx); err != nil {
		t.Fatal(err)
	}
}

// A request refused as it stands (a 4xx that is not throttling, such as a
// ValidationException or missing permissions, which the SDK does not mark
// as client faults) fails Lock at once instead of being retried until the
// caller's context ends.
func TestRefusedRequestFailsAtOnce(t *testing.T) {
	for _, code := range []string{"ValidationException", "AccessDeniedException"} {
		t.Run(code, func(t *testing.T) {
			c, tr := newClient(t)
			table := newTable(t, c)
			s := newSession(t, c, table)
			ctx := ctxTimeout(t, 10*time.Second)
			tr.setFault(func(op, _ string, _ any) fault {
				if op == opAcquire {
					return fault{status: 400, errCode: code}
				}
				return fault{}
			})
			before := tr.count(opAcquire)
			_, err := s.NewMutex("k").Lock(ctx)
			if err == nil || !strings.Contains(err.Error(), code) {
				t.Fatalf("Lock = %v, want the %s", err, code)
			}
			if n := tr.count(opAcquire) - before; n != 1 {
				t.Errorf("%d acquire requests, want 1", n)
			}
			if ctx.Err() != nil {
				t.Errorf("Lock returned only when its context ended")
			}
		})
	}
}

// A waiter whose read is refused, as under an IAM policy without
// dynamodb:GetItem, fails at once with the refusal rather than reading
// again until its context ends; its one write found the holder.
func TestRefusedWaitingReadFailsAtOnce(t *testing.T) {
	_, table, holder := setup(t)
	ctx := ctxTimeout(t, 10*time.Second)
	hm := holder.NewMutex("k")
	if _, err := hm.Lock(ctx); err != nil {
		t.Fatal(err)
	}
	wc, wtr := newClient(t)
	waiter := newSession(t, wc, table)
	wtr.setFault(func(op, _ string, _ any) fault {
		if op == "GetItem" {
			return fault{status: 400, errCode: "AccessDeniedException"}
		}
		return fault{}
	})
	_, err := waiter.NewMutex("k").Lock(ctx)
	if err == nil || !strings.Contains(err.Error(), "AccessDeniedException") {
		t.Fatalf("Lock = %v, want the AccessDeniedException", err)
	}
	if w, r := wtr.count(opAcquire), wtr.count("GetItem"); w != 1 || r != 1 {
		t.Errorf("%d writes and %d reads, want 1 and 1", w, r)
	}
	if ctx.Err() != nil {
		t.Errorf("Lock returned only when its context ended")
	}
	if err := hm.Unlock(ctx); err != nil {
		t.Fatal(err)
	}
}
