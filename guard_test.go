package dynamutex_test

import (
	"context"
	"errors"
	"strconv"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/dynamutex/dynamutex"
)

// putDoc is the caller's own write in the guarded-write tests: a document
// in a data table, stamped with the writer's token.
func putDoc(table, id string, token uint64) types.TransactWriteItem {
	return types.TransactWriteItem{Put: &types.Put{
		TableName: aws.String(table),
		Item:      map[string]types.AttributeValue{"key": avS(id), "writer": avN(strconv.FormatUint(token, 10))},
	}}
}

// incDoc adds one to a counter in the data table.
func incDoc(table, id string) types.TransactWriteItem {
	return types.TransactWriteItem{Update: &types.Update{
		TableName:                 aws.String(table),
		Key:                       map[string]types.AttributeValue{"key": avS(id)},
		UpdateExpression:          aws.String("ADD n :one"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":one": avN("1")},
	}}
}

// guardFixture is a lock held by a fresh Session, and a data table for the
// caller's own items.
type guardFixture struct {
	c         testDB
	tr        *tap
	data      string
	m         *dynamutex.Mutex
	ctx, lctx context.Context
	l         *dynamutex.Lease
}

func lockForGuard(t *testing.T) *guardFixture {
	t.Helper()
	f := &guardFixture{}
	f.c, f.tr = newClient(t)
	table := newTable(t, f.c)
	f.data = newTable(t, f.c)
	f.m = newSession(t, f.c, table).NewMutex("k")
	f.ctx = ctxTimeout(t, 20*time.Second)
	var err error
	if f.lctx, err = f.m.Lock(f.ctx); err != nil {
		t.Fatal(err)
	}
	f.l = mustLease(t, f.lctx)
	return f
}

func mustLease(t *testing.T, ctx context.Context) *dynamutex.Lease {
	t.Helper()
	l, ok := dynamutex.LeaseFrom(ctx)
	if !ok {
		t.Fatal("LeaseFrom found no Lease in the lock context")
	}
	return l
}

// A holder whose renewals stop (as in a long pause) and whose lock is taken
// over has its guarded write refused, with ErrLockLost naming the new
// holder, and nothing written; the new holder's guarded write succeeds.
func TestGuardedWriteAfterTakeover(t *testing.T) {
	c, tr := newClient(t)
	table := newTable(t, c)
	data := newTable(t, c)
	a := newSession(t, c, table, dynamutex.WithOwner("paused"))
	cb, _ := newClient(t)
	b := newSession(t, cb, table, dynamutex.WithOwner("successor"))
	ctx := ctxTimeout(t, 20*time.Second)

	ma := a.NewMutex("ledger")
	actx, err := ma.Lock(ctx)
	if err != nil {
		t.Fatal(err)
	}
	la := mustLease(t, actx)
	// The pause: none of a's renewals reach DynamoDB from now on.
	tr.setFault(func(op, key string, in any) fault {
		return fault{block: op == opRenew}
	})

	mb := b.NewMutex("ledger")
	bctx, err := mb.Lock(ctx)
	if err != nil {
		t.Fatal(err)
	}
	lb := mustLease(t, bctx)

	err = la.GuardedWrite(ctx, putDoc(data, "doc", la.Token()))
	var le *dynamutex.LostError
	if !errors.Is(err, dynamutex.ErrLockLost) || !errors.As(err, &le) {
		t.Fatalf("stale holder's GuardedWrite = %v, want a *LostError", err)
	}
	if le.Owner != "successor" || le.NewToken != lb.Token() || le.Token != la.Token() {
		t.Errorf("LostError = %+v, want owner successor, new token %d, token %d", le, lb.Token(), la.Token())
	}
	if item := getItem(t, c, data, "doc"); item != nil {
		t.Fatalf("the stale holder's write landed: %v", item)
	}
	if cause := context.Cause(actx); !errors.Is(cause, dynamutex.ErrLockLost) && !errors.Is(cause, dynamutex.ErrLeaseInDanger) {
		t.Errorf("stale holder's context cause = %v, want lost or in danger", cause)
	}

	if err := lb.GuardedWrite(ctx, putDoc(data, "doc", lb.Token())); err != nil {
		t.Fatalf("new holder's GuardedWrite: %v", err)
	}
	if got := getItem(t, c, data, "doc")["writer"].(*types.AttributeValueMemberN).Value; got != strconv.FormatUint(lb.Token(), 10) {
		t.Errorf("doc written by token %s, want %d", got, lb.Token())
	}
	tr.setFault(nil)
	if err := mb.Unlock(ctx); err != nil {
		t.Fatal(err)
	}
	if err := ma.Unlock(ctx); !errors.Is(err, dynamutex.ErrLockLost) {
		t.Errorf("stale holder's Unlock = %v, want ErrLockLost", err)
	}
}

// After Unlock the guard refuses, even though nobody else took the lock.
func TestGuardedWriteAfterUnlock(t *testing.T) {
	f := lockForGuard(t)
	c, data, m, ctx, lctx, l := f.c, f.data, f.m, f.ctx, f.lctx, f.l
	if err := m.Unlock(ctx); err != nil {
		t.Fatal(err)
	}
	err := l.GuardedWrite(ctx, putDoc(data, "doc", l.Token()))
	var le *dynamutex.LostError
	if !errors.As(err, &le) || le.Reason != "record released" {
		t.Fatalf("GuardedWrite after Unlock = %v, want a *LostError for a released record", err)
	}
	if item := getItem(t, c, data, "doc"); item != nil {
		t.Fatalf("write after Unlock landed: %v", item)
	}
	if cause := context.Cause(lctx); !errors.Is(cause, dynamutex.ErrUnlocked) {
		t.Errorf("cause = %v, want ErrUnlocked to stay", cause)
	}
}

// Guarded writes made back to back while the heartbeat renews the lease
// every 100 ms never fail: the guard names the token, not the version that
// renewals change. Lost renewal replies, which leave the lease with a
// version in doubt, do not matter either.
func TestGuardedWriteDuringRenewals(t *testing.T) {
	f := lockForGuard(t)
	c, data, m, ctx, lctx, l := f.c, f.data, f.m, f.ctx, f.lctx, f.l
	tr := f.tr
	renewals := tr.count(opRenew)
	dropped := 0
	tr.setFault(func(op, key string, in any) fault {
		// Every third renewal lands without its reply.
		if op == opRenew {
			dropped++
			return fault{drop: dropped%3 == 0}
		}
		return fault{}
	})
	writes := 0
	transactions := tr.count("TransactWriteItems")
	for tr.count(opRenew)-renewals < 8 {
		if err := l.GuardedWrite(ctx, incDoc(data, "counter")); err != nil {
			t.Fatalf("guarded write %d, after %d renewals: %v", writes+1, tr.count(opRenew)-renewals, err)
		}
		writes++
	}
	tr.setFault(nil)
	if lctx.Err() != nil {
		t.Fatalf("lock context ended: %v", context.Cause(lctx))
	}
	if n := tr.count("TransactWriteItems") - transactions; n != writes {
		t.Errorf("%d guarded writes took %d requests, want one each", writes, n)
	}
	got := getItem(t, c, data, "counter")["n"].(*types.AttributeValueMemberN).Value
	if got != strconv.Itoa(writes) {
		t.Errorf("counter = %s after %d guarded writes", got, writes)
	}
	if err := m.Unlock(ctx); err != nil {
		t.Fatal(err)
	}
}

// The caller's own condition failing is told apart from a lost lock, and
// the lock stays held.
func TestGuardedWriteConditionFails(t *testing.T) {
	f := lockForGuard(t)
	c, data, m, ctx, lctx, l := f.c, f.data, f.m, f.ctx, f.lctx, f.l
	putItem(t, c, data, map[string]types.AttributeValue{"key": avS("doc"), "writer": avN("7")})
	create := putDoc(data, "doc", l.Token())
	create.Put.ConditionExpression = aws.String("attribute_not_exists(#k)")
	create.Put.ExpressionAttributeNames = map[string]string{"#k": "key"}
	create.Put.ReturnValuesOnConditionCheckFailure = types.ReturnValuesOnConditionCheckFailureAllOld

	err := l.GuardedWrite(ctx, incDoc(data, "other"), create)
	var ce *dynamutex.ConditionError
	if !errors.Is(err, dynamutex.ErrConditionFailed) || !errors.As(err, &ce) || errors.Is(err, dynamutex.ErrLockLost) {
		t.Fatalf("GuardedWrite = %v, want a *ConditionError only", err)
	}
	if ce.Index != 1 || attrS(ce.Item, "key") != "doc" {
		t.Errorf("ConditionError = index %d, item %v; want index 1 and the existing doc", ce.Index, ce.Item)
	}
	var tc *types.TransactionCanceledException
	if !errors.As(err, &tc) {
		t.Errorf("ConditionError does not unwrap to the TransactionCanceledException")
	}
	if item := getItem(t, c, data, "other"); item != nil {
		t.Errorf("the other item of the cancelled transaction was written: %v", item)
	}
	if lctx.Err() != nil {
		t.Errorf("lock context ended: %v", context.Cause(lctx))
	}
	if err := m.Unlock(ctx); err != nil {
		t.Fatal(err)
	}
}

// Guard goes into the caller's own TransactWriteItems request.
func TestGuardInOwnTransaction(t *testing.T) {
	f := lockForGuard(t)
	c, data, m, ctx, l := f.c, f.data, f.m, f.ctx, f.l
	in := &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{
		putDoc(data, "a", l.Token()), l.Guard(), putDoc(data, "b", l.Token()),
	}}
	if _, err := c.TransactWriteItems(ctx, in); err != nil {
		t.Fatalf("TransactWriteItems with the guard: %v", err)
	}
	if getItem(t, c, data, "a") == nil || getItem(t, c, data, "b") == nil {
		t.Fatal("guarded transaction did not write both items")
	}
	if err := m.Unlock(ctx); err != nil {
		t.Fatal(err)
	}
	// A new input: the SDK stored its idempotency token in the old one.
	in = &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{
		putDoc(data, "c", l.Token()), l.Guard(), putDoc(data, "b", l.Token()),
	}}
	_, err := c.TransactWriteItems(ctx, in)
	var tc *types.TransactionCanceledException
	if !errors.As(err, &tc) || len(tc.CancellationReasons) != 3 ||
		aws.ToString(tc.CancellationReasons[1].Code) != "ConditionalCheckFailed" {
		t.Fatalf("transaction after Unlock = %v, want the guard (index 1) to fail", err)
	}
	if !attrBool(tc.CancellationReasons[1].Item, "released") {
		t.Errorf("guard's cancellation reason carries %v, want the released record", tc.CancellationReasons[1].Item)
	}
	if getItem(t, c, data, "c") != nil {
		t.Error("a write of the refused transaction landed")
	}
}

func TestGuardedWriteItemCount(t *testing.T) {
	f := lockForGuard(t)
	ctx, l, tr := f.ctx, f.l, f.tr
	defer f.m.Unlock(ctx)
	before := tr.count("TransactWriteItems")
	if err := l.GuardedWrite(ctx); !errors.Is(err, dynamutex.ErrInvalidOption) {
		t.Errorf("GuardedWrite() = %v, want ErrInvalidOption", err)
	}
	if err := l.GuardedWrite(ctx, make([]types.TransactWriteItem, 100)...); !errors.Is(err, dynamutex.ErrInvalidOption) {
		t.Errorf("GuardedWrite(100 items) = %v, want ErrInvalidOption", err)
	}
	if n := tr.count("TransactWriteItems") - before; n != 0 {
		t.Errorf("%d requests for invalid input, want 0", n)
	}
}
