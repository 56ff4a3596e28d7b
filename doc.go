// Package dynamutex provides distributed locks on Amazon DynamoDB that behave
// like sync.Mutex and speak context.
//
// # Getting started
//
// Create the table once, from code ([CreateTable]: on-demand, TTL on, safe
// to call at every start) or with `dynamutex create-table`. A [Session] owns
// one heartbeat loop, whatever the number of locks, and hands out [Mutex]
// values:
//
//	func chargeInvoice(ctx context.Context, client *dynamodb.Client) (err error) {
//		s, err := dynamutex.NewSession(ctx, client, "locks")
//		if err != nil {
//			return err // such as ErrTableNotFound; there is no Session to close
//		}
//		defer s.Close(ctx)
//
//		m := s.NewMutex("invoice/42")
//		lctx, err := m.Lock(ctx) // blocks, with backoff, until held or ctx ends
//		if err != nil {
//			return err
//		}
//		defer func() {
//			// ErrLockLost: the work may have overlapped another holder's.
//			err = errors.Join(err, m.Unlock(ctx))
//		}()
//		return process(lctx) // lctx ends if the lock is lost or in danger
//	}
//
// Build the client as usual, with config.LoadDefaultConfig and
// dynamodb.NewFromConfig. For DynamoDB Local, set AWS_ENDPOINT_URL_DYNAMODB
// (with a region and any credentials): the SDK reads it, and no code
// changes.
//
// # The lock's context
//
// [Mutex.Lock] returns a child of its ctx that carries the [Lease] (see
// [LeaseFrom]: its key, fencing token and data). It is cancelled, with
// context.Cause saying why, when the lock is lost ([ErrLockLost]), when its
// last confirmed renewal is older than the safe time ([ErrLeaseInDanger]),
// when the Session closes ([ErrSessionClosed]), when Unlock runs
// ([ErrUnlocked]), or when the parent ends. There are no callbacks: pass the
// context to the work the lock protects and it stops on its own.
//
// Danger comes at least lease − safe time (5 s at the default 20 s lease)
// before any other process may take the lock over, so a holder that stops
// within that margin never overlaps the next one, as long as the two
// machines' clocks run at nearly the same rate. A holder frozen for longer
// (a stopped VM) cannot stop in time; the fencing token and
// [Lease.GuardedWrite] cover that case.
//
// [Mutex.Unlock] releases the record even when its ctx is already
// cancelled, so defer it with the request's ctx. Its error matters: one
// wrapping [ErrLockLost] means the lock had been lost, and the protected work
// may have overlapped another holder's. An Unlock that comes after the safe
// time records [ErrLeaseInDanger] rather than [ErrUnlocked] as the lock
// context's cause, so context.Cause tells afterwards whether the work may
// have overlapped another holder's.
//
// Lock's context is a child of ctx, so a ctx with a timeout bounds the lock as
// well as the wait. [Mutex.LockWithin] bounds the wait alone: it gives up after
// the wait it is given, with a [*HeldError] naming the holder, and the lock it
// grants lives on until Unlock, danger, loss or Close.
//
// [Mutex.TryLock] makes one attempt and returns [ErrLocked], as a
// [*HeldError] naming the holder, when the lock is held elsewhere.
//
// # Errors
//
// Compare with errors.Is; use errors.As for the typed errors that carry
// data:
//
//   - [ErrLocked]: [*HeldError], from TryLock and from a LockWithin whose wait ran out.
//   - [ErrLockLost]: [*LostError] (who took the lock over, with which token),
//     as a lock context's cause, from Unlock, and from [Lease.GuardedWrite].
//   - [ErrLeaseInDanger]: [*DangerError], as a lock context's cause; its
//     Deadline is the earliest moment another process may take over.
//   - [ErrConditionFailed]: [*ConditionError], from [Lease.GuardedWrite] when
//     the caller's own item's condition failed.
//   - [ErrCorruptRecord]: [*RecordError], for an item dynamutex did not
//     write, or a damaged one; it is left untouched.
//   - [ErrInvalidOption]: [*OptionError], naming the option or argument,
//     before any request is made.
//   - Plain sentinels: [ErrSessionClosed], [ErrUnlocked], [ErrNotLocked],
//     [ErrInvalidKey], [ErrDataTooLarge], [ErrTableNotFound],
//     [ErrTableMismatch], [ErrNoRecord].
//
// Bad input (an empty or oversized key, data that cannot fit in an item,
// invalid options, a missing table or a different key schema) is refused
// before any request.
//
// # Close
//
// [Session.Close] cancels every lock context and makes waiting Lock calls
// return [ErrSessionClosed]. It does not release records still held, since
// their holders may still be working: Unlock still works after Close, and a
// record never unlocked is taken over once its lease runs out. Close also
// finishes the clean-up of Lock calls that gave up. It is safe to call more
// than once.
//
// # Options
//
// [NewSession] takes functional options. The zero value of an option's
// argument means that option's default, as if the option were left out, and
// an out-of-range value is an [*OptionError] before any request
// ([WithClockBound](0) is a real declaration). The lease (20 s), heartbeat
// period (lease/4) and safe time (3/4 lease) follow each other: set one and
// the others keep the default proportions ([DeriveTimings]).
// [WithClockBound] lets a Session take over a crashed holder's lock at its
// first attempt once the holder's deadline has passed, which matters for
// one-shot callers such as AWS Lambda handlers and cron jobs.
// [WithSessionLease] keeps every lock a Session holds alive with one write
// per heartbeat period, at the price of losing them all together when the
// Session is revoked.
//
// # Fencing and guarded writes
//
// [Lease.Token] is strictly greater than every earlier token for the key,
// across releases and takeovers: give it to the store you write to and let
// it refuse lower ones. [Lease.GuardedWrite] writes DynamoDB items in one
// transaction with a condition on the lock record, so they commit only
// while the lock is held, with no timing assumption; [Lease.Guard] gives the
// bare condition for your own transactions.
//
// # Leader election
//
// [Session.NewElection] elects one leader among the Sessions that campaign
// under a name, on one lock record: [Election.Campaign] blocks until this
// Session leads and returns a context that ends as a lock's does;
// [Election.Proclaim] changes the leader's value without a new election;
// [Election.Leader] and [Election.Observe] read who leads, and never write.
//
// # Counting semaphores
//
// [Session.NewSemaphore] lets at most n holders across all processes hold
// one of its permits at once. Each permit is a lock record, held, renewed,
// fenced and taken over from a dead holder as a lock is;
// [Semaphore.Acquire] returns a context like Lock's and a [Permit] to
// release; its waiting is bounded by the same claims as Lock's.
//
// # Inspection and observability
//
// [Session.Inspect] and [Session.List] tell who holds what. Every lifecycle
// event is logged through log/slog ([WithLogger]) and handed to an optional
// [Observer] ([WithObserver]) for metrics, with wait time, latency, attempts
// and, for an acquisition, how the lock came ([AcquiredHow]: free, released,
// taken over by watching or by clock, adopted after a lost reply). The module
// github.com/dynamutex/dynamutex/otel is such an Observer for OpenTelemetry.
//
// # Sharing a table with the Java or Python lock client
//
// [WithFormat] makes a Session write the records that the Java
// AmazonDynamoDBLockClient ([FormatJava]) or python-dynamodb-lock
// ([FormatPython]) reads, so that their processes and dynamutex's take
// turns on the same keys and take over each other's dead holders. Every
// Session reads every format. docs/PROTOCOL.md says what each format keeps
// of the guarantees above.
//
// # Testing
//
// Package dynamutextest provides an in-memory DynamoDBAPI for unit tests
// without Java. It passes the same conformance suite as DynamoDB Local, is
// safe for concurrent use, and works under testing/synctest, where the
// library's timers and the store's TTL follow the bubble's fake clock.
//
// # How it works
//
// Each lock is one item, and every write is one conditional UpdateItem that
// sets a fresh random version: an uncontended Lock is one request. A waiter
// reads the record about once a second, and takes a lock over only after it
// has itself watched the same version unchanged for the holder's lease, on
// its own monotonic clock, so no agreement between machines' clocks is
// assumed (unless both declare a bound with [WithClockBound]). A holder
// counts its safe time from the send of its last confirmed renewal, on a
// timer apart from the heartbeat loop. A reply lost after its write landed
// is recognised by its version and adopted. A waiter that has seen the lock
// pass to another and has been refused for longer than a second claims the
// next turn, as sync.Mutex's starvation mode does.
// Goroutines of one Session queue locally, and locks are not reentrant.
// docs/PROTOCOL.md in the repository has the protocol in full, with the
// proof of the clock-bound mode; docs/GUIDE.md has every option and error.
package dynamutex
