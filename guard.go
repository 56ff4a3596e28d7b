package dynamutex

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/dynamutex/dynamutex/internal/wire"
)

// maxGuardedItems is how many items of the caller's fit in one
// TransactWriteItems request beside the guard: DynamoDB allows 100.
const maxGuardedItems = 99

// Guard returns a ConditionCheck on the lock record for the caller's own
// TransactWriteItems request. The transaction then commits only while this
// acquisition still holds the lock: the record still carries this Lease's
// token and owner and is not released. Any later acquisition, takeovers
// included, has a greater token, so a holder that was paused past its lease
// and taken over has its transaction refused, however late it wakes up.
//
// The guard names the token, not the record's version, so renewals by the
// heartbeat never make it fail. It does not look at clocks either: a lease
// in danger whose record nobody took over still passes, because no one else
// can have written under the lock.
//
// When the guard fails, the TransactionCanceledException has
// CancellationReasons[i].Code "ConditionalCheckFailed" at the guard's index
// i, and that reason's Item is the record that replaced ours. GuardedWrite
// does this bookkeeping for the common case. DynamoDB does not allow two
// items of one transaction on the same item, so the caller's items must not
// include the lock record. Build a new TransactWriteItemsInput for each
// request: the AWS SDK stores its idempotency token in the input, and
// DynamoDB refuses a token reused with other items
// (IdempotentParameterMismatchException).
//
// Under WithSessionLease the lock record of a revoked Session is unchanged
// until someone takes it, so Guard alone cannot refuse that Session's
// writes: use Guards, which adds a check on the Session record.
func (l *Lease) Guard() types.TransactWriteItem {
	return wire.Guard(wire.GuardArgs{Item: l.m.s.store.item(l.m.id), Token: l.token, Owner: l.m.s.cfg.owner})
}

// Guards returns the ConditionChecks that hold while this acquisition
// holds the lock, for the caller's own TransactWriteItems request: Guard
// alone, or, under WithSessionLease, Guard and a check that the Session
// record is not revoked. The Session record's check comes second; its
// cancellation reason's Item is the Session record.
func (l *Lease) Guards() []types.TransactWriteItem {
	g := []types.TransactWriteItem{l.Guard()}
	if l.underSession() {
		g = append(g, wire.SessionGuard(l.m.s.store.item(l.m.s.sl.m.id)))
	}
	return g
}

// GuardedWrite writes items (the caller's Put, Update, Delete or
// ConditionCheck items, 1 to 99 of them, or 98 under WithSessionLease, in
// any table) in one TransactWriteItems request together with Guards, so
// that they are written only if this acquisition still holds the lock when
// DynamoDB commits them.
//
// It returns nil when everything was written. Otherwise nothing was written
// and the error tells why:
//   - a *LostError (errors.Is(err, ErrLockLost)) when the lock is no longer
//     held: taken over, released or deleted, or its Session revoked. The
//     lock's context is cancelled with the same error.
//   - a *ConditionError (errors.Is(err, ErrConditionFailed)) when the lock
//     is held but the condition of one of the caller's items failed.
//   - the DynamoDB error, wrapped, in any other case. An error that leaves
//     the outcome unknown, such as a timeout, is retried by the AWS SDK's
//     retryer; the SDK sends one idempotency token for all its attempts, so
//     a retry cannot write twice.
//
// Each call makes exactly one request (plus the SDK's retries). Like every
// transaction it costs twice the capacity of plain writes: the caller's
// items, and the guard on the lock record (2 write units as DynamoDB Local
// reports it). GuardedWrite works after Unlock, but then fails with
// ErrLockLost ("record released").
func (l *Lease) GuardedWrite(ctx context.Context, items ...types.TransactWriteItem) error {
	guards := l.Guards()
	if most := maxGuardedItems + 1 - len(guards); len(items) == 0 || len(items) > most {
		return optionError("items", "GuardedWrite takes 1 to %d items, got %d", most, len(items))
	}
	all := make([]types.TransactWriteItem, 0, len(items)+len(guards))
	all = append(all, guards...)
	all = append(all, items...)
	_, err := l.m.s.store.client.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: all})
	if err == nil {
		return nil
	}
	var tc *types.TransactionCanceledException
	if !errors.As(err, &tc) || len(tc.CancellationReasons) != len(all) {
		return fmt.Errorf("dynamutex: guarded write under lock %q (token %d): %w", l.m.id.key, l.token, err)
	}
	for g, r := range tc.CancellationReasons[:len(guards)] {
		if aws.ToString(r.Code) != "ConditionalCheckFailed" {
			continue
		}
		le := lostFrom(l.m.id.key, l.token, r.Item)
		if g == 1 {
			le = &LostError{Key: l.m.id.key, Token: l.token, Reason: sessionLostError("", r.Item).Reason}
		}
		if l.state.Load() == stateHeld {
			// Cancel at once so the protected work stops now; the heartbeat's
			// next renewal finds the same record and marks the lease lost.
			l.cancel(le)
			l.m.s.log.Warn("dynamutex: guarded write refused: lock lost",
				append(l.attrs(), slog.String("reason", le.Error()))...)
		}
		return le
	}
	for i, r := range tc.CancellationReasons[len(guards):] {
		if aws.ToString(r.Code) == "ConditionalCheckFailed" {
			return &ConditionError{Key: l.m.id.key, Index: i, Item: r.Item, err: err}
		}
	}
	return fmt.Errorf("dynamutex: guarded write under lock %q (token %d): %w", l.m.id.key, l.token, err)
}
