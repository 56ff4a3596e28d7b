package dynamutex_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/dynamutex/dynamutex"
)

// The default backoff policy of Lock (defaultBackoff in options.go, not
// exported), for bounding request counts.
const (
	backoffInitial    = 250 * time.Millisecond
	backoffMultiplier = 1.5
	backoffJitter     = 0.5
)

func backoffCap(lease time.Duration) time.Duration { return min(time.Second, lease/2) }

// maxAttempts bounds the requests one Lock call can send within window: the
// first write at once, then one read after each sleep, with every sleep as
// short as the jitter allows. Real sleeps are longer and requests take time,
// so the true count is lower.
func maxAttempts(window, lease time.Duration) int {
	capD := backoffCap(lease)
	cur := min(backoffInitial, capD)
	var slept time.Duration
	n := 1
	for {
		d := time.Duration((1 - backoffJitter) * float64(cur))
		if slept+d > window {
			return n
		}
		slept += d
		n++
		// As cenkalti/backoff grows its interval.
		if float64(cur) >= float64(capD)/backoffMultiplier {
			cur = capD
		} else {
			cur = time.Duration(float64(cur) * backoffMultiplier)
		}
	}
}

// readOps are the DynamoDB operations that consume read capacity. None of
// them may ever be sent.
var readOps = []string{"GetItem", "BatchGetItem", "Query", "Scan", "TransactGetItems", "ExecuteStatement", "BatchExecuteStatement"}

func checkNoReads(t *testing.T, who string, tr *tap) {
	t.Helper()
	for _, op := range readOps {
		if n := tr.count(op); n != 0 {
			t.Errorf("%s sent %d %s requests; the library must never read", who, n, op)
		}
	}
	if n := tr.count(opOther); n != 0 {
		t.Errorf("%s sent %d UpdateItem requests that are none of acquire, renew and release", who, n)
	}
}

// twoSessions opens a holder's and a waiter's Session on one fresh table,
// each with its own counting transport.
func twoSessions(t *testing.T) (*dynamutex.Session, *tap, *dynamutex.Session, *tap, context.Context) {
	t.Helper()
	hc, htr := newClient(t)
	table := newTable(t, hc)
	wc, wtr := newClient(t)
	return newSession(t, hc, table), htr, newSession(t, wc, table), wtr, ctxTimeout(t, 30*time.Second)
}

func TestContendedRequests(t *testing.T) {
	t.Run("live holder", checkLiveHolderRequests)
	t.Run("holder closed", func(t *testing.T) {
		checkTakeover(t, func(t *testing.T, holder *dynamutex.Session, _ *tap) {
			// Close waits for renewals in flight, so the record is final.
			if err := holder.Close(context.Background()); err != nil {
				t.Fatal(err)
			}
		})
	})
	t.Run("renewals blocked", func(t *testing.T) {
		checkTakeover(t, func(t *testing.T, _ *dynamutex.Session, htr *tap) {
			htr.setFault(func(op, _ string, _ any) fault { return fault{block: op == opRenew} })
			// Renewals of one lock are sent one after another, so once a
			// renewal counted after the fault was set has been sent (and
			// blocked), none is in flight that could still land.
			n := htr.count(opRenew)
			waitFor(t, 10*time.Second, "a blocked renewal", func() bool { return htr.count(opRenew) > n })
		})
	})
}

// checkLiveHolderRequests counts the requests of a waiter that gives up on
// a lock its holder keeps renewing.
func checkLiveHolderRequests(t *testing.T) {
	holder, htr, waiter, wtr, ctx := twoSessions(t)
	hm := holder.NewMutex("contended")
	hctx, err := hm.Lock(ctx)
	if err != nil {
		t.Fatal(err)
	}

	const wait = 3 * time.Second
	before := wtr.count(opAcquire)
	start := time.Now()
	wctx, cancel := context.WithTimeout(ctx, wait)
	_, err = waiter.NewMutex("contended").Lock(wctx)
	cancel()
	elapsed := time.Since(start)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("waiter's Lock: %v, want context.DeadlineExceeded while the holder renews", err)
	}
	writes, reads := wtr.count(opAcquire)-before, wtr.count("GetItem")
	if hctx.Err() != nil {
		t.Fatalf("holder's lock ended while it renewed: %v", context.Cause(hctx))
	}
	hi := maxAttempts(wait, testLease)
	t.Logf("waiter: %d write and %d reads in %v (%.1f reads per second); bound %d from backoff 250 ms ×1.5 ±50 %% capped at %v",
		writes, reads, elapsed.Round(time.Millisecond), float64(reads)/elapsed.Seconds(), hi, backoffCap(testLease))
	// While the lock is held elsewhere a waiter writes nothing: it
	// reads until a read shows the record free or ready to be taken.
	if writes != 1 || reads < 2 || reads+writes > hi {
		t.Errorf("waiter made %d writes and %d reads in %v, want 1 write and 2..%d reads", writes, reads, wait, hi-1)
	}
	// It never claims the next turn, though it waits five leases, far
	// past the starvation threshold: the lock never changed hands while
	// it waited, so no one competes for the turn, and with no claim to
	// remove, giving up writes nothing either.
	if n := wtr.count(opClaim); n != 0 {
		t.Errorf("waiter made %d claim writes in %v behind one holder, want none", n, wait)
	}
	time.Sleep(testLease)
	if n := wtr.count(opUnclaim); n != 0 {
		t.Errorf("waiter made %d unclaim writes, want none: it never claimed", n)
	}
	if err := hm.Unlock(ctx); err != nil {
		t.Fatal(err)
	}
	checkNoReads(t, "holder", htr)
}

// A holder that stops writing, by a crash (its Session closed without
// Unlock) or by renewals that no longer reach DynamoDB, is taken over
// once the waiter has watched the record unchanged for a lease. The
// waiter's first reply can take up to half a lease (its attempt
// timeout), and the waiter never sleeps past the moment it may take
// over, which is one more request.
func checkTakeover(t *testing.T, stop func(t *testing.T, holder *dynamutex.Session, htr *tap)) {
	holder, htr, waiter, wtr, ctx := twoSessions(t)
	hm := holder.NewMutex("abandoned")
	hctx, err := hm.Lock(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// Let a renewal or two land, so the record is not the acquire's.
	waitFor(t, 10*time.Second, "a renewal", func() bool { return htr.count(opRenew) >= 2 })
	stop(t, holder, htr)

	before := wtr.count(opAcquire)
	start := time.Now()
	wm := waiter.NewMutex("abandoned")
	lctx, err := wm.Lock(ctx)
	if err != nil {
		t.Fatalf("waiter's Lock: %v", err)
	}
	elapsed := time.Since(start)
	writes, reads := wtr.count(opAcquire)-before, wtr.count("GetItem")
	hi := maxAttempts(testLease+testLease/2, testLease) + 1
	t.Logf("takeover after %v with %d writes and %d reads (bound %d); holder's context: %v",
		elapsed.Round(time.Millisecond), writes, reads, hi, context.Cause(hctx))
	// The first write finds the holder; the next write is the takeover,
	// sent only once a read has shown the record unchanged for a lease.
	if writes != 2 || reads < 1 || reads+writes > hi {
		t.Errorf("takeover took %d writes and %d reads, want 2 writes and 1..%d reads", writes, reads, hi-2)
	}
	// Nobody else wanted the lock, so the waiter never claimed the next
	// turn: the takeover was its second write of any kind.
	if n := wtr.count(opClaim); n != 0 {
		t.Errorf("waiter made %d claim writes behind a silent holder, want none", n)
	}
	if lctx.Err() != nil {
		t.Fatalf("waiter's lock context ended: %v", context.Cause(lctx))
	}
	if err := wm.Unlock(ctx); err != nil {
		t.Fatal(err)
	}
	checkNoReads(t, "holder", htr)
}
