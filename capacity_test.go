package dynamutex_test

import (
	"context"
	"errors"
	"math"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/dynamutex/dynamutex"
)

// Issue 4, points 1 and 2: what the library costs in capacity units and in
// requests while it waits. Every assertion is on a count or on capacity
// units, never on elapsed time.

// capacityClient asks DynamoDB for the capacity of every UpdateItem the
// library makes and adds it up per operation. Locking makes no read
// request at all, so this is also the only place a read could hide: in the
// capacity of a write.
type capacityClient struct {
	c *dynamodb.Client

	mu  sync.Mutex
	ops map[string]*opCapacity
}

type opCapacity struct {
	requests int
	// succeeded counts the replies without an error. On a loaded machine an
	// attempt can time out and its retry adopt it through a failed
	// condition; neither carries capacity.
	succeeded int
	// withCapacity counts the replies that carried ConsumedCapacity. A
	// failed condition comes back as an error, which has no room for it.
	withCapacity       int
	conditionFailed    int
	total, rcu, wcu    float64
	rcuSet, wcuSet     bool
	minUnits, maxUnits float64
}

func newCapacityClient(c *dynamodb.Client) *capacityClient {
	return &capacityClient{c: c, ops: map[string]*opCapacity{}}
}

var _ dynamutex.DynamoDBAPI = (*capacityClient)(nil)

func (cc *capacityClient) UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error) {
	// A copy, so that the library's input is left as the library built it.
	withCap := *in
	withCap.ReturnConsumedCapacity = types.ReturnConsumedCapacityTotal
	op := classifyRequest("DynamoDB_20120810.UpdateItem", map[string]any{"UpdateExpression": aws.ToString(in.UpdateExpression)})
	out, err := cc.c.UpdateItem(ctx, &withCap, optFns...)

	cc.mu.Lock()
	defer cc.mu.Unlock()
	oc := cc.ops[op]
	if oc == nil {
		oc = &opCapacity{minUnits: math.Inf(1), maxUnits: math.Inf(-1)}
		cc.ops[op] = oc
	}
	oc.requests++
	var ccf *types.ConditionalCheckFailedException
	if errors.As(err, &ccf) {
		oc.conditionFailed++
	}
	if err == nil {
		oc.succeeded++
	}
	if err == nil && out.ConsumedCapacity != nil {
		used := out.ConsumedCapacity
		oc.withCapacity++
		units := aws.ToFloat64(used.CapacityUnits)
		oc.total += units
		oc.minUnits, oc.maxUnits = min(oc.minUnits, units), max(oc.maxUnits, units)
		if used.ReadCapacityUnits != nil {
			oc.rcuSet = true
			oc.rcu += *used.ReadCapacityUnits
		}
		if used.WriteCapacityUnits != nil {
			oc.wcuSet = true
			oc.wcu += *used.WriteCapacityUnits
		}
	}
	return out, err
}

func (cc *capacityClient) DescribeTable(ctx context.Context, in *dynamodb.DescribeTableInput, optFns ...func(*dynamodb.Options)) (*dynamodb.DescribeTableOutput, error) {
	return cc.c.DescribeTable(ctx, in, optFns...)
}

func (cc *capacityClient) CreateTable(ctx context.Context, in *dynamodb.CreateTableInput, optFns ...func(*dynamodb.Options)) (*dynamodb.CreateTableOutput, error) {
	return cc.c.CreateTable(ctx, in, optFns...)
}

func (cc *capacityClient) UpdateTimeToLive(ctx context.Context, in *dynamodb.UpdateTimeToLiveInput, optFns ...func(*dynamodb.Options)) (*dynamodb.UpdateTimeToLiveOutput, error) {
	return cc.c.UpdateTimeToLive(ctx, in, optFns...)
}

func (cc *capacityClient) DescribeTimeToLive(ctx context.Context, in *dynamodb.DescribeTimeToLiveInput, optFns ...func(*dynamodb.Options)) (*dynamodb.DescribeTimeToLiveOutput, error) {
	return cc.c.DescribeTimeToLive(ctx, in, optFns...)
}

// take returns what op has consumed since the last take and starts afresh,
// so that each step of a test sees only its own requests.
// The reads and transactions of Inspect, List and GuardedWrite pass through
// uncounted: the capacity tests measure the locking protocol only.
func (cc *capacityClient) GetItem(ctx context.Context, in *dynamodb.GetItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error) {
	return cc.c.GetItem(ctx, in, optFns...)
}

func (cc *capacityClient) Scan(ctx context.Context, in *dynamodb.ScanInput, optFns ...func(*dynamodb.Options)) (*dynamodb.ScanOutput, error) {
	return cc.c.Scan(ctx, in, optFns...)
}

func (cc *capacityClient) TransactWriteItems(ctx context.Context, in *dynamodb.TransactWriteItemsInput, optFns ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error) {
	return cc.c.TransactWriteItems(ctx, in, optFns...)
}

func (cc *capacityClient) take(op string) opCapacity {
	cc.mu.Lock()
	defer cc.mu.Unlock()
	oc := cc.ops[op]
	delete(cc.ops, op)
	if oc == nil {
		return opCapacity{}
	}
	return *oc
}

// readOps are the DynamoDB operations that consume read capacity. None of
// them may ever be sent.
var readOps = []string{"GetItem", "BatchGetItem", "Query", "Scan", "TransactGetItems", "ExecuteStatement", "BatchExecuteStatement"}

func checkNoReads(t *testing.T, who string, tr *transport) {
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

// writeUnits is the write capacity of an UpdateItem reply. DynamoDB Local
// answers ReturnConsumedCapacity=TOTAL with CapacityUnits only, without the
// read/write split; an UpdateItem is charged in write units alone (its
// condition is evaluated without a read, and the ALL_OLD item of a failed
// condition costs no read units), so then CapacityUnits are write units.
func (oc opCapacity) writeUnits() float64 {
	if oc.wcuSet {
		return oc.wcu
	}
	return oc.total
}

func checkCapacity(t *testing.T, what string, oc opCapacity) {
	t.Helper()
	if oc.requests == 0 {
		t.Fatalf("%s: no request seen", what)
	}
	if oc.succeeded == 0 {
		t.Fatalf("%s: none of %d requests succeeded", what, oc.requests)
	}
	if oc.withCapacity != oc.succeeded {
		t.Fatalf("%s: %d of %d successful replies carried ConsumedCapacity; the endpoint does not report capacity for ReturnConsumedCapacity=TOTAL",
			what, oc.withCapacity, oc.succeeded)
	}
	if oc.rcu != 0 {
		t.Errorf("%s consumed %.2f read capacity units in %d requests, want 0", what, oc.rcu, oc.requests)
	}
	wcu := oc.writeUnits()
	if wcu <= 0 {
		t.Errorf("%s consumed %.2f write capacity units in %d requests, want more than 0", what, wcu, oc.requests)
	}
	split := "CapacityUnits only, no read/write split"
	if oc.rcuSet || oc.wcuSet {
		split = "split into read and write units"
	}
	t.Logf("%-30s %d request(s), %d succeeded, %.2f WCU per successful request (%.2f..%.2f), %.2f RCU; reply: %s",
		what+":", oc.requests, oc.succeeded, wcu/float64(oc.succeeded), oc.minUnits, oc.maxUnits, oc.rcu, split)
}

func TestConsumedCapacity(t *testing.T) {
	c, tr := newClient(t)
	cc := newCapacityClient(c)
	table := newTable(t, c)
	ctx := ctxTimeout(t, 30*time.Second)
	holder := newSession(t, cc, table)
	// The first writes to a table just created can be slow enough to time
	// out and be adopted by a retry, whose failed condition carries no
	// capacity: warm the table up before measuring.
	warm := holder.NewMutex("capacity-warm-up")
	for range 5 {
		if _, err := warm.Lock(ctx); err != nil {
			t.Fatal(err)
		}
		if err := warm.Unlock(ctx); err != nil {
			t.Fatal(err)
		}
	}
	cc.take(opAcquire)
	cc.take(opRelease)
	m := holder.NewMutex("capacity")

	lctx, err := m.Lock(ctx)
	if err != nil {
		t.Fatal(err)
	}
	checkCapacity(t, "uncontended Lock", cc.take(opAcquire))

	// The tests' heartbeat is 100 ms: wait for a few renewals to land.
	waitFor(t, 10*time.Second, "three renewals", func() bool {
		cc.mu.Lock()
		defer cc.mu.Unlock()
		oc := cc.ops[opRenew]
		return oc != nil && oc.withCapacity >= 3
	})

	// A failed acquisition by another Session. Its capacity cannot be
	// measured: the SDK returns it as *types.ConditionalCheckFailedException,
	// which has Message and Item but no ConsumedCapacity, and DynamoDB
	// Local's error body carries none either. DynamoDB documents that a
	// failed conditional write still consumes write units, by the larger of
	// the existing and the new item's size (at least 1), and that the
	// ALL_OLD item it returns costs no read units.
	waiterClient, waiterTr := newClient(t)
	wcc := newCapacityClient(waiterClient)
	waiter := newSession(t, wcc, table)
	if _, err := waiter.NewMutex("capacity").TryLock(ctx); !errors.Is(err, dynamutex.ErrLocked) {
		t.Fatalf("TryLock of a held key: %v, want ErrLocked", err)
	}
	failed := wcc.take(opAcquire)
	if failed.requests != 1 || failed.conditionFailed != 1 {
		t.Fatalf("contended TryLock: %d requests, %d condition failures; want 1 and 1", failed.requests, failed.conditionFailed)
	}

	if err := m.Unlock(ctx); err != nil {
		t.Fatal(err)
	}
	if lctx.Err() == nil {
		t.Fatal("lock context still live after Unlock")
	}
	checkCapacity(t, "renewal", cc.take(opRenew))
	checkCapacity(t, "Unlock", cc.take(opRelease))

	// Data beyond 1 KB makes every write of the record cost more units; it
	// shows the measurement follows the item size, as DynamoDB's does.
	big := holder.NewMutex("capacity-data", dynamutex.WithData(make([]byte, 1500)))
	if _, err := big.Lock(ctx); err != nil {
		t.Fatal(err)
	}
	checkCapacity(t, "Lock with 1.5 KB of data", cc.take(opAcquire))
	if err := big.Unlock(ctx); err != nil {
		t.Fatal(err)
	}
	checkCapacity(t, "Unlock with 1.5 KB of data", cc.take(opRelease))

	checkNoReads(t, "holder", tr)
	checkNoReads(t, "waiter", waiterTr)
	// Said in the log rather than as a skipped test: the count above is
	// what can be asserted.
	t.Logf("capacity of a failed conditional write is not measurable: %T carries no ConsumedCapacity "+
		"(its fields are Message, ErrorCodeOverride and Item); the attempt was 1 UpdateItem and no read",
		&types.ConditionalCheckFailedException{})
}

// The default backoff policy of Lock (defaultBackoff in options.go, not
// exported), for bounding request counts.
const (
	backoffInitial    = 250 * time.Millisecond
	backoffMultiplier = 1.5
	backoffJitter     = 0.5
)

func backoffCap(lease time.Duration) time.Duration { return min(time.Second, lease/4) }

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

// twoSessions opens a holder's and a waiter's Session on one fresh table,
// each with its own counting transport.
func twoSessions(t *testing.T) (*dynamutex.Session, *transport, *dynamutex.Session, *transport, context.Context) {
	t.Helper()
	hc, htr := newClient(t)
	table := newTable(t, hc)
	wc, wtr := newClient(t)
	return newSession(t, hc, table), htr, newSession(t, wc, table), wtr, ctxTimeout(t, 30*time.Second)
}

func TestContendedRequests(t *testing.T) {
	t.Run("live holder", func(t *testing.T) {
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
		// Past the starvation threshold (a quarter of the test lease) it
		// claims the next turn and re-asserts the claim every third of a
		// lease, never more often; giving up, it removes the claim.
		claims, most := wtr.count(opClaim), int(wait/(testLease/3))+1
		if claims < 1 || claims > most {
			t.Errorf("waiter made %d claim writes in %v, want 1..%d (one per third of a lease)", claims, wait, most)
		}
		waitFor(t, 5*time.Second, "the waiter's unclaim", func() bool { return wtr.count(opUnclaim) == 1 })
		if err := hm.Unlock(ctx); err != nil {
			t.Fatal(err)
		}
		checkNoReads(t, "holder", htr)
	})

	// A holder that stops writing, by a crash (its Session closed without
	// Unlock) or by renewals that no longer reach DynamoDB, is taken over
	// once the waiter has watched the record unchanged for a lease. The
	// waiter's first reply can take up to half a lease (its attempt
	// timeout), and the waiter never sleeps past the moment it may take
	// over, which is one more request.
	takeover := func(t *testing.T, stop func(t *testing.T, holder *dynamutex.Session, htr *transport)) {
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
		if lctx.Err() != nil {
			t.Fatalf("waiter's lock context ended: %v", context.Cause(lctx))
		}
		if err := wm.Unlock(ctx); err != nil {
			t.Fatal(err)
		}
		checkNoReads(t, "holder", htr)
	}
	t.Run("holder closed", func(t *testing.T) {
		takeover(t, func(t *testing.T, holder *dynamutex.Session, _ *transport) {
			// Close waits for renewals in flight, so the record is final.
			if err := holder.Close(context.Background()); err != nil {
				t.Fatal(err)
			}
		})
	})
	t.Run("renewals blocked", func(t *testing.T) {
		takeover(t, func(t *testing.T, _ *dynamutex.Session, htr *transport) {
			htr.setFault(func(op, _ string, _ map[string]any) fault { return fault{block: op == opRenew} })
			// Renewals of one lock are sent one after another, so once a
			// renewal counted after the fault was set has been sent (and
			// blocked), none is in flight that could still land.
			n := htr.count(opRenew)
			waitFor(t, 10*time.Second, "a blocked renewal", func() bool { return htr.count(opRenew) > n })
		})
	})
}

// The guard of a guarded write is one transactional item on the lock table:
// DynamoDB Local bills it 2 write units, as it bills a small Put in a
// transaction, twice the Put's 1 unit outside one.
func TestGuardCapacity(t *testing.T) {
	f := lockForGuard(t)
	lockTable := aws.ToString(f.l.Guard().ConditionCheck.TableName)
	out, err := f.c.TransactWriteItems(f.ctx, &dynamodb.TransactWriteItemsInput{
		TransactItems:          []types.TransactWriteItem{f.l.Guard(), putDoc(f.data, "doc", f.l.Token())},
		ReturnConsumedCapacity: types.ReturnConsumedCapacityTotal,
	})
	if err != nil {
		t.Fatal(err)
	}
	units := map[string]float64{}
	for _, cc := range out.ConsumedCapacity {
		units[aws.ToString(cc.TableName)] = aws.ToFloat64(cc.CapacityUnits)
	}
	if units[lockTable] != 2 || units[f.data] != 2 || len(units) != 2 {
		t.Errorf("consumed capacity %v, want 2 units on the lock table %s and 2 on the data table %s", units, lockTable, f.data)
	}
	if err := f.m.Unlock(f.ctx); err != nil {
		t.Fatal(err)
	}
}
