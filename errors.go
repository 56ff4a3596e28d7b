package dynamutex

import (
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// Sentinel errors. Compare with errors.Is: the library wraps them with details,
// and the typed errors below unwrap to them.
var (
	// ErrLocked means the lock is held by another owner (or by another Mutex of
	// this Session) and the call did not wait. TryLock returns it, as a
	// *HeldError that says who holds the lock.
	ErrLocked = errors.New("dynamutex: lock is held")

	// ErrLockLost is the cause of a lock context whose record was changed
	// behind the holder's back: taken over by a waiter after the lease ran out,
	// deleted, or overwritten. The holder must assume another process may be
	// acting under the lock. The cause is a *LostError with details.
	ErrLockLost = errors.New("dynamutex: lock lost")

	// ErrLeaseInDanger is the cause of a lock context whose last confirmed
	// renewal was sent longer ago than the safe time (WithSafeTime). The lock may
	// still be held, but a waiter could take it over once the lease runs out, so
	// the holder should stop its work and Unlock.
	ErrLeaseInDanger = errors.New("dynamutex: lease in danger")

	// ErrSessionClosed is returned by Lock and TryLock after Close, and is the
	// cause of every lock context that was open when the Session closed.
	ErrSessionClosed = errors.New("dynamutex: session closed")

	// ErrSessionRevoked is returned by Lock, TryLock and LockWithin on a
	// Session with WithSessionLease whose Session record another process
	// revoked, after watching it unrenewed for its lease or past its clock
	// deadline: every lock it held was lost together, and it can take no
	// more. Close it and start a new Session.
	ErrSessionRevoked = errors.New("dynamutex: session revoked")

	// ErrNotLocked is returned by Unlock when the Mutex holds no lock: a
	// mistake of the caller, like unlocking an unlocked sync.Mutex.
	ErrNotLocked = errors.New("dynamutex: not locked")

	// ErrUnlocked is the cause of a lock context that ended because Unlock
	// ran: the normal end of a lock, as context.Canceled is of a context.
	// No call returns it; it is only ever read with context.Cause, where
	// it tells a holder's own Unlock from danger, loss or Close. The two
	// names differ by what they describe: a state (not locked) against an
	// event (unlocked).
	ErrUnlocked = errors.New("dynamutex: unlocked")

	// ErrInvalidKey reports a lock key or sort-key value that DynamoDB would
	// refuse, or that does not match the table's key schema. It is returned
	// before any request is made.
	ErrInvalidKey = errors.New("dynamutex: invalid key")

	// ErrDataTooLarge reports data (WithData) that cannot fit in a DynamoDB item
	// together with the lock's own attributes. It is returned before any request.
	ErrDataTooLarge = errors.New("dynamutex: data too large")

	// ErrInvalidOption reports an invalid option or option combination, as an
	// *OptionError naming the option, such as
	// a heartbeat period that is not shorter than the safe time.
	ErrInvalidOption = errors.New("dynamutex: invalid option")

	// ErrTableNotFound is returned by NewSession when the table does not exist.
	ErrTableNotFound = errors.New("dynamutex: table not found")

	// ErrTableMismatch is returned by NewSession and CreateTable when the
	// table's key schema differs from the configured attribute names.
	ErrTableMismatch = errors.New("dynamutex: table key schema mismatch")

	// ErrConditionFailed reports that Lease.GuardedWrite wrote nothing
	// because the condition of one of the caller's own items failed while
	// the lock was still held. The error is a *ConditionError.
	ErrConditionFailed = errors.New("dynamutex: condition of a guarded item failed")

	// ErrNoRecord is returned by Session.Inspect for a key that has no
	// record: it was never locked, or DynamoDB's TTL deleted its idle record.
	ErrNoRecord = errors.New("dynamutex: no lock record")

	// ErrCorruptRecord reports a record in the lock table that neither this
	// library nor a known lock client (the Java and Python clients, see
	// HeldError.Client) wrote, or that is damaged: a missing attribute or one
	// of the wrong type. The record is left untouched. The error is a *RecordError.
	ErrCorruptRecord = errors.New("dynamutex: corrupt or foreign lock record")
)

// OptionError says which option or argument was refused, and why, before
// any request was made. It unwraps to ErrInvalidOption.
type OptionError struct {
	// Option names what was refused: an option function such as
	// "WithLeaseDuration", several of them for a combination
	// ("WithHeartbeatPeriod, WithSafeTime"), or an argument ("client",
	// "table").
	Option string
	// Reason says what is wrong, with the value: "lease duration must not
	// be negative, got -1s".
	Reason string
}

func (e *OptionError) Error() string {
	return "dynamutex: invalid option " + e.Option + ": " + e.Reason
}

// Unwrap makes errors.Is(err, ErrInvalidOption) true.
func (e *OptionError) Unwrap() error { return ErrInvalidOption }

// optionError builds an *OptionError.
func optionError(option, format string, args ...any) error {
	return &OptionError{Option: option, Reason: fmt.Sprintf(format, args...)}
}

// HeldError says who holds a lock that the caller could not take. It unwraps
// to ErrLocked.
type HeldError struct {
	Key   string        // the lock's partition-key value
	Owner string        // the holder's owner name
	Token uint64        // the holder's fencing token; 0 when held in this Session
	Lease time.Duration // the holder's lease duration; 0 when held in this Session
	// Local is true when the holder is another Mutex, or another goroutine, of
	// this Session; no request was made.
	Local bool
	// Reason is set when Lock stopped waiting for a reason other than its
	// context, such as the backoff policy (WithBackoff) giving up.
	Reason string
	// LastWrite is the holder's wall clock when it sent its last write to the
	// record, or zero when the record has none (a record written by an
	// earlier release, or a local holder). It is a hint, never a proof: the
	// holder's clock may be wrong. A record not written for much longer than
	// its Lease suggests a dead holder, which a Lock of this Session takes
	// over after watching it unchanged for a lease, and a TryLock of this
	// Session repeated a lease later does too.
	LastWrite time.Time
	// ClaimedBy is the owner of a waiter that has waited longer than the
	// starvation threshold and claimed the next turn, or "". While its claim
	// stands, only that waiter may take the lock, even once it is released.
	ClaimedBy string
	// Client names the lock client that wrote the holder's record: "" for
	// this library, "java" for the Java AmazonDynamoDBLockClient, "python"
	// for python-dynamodb-lock. Such a record has no token (Token is 0 unless
	// it carries this library's too) and no LastWrite; a Lock of this
	// Session takes it over after watching its version unchanged for Lease,
	// as that client's own waiters do.
	Client string
}

func (e *HeldError) Error() string {
	msg := fmt.Sprintf("dynamutex: lock %q is held by %q", e.Key, e.Owner)
	if e.Client != "" {
		msg += " of the " + e.Client + " lock client"
	}
	switch {
	case e.Local:
		msg += " in this session"
	case e.Client != "" && e.Token == 0:
		msg += fmt.Sprintf(" (lease %v)", e.Lease) // the client keeps no token
	default:
		msg += fmt.Sprintf(" (token %d, lease %v)", e.Token, e.Lease)
	}
	if e.ClaimedBy != "" {
		msg += fmt.Sprintf(", next turn claimed by %q", e.ClaimedBy)
	}
	if e.Reason != "" {
		msg += ": " + e.Reason
	}
	return msg
}

// Unwrap makes errors.Is(err, ErrLocked) true.
func (e *HeldError) Unwrap() error { return ErrLocked }

// LostError describes a lock whose record changed behind its holder. It is
// the cause of the lock context and unwraps to ErrLockLost.
type LostError struct {
	Key   string // the lock's partition-key value
	Token uint64 // the fencing token of the acquisition that was lost
	// Owner and NewToken describe the record found in its place. Both are zero
	// when the record was deleted or could not be decoded (see Reason).
	Owner    string
	NewToken uint64
	Reason   string // what was found: "taken over", "released", "deleted", ...
}

func (e *LostError) Error() string {
	msg := fmt.Sprintf("dynamutex: lock %q (token %d) lost: %s", e.Key, e.Token, e.Reason)
	if e.Owner != "" {
		msg += fmt.Sprintf(" by %q (token %d)", e.Owner, e.NewToken)
	}
	return msg
}

// Unwrap makes errors.Is(err, ErrLockLost) true.
func (e *LostError) Unwrap() error { return ErrLockLost }

// DangerError is the cause of a lock context that fell into danger: no
// renewal of the lock was confirmed within the safe time. It unwraps to
// ErrLeaseInDanger. Its fields tell the holder how long it has left to stop
// its work: no other process can take the lock over before Deadline.
type DangerError struct {
	Key   string        // the lock's partition-key value
	Token uint64        // the fencing token of the acquisition in danger
	Safe  time.Duration // the Session's safe time, which ran out
	Lease time.Duration // the lease written with the lock
	// Confirmed is when the last write of the lock that DynamoDB confirmed
	// was sent, on this process's clock (it carries a monotonic reading).
	// Danger comes at Confirmed + Safe, or later if the process was paused
	// then: after a pause longer than the lease, Deadline is already past.
	Confirmed time.Time
}

func (e *DangerError) Error() string {
	return fmt.Sprintf("%v: lock %q (token %d): no renewal confirmed within the safe time of %v",
		ErrLeaseInDanger, e.Key, e.Token, e.Safe)
}

// Unwrap makes errors.Is(err, ErrLeaseInDanger) true.
func (e *DangerError) Unwrap() error { return ErrLeaseInDanger }

// Deadline is Confirmed + Lease: the earliest moment at which another
// process may take the lock over, on this process's clock, as long as the
// clock rates of this machine and the taker's agree over one lease. Every
// write the holder sent later but never saw confirmed only moves the real
// earliest takeover later.
func (e *DangerError) Deadline() time.Time { return e.Confirmed.Add(e.Lease) }

// RecordError reports a lock record that cannot be decoded. It unwraps to
// ErrCorruptRecord.
type RecordError struct {
	Key       string // the lock's partition-key value
	Attribute string // the offending attribute
	Problem   string // what is wrong with it
}

func (e *RecordError) Error() string {
	return fmt.Sprintf("dynamutex: lock record %q is corrupt or was not written by dynamutex: attribute %q %s",
		e.Key, e.Attribute, e.Problem)
}

// Unwrap makes errors.Is(err, ErrCorruptRecord) true.
func (e *RecordError) Unwrap() error { return ErrCorruptRecord }

// ConditionError reports a GuardedWrite that wrote nothing because the
// condition of one of the caller's items failed; the lock was still held.
// It unwraps to ErrConditionFailed, and to the DynamoDB error.
type ConditionError struct {
	Key   string // the lock's partition-key value
	Index int    // which of the items passed to GuardedWrite failed, from 0
	// Item is the item as DynamoDB found it, when the failed item asked for
	// it with ReturnValuesOnConditionCheckFailure ALL_OLD; nil otherwise, or
	// when there was no item.
	Item map[string]types.AttributeValue
	err  error
}

func (e *ConditionError) Error() string {
	return fmt.Sprintf("dynamutex: guarded write under lock %q: the condition of item %d failed", e.Key, e.Index)
}

// Unwrap makes errors.Is(err, ErrConditionFailed) true and gives access to
// the TransactionCanceledException.
func (e *ConditionError) Unwrap() []error { return []error{ErrConditionFailed, e.err} }
