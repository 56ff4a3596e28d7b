//go:build dynamodblocal

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

// These tests need DynamoDB Local: they count the capacity units of the
// library's requests, which DynamoDB reports (ReturnConsumedCapacity) and
// the in-memory store does not.

// What the library costs in capacity units while it locks and waits. Every
// assertion is on a count or on capacity units, never on elapsed time.

// capacityClient asks DynamoDB for the capacity of every UpdateItem and
// GetItem the library makes and adds it up per operation: by kind of write
// (opAcquire, ...) and "GetItem" for a waiter's reads.
type capacityClient struct {
	c testDB

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

func newCapacityClient(c testDB) *capacityClient {
	return &capacityClient{c: c, ops: map[string]*opCapacity{}}
}

func (cc *capacityClient) UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error) {
	// A copy, so that the library's input is left as the library built it.
	withCap := *in
	withCap.ReturnConsumedCapacity = types.ReturnConsumedCapacityTotal
	out, err := cc.c.UpdateItem(ctx, &withCap, optFns...)
	var used *types.ConsumedCapacity
	if err == nil {
		used = out.ConsumedCapacity
	}
	cc.record(classifyUpdate(aws.ToString(in.UpdateExpression)), used, err)
	return out, err
}

func (cc *capacityClient) GetItem(ctx context.Context, in *dynamodb.GetItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error) {
	withCap := *in
	withCap.ReturnConsumedCapacity = types.ReturnConsumedCapacityTotal
	out, err := cc.c.GetItem(ctx, &withCap, optFns...)
	var used *types.ConsumedCapacity
	if err == nil {
		used = out.ConsumedCapacity
	}
	cc.record("GetItem", used, err)
	return out, err
}

// record adds one request of op, its outcome and the capacity its reply
// carried (nil for none).
func (cc *capacityClient) record(op string, used *types.ConsumedCapacity, err error) {
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
	if used == nil {
		return
	}
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

// The scans and transactions of List and GuardedWrite pass through
// uncounted: the capacity tests measure the locking protocol only.
func (cc *capacityClient) Scan(ctx context.Context, in *dynamodb.ScanInput, optFns ...func(*dynamodb.Options)) (*dynamodb.ScanOutput, error) {
	return cc.c.Scan(ctx, in, optFns...)
}

func (cc *capacityClient) BatchGetItem(ctx context.Context, in *dynamodb.BatchGetItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.BatchGetItemOutput, error) {
	return cc.c.BatchGetItem(ctx, in, optFns...)
}

func (cc *capacityClient) TransactWriteItems(ctx context.Context, in *dynamodb.TransactWriteItemsInput, optFns ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error) {
	return cc.c.TransactWriteItems(ctx, in, optFns...)
}

// take returns what op has consumed since the last take and starts afresh,
// so that each step of a test sees only its own requests.
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
	r := &capacityRig{cc: cc, table: table, ctx: ctxTimeout(t, 30*time.Second)}
	r.holder = newSession(t, cc, table)
	r.warmUp(t)
	m := r.holder.NewMutex("capacity")

	lctx, err := m.Lock(r.ctx)
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

	waiterTr := r.failedTryLock(t)

	if err := m.Unlock(r.ctx); err != nil {
		t.Fatal(err)
	}
	if lctx.Err() == nil {
		t.Fatal("lock context still live after Unlock")
	}
	checkCapacity(t, "renewal", cc.take(opRenew))
	checkCapacity(t, "Unlock", cc.take(opRelease))

	r.bigData(t)

	checkNoReads(t, "holder", tr)
	checkNoReads(t, "waiter", waiterTr)
	// Said in the log rather than as a skipped test: the count above is
	// what can be asserted.
	t.Logf("capacity of a failed conditional write is not measurable: %T carries no ConsumedCapacity "+
		"(its fields are Message, ErrorCodeOverride and Item); the attempt was 1 UpdateItem and no read",
		&types.ConditionalCheckFailedException{})
}

// capacityRig is TestConsumedCapacity's table and the holder's Session,
// whose requests cc measures.
type capacityRig struct {
	cc     *capacityClient
	table  string
	ctx    context.Context
	holder *dynamutex.Session
}

func (r *capacityRig) warmUp(t *testing.T) {
	// The first writes to a table just created can be slow enough to time
	// out and be adopted by a retry, whose failed condition carries no
	// capacity: warm the table up before measuring.
	warm := r.holder.NewMutex("capacity-warm-up")
	for range 5 {
		if _, err := warm.Lock(r.ctx); err != nil {
			t.Fatal(err)
		}
		if err := warm.Unlock(r.ctx); err != nil {
			t.Fatal(err)
		}
	}
	r.cc.take(opAcquire)
	r.cc.take(opRelease)
}

// failedTryLock makes another Session's TryLock fail on the held key and
// returns that Session's transport.
func (r *capacityRig) failedTryLock(t *testing.T) *tap {
	// A failed acquisition by another Session. Its capacity cannot be
	// measured: the SDK returns it as *types.ConditionalCheckFailedException,
	// which has Message and Item but no ConsumedCapacity, and DynamoDB
	// Local's error body carries none either. DynamoDB documents that a
	// failed conditional write still consumes write units, by the larger of
	// the existing and the new item's size (at least 1), and that the
	// ALL_OLD item it returns costs no read units.
	waiterClient, waiterTr := newClient(t)
	wcc := newCapacityClient(waiterClient)
	waiter := newSession(t, wcc, r.table)
	if _, err := waiter.NewMutex("capacity").TryLock(r.ctx); !errors.Is(err, dynamutex.ErrLocked) {
		t.Fatalf("TryLock of a held key: %v, want ErrLocked", err)
	}
	failed := wcc.take(opAcquire)
	if failed.requests != 1 || failed.conditionFailed != 1 {
		t.Fatalf("contended TryLock: %d requests, %d condition failures; want 1 and 1", failed.requests, failed.conditionFailed)
	}
	return waiterTr
}

func (r *capacityRig) bigData(t *testing.T) {
	// Data beyond 1 KB makes every write of the record cost more units; it
	// shows the measurement follows the item size, as DynamoDB's does.
	big := r.holder.NewMutex("capacity-data", dynamutex.WithData(make([]byte, 1500)))
	if _, err := big.Lock(r.ctx); err != nil {
		t.Fatal(err)
	}
	checkCapacity(t, "Lock with 1.5 KB of data", r.cc.take(opAcquire))
	if err := big.Unlock(r.ctx); err != nil {
		t.Fatal(err)
	}
	checkCapacity(t, "Unlock with 1.5 KB of data", r.cc.take(opRelease))
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

// A waiter's read is one strongly consistent read of an item under 4 KB: one
// read unit, a fifth of the price of the failed conditional write that a
// poll used to be, with 1.5 KB of data in the record as without.
func TestWaitingReadCapacity(t *testing.T) {
	_, table, holder := setup(t)
	ctx := ctxTimeout(t, 30*time.Second)
	wc, _ := newClient(t)
	cc := newCapacityClient(wc)
	waiter := newSession(t, cc, table)
	for _, data := range []int{0, 1500} {
		key := "capacity-" + string(rune('a'+data%7))
		hm := holder.NewMutex(key, dynamutex.WithData(make([]byte, data)))
		if _, err := hm.Lock(ctx); err != nil {
			t.Fatal(err)
		}
		wctx, cancel := context.WithTimeout(ctx, time.Second)
		_, err := waiter.NewMutex(key).Lock(wctx)
		cancel()
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("waiter's Lock = %v, want the deadline while the holder renews", err)
		}
		reads := cc.take("GetItem")
		if reads.withCapacity < 2 || reads.total != float64(reads.withCapacity) || reads.maxUnits != 1 {
			t.Errorf("%d bytes of data: %d reads cost %.1f units (at most %.1f each), want 1 each",
				data, reads.withCapacity, reads.total, reads.maxUnits)
		}
		t.Logf("%d bytes of data: %d waiting reads, %.1f read units", data, reads.withCapacity, reads.total)
		if err := hm.Unlock(ctx); err != nil {
			t.Fatal(err)
		}
	}
}
