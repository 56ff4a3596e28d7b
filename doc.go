// Package dynamutex provides distributed locks on Amazon DynamoDB that behave
// like sync.Mutex and speak context.
//
// A Session owns one heartbeat loop and hands out Mutex values:
//
//	s, err := dynamutex.NewSession(ctx, client, "locks")
//	defer s.Close(ctx)
//	m := s.NewMutex("invoice/42")
//	lctx, err := m.Lock(ctx)
//	if err != nil { ... }
//	defer m.Unlock(ctx)
//	err = process(lctx) // lctx ends if the lock is lost or in danger
//
// The context that Lock returns is cancelled, with context.Cause saying why,
// when the lock is lost (ErrLockLost), when its last confirmed renewal is older
// than the safe time (ErrLeaseInDanger), when the Session closes
// (ErrSessionClosed), when Unlock runs (ErrUnlocked), or when the parent ends.
// There are no callbacks: pass the context to the work the lock protects.
//
// # Protocol and cost
//
// Each lock is one item. Every write is one conditional UpdateItem: an
// uncontended Lock, a takeover, each renewal (one per held lock per
// heartbeat period) and Unlock. There is no read before the first write: a
// failed condition returns the holder's record
// (ReturnValuesOnConditionCheckFailure), which is all a waiter needs to
// start waiting. While the lock is held elsewhere, a Lock waits with
// strongly consistent reads of the lock's attributes, about one a second at
// the defaults, and writes again only when a read shows the record free or
// ready to be taken over. A read costs a fifth of the failed conditional
// write a waiter could poll with instead, and draws nothing from the
// partition's write throughput, which the holder's renewals need.
//
// # Bounded waiting
//
// As in sync.Mutex, normal mode is fast: a holder that unlocks and locks
// again at once may win again, since its write reaches DynamoDB before a
// reading waiter sees the release. A Lock call refused for longer than a
// second (a quarter of the lease, if that is shorter) enters starvation
// mode: it claims the next turn with one write into the record's claim
// attribute, and while that claim stands every acquire write but the
// claimant's fails, the releasing holder's own re-lock included. The
// claimant re-asserts its claim three times per lease; a claim watched
// unchanged for the claimant's lease is ignored, so a crashed claimant
// holds the lock back for a lease at most. A waiter whose Lock call began
// earlier takes a younger one's claim over. A Lock call that gives up
// removes its claim. Claims decide who goes next, never whether two may
// hold the lock: exclusion rests on the version alone, so wall clocks,
// which order the claims, may be wrong without harm, and a release that
// ignores claims (the one before this) costs fairness, not exclusion.
//
// Every write stores a new random version chosen by the writer. If a reply is
// lost after the write landed, the retry fails its condition and finds the
// version it sent; the library recognises its own write and adopts it
// instead of reporting a theft.
//
// # Expiry by observation
//
// A waiter never compares its clock with another machine's. It takes a lock
// over only after it has itself watched the same record version unchanged for
// the record's lease duration, measured on its own monotonic clock from when
// it received the first observation, and only with a write conditional on that
// exact version. The first-seen time of a version persists in the Session
// across retries and across Lock and TryLock calls.
//
// A holder measures its safe time from when it sent the renewal that was
// confirmed, on a timer that does not depend on the heartbeat loop, so a
// stuck request or loop cannot delay ErrLeaseInDanger. A holder is therefore
// told of danger at least lease − safe time before any waiter can take over.
// That margin (5 s by default) must cover how long the holder takes to stop
// its work after its context is cancelled (including process pauses such as
// GC or a stopped VM), plus the difference in clock rates between the two
// machines over one lease, which is tiny for real clocks (100 ppm of 20 s is
// 2 ms). No bound on clock offset (wall-clock agreement) is assumed for
// mutual exclusion.
//
// A crashed holder therefore costs waiters one full lease from the moment they
// first look, not from the crash, and a caller that tries once (a TryLock from
// a new Session) never takes it over. Every write also stores the writer's
// wall-clock send time, which HeldError.LastWrite and LockInfo.LastWrite
// expose as a hint: a record not written for longer than its lease has a
// holder that looks dead, worth watching for a lease.
//
// # Expiry by clock, for machines with bounded clocks
//
// Clocks on AWS are good: Amazon Time Sync keeps them within about a
// millisecond, and AWS ClockBound reports the error bound. WithClockBound(d)
// declares such a bound. A Session with a bound writes a deadline into every
// acquisition and renewal: its wall clock at send, plus the lease, plus d.
// Any Session with a bound takes over a record whose deadline is earlier than
// its own wall clock less its own bound, at once, inside the acquire write's
// condition: an uncontended Lock, a TryLock from a brand-new Session, or a
// waiter arriving however late. Records written without a bound are taken
// over by observation only, and observation keeps working beside the clock.
//
// Why it is safe: let h be true time when the holder sent its last write. Its
// clock then read at least h − d_holder, so the deadline is at least
// h + lease. A taker's clock reads at most t + d_taker at true time t, so its
// condition (deadline < its clock − d_taker) can hold only when
// t > h + lease. A takeover by clock thus comes at least a lease after the
// holder's last write in true time, exactly as one by observation does, and
// the holder's danger timer, unchanged, fires lease − safe time before that.
// What the bound costs when it is wrong is two holders at once, so each
// Session checks its clock against the Date header of DynamoDB's replies and
// turns clock takeover off while it is provably off (see WithClockBound).
//
// # Fencing tokens
//
// Every acquisition gets Lease.Token, strictly greater than every earlier
// token for the key: a release keeps the record (marked released) so the
// counter survives, and a takeover increments it too. When DynamoDB's TTL
// deletes a record idle for longer than the expiry (WithExpiry, 24 h by
// default), the next acquisition seeds the counter from its clock in
// microseconds. That keeps tokens increasing as long as the wall clocks of the
// machines that lock one key differ by less than the expiry, because a single
// item cannot absorb anywhere near a million writes a second.
//
// A lock alone cannot stop a holder that was paused past its lease from
// writing after someone else took over. Tokens can: give them to the store you
// write to and let it refuse a token lower than one it has already seen.
// When such a holder resumes, its context is already cancelled: a Lock whose
// winning reply is read after the safe time returns a context cancelled with
// ErrLeaseInDanger, and an Unlock after the safe time records that cause too.
//
// # Guarded writes
//
// For data in DynamoDB there is a stronger tool than a fence. Lease.Guard
// returns a ConditionCheck on the lock record that holds only while this
// acquisition owns it and has not released it; put it in a
// TransactWriteItems request and the write commits only while the lock is
// held, even if the holder was paused and the new holder has not written
// yet. Lease.GuardedWrite does that for the caller's items and tells a lost
// lock (ErrLockLost) from the caller's own condition failing
// (ErrConditionFailed). The guard names the token, so renewals never make
// it fail.
//
// Three modes, three guarantees: plain (stop when the context ends; safe
// while pauses stay under lease − safe time), token-fenced (the store
// refuses stale tokens; no timing assumption) and guarded (the write
// commits only under the lock; no timing assumption). docs/FENCING.md in the
// repository sets out the argument and the limits of each.
//
// # Inspection
//
// Session.Inspect tells who holds a key, with its token, data, lease and
// whether it is released, in one consistent read; Session.List iterates over
// every record of the table. Foreign or damaged records are reported with a
// *RecordError, never a panic. Both count as observations for takeovers.
//
// # Observability
//
// Every lifecycle event (acquired, renewed, renewed late, renewal failed, in
// danger, lost, released, and the clock leaving or re-entering its declared
// bound) is logged through log/slog with the table, owner,
// key and token (WithLogger), and handed to an optional Observer
// (WithObserver) with wait time, latency and attempts, and for an
// acquisition how the lock came (AcquiredHow: free, released, taken over by
// watching or by clock, adopted), to feed counters and histograms without a
// metrics dependency. The module github.com/dynamutex/dynamutex/otel is such
// an Observer for OpenTelemetry.
//
// # Testing
//
// Package dynamutextest provides an in-memory DynamoDBAPI for unit tests
// without Java. It passes the same conformance suite as DynamoDB Local, is
// safe for concurrent use, and works under testing/synctest, where the
// library's timers and the store's TTL follow the bubble's fake clock.
//
// docs/RELIABILITY.md in the repository describes the chaos harness that
// tests these guarantees with faults, SIGKILL and SIGSTOP, and its figures.
//
// # One process
//
// Goroutines of one Session that want the same key queue locally and are woken
// as soon as the holder unlocks, without polling DynamoDB. Locks are not
// reentrant.
package dynamutex
