package dynamutex

import (
	"context"
	"errors"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/cenkalti/backoff/v4"
	"github.com/google/uuid"
)

// A Lease is one acquisition of a lock. Get it from the context that Lock or
// TryLock returned with LeaseFrom. Its methods are safe for concurrent use.
type Lease struct {
	// m is the Mutex this is an acquisition of: its Session, its key and
	// its data (WithData) are the lease's, which keeps none of its own.
	m     *Mutex
	token uint64

	// parent is the context Lock was given, and end the lock context's
	// cancellation, made on first use (lockctx.go).
	parent context.Context
	end    atomic.Pointer[lockEnd]
	// safeAt is when the lease reaches its safe time, on the Session's
	// monotonic clock; read without l.writing, which a stuck renewal may
	// hold. It also says when the write of version was sent (confirmed).
	safeAt   atomic.Int64
	state    atomic.Int32
	inDanger atomic.Bool

	// version is the record version we last confirmed, kept as the 16
	// bytes of its UUID rather than its 36-character string (48 bytes of
	// heap a held lock).
	version uuid.UUID
	lost    *LostError // set when state is stateLost
	// round is the renewal in progress, nil between renewals: a pointer,
	// so that a lock that is not being renewed (all of them under a
	// session lease but an election's during a Proclaim, and most of the
	// time the others) does not carry one.
	round *renewal

	// due and index place the lease in the heartbeat schedule; guarded by
	// Session.mu. due is on the Session's monotonic clock, in nanoseconds
	// from its epoch, and index an int32 beside writing, so that a Lease
	// fits the allocator's 112-byte size class.
	due   int64
	index int32
	// dangerIndex places the lease among those the Session's danger timer
	// watches (danger.go), -1 outside; guarded by Session.mu.
	dangerIndex int32
	// writing is set while a write of this lease is in flight; guarded by
	// the Session's writeSlots (lockWrites).
	writing bool
}

// renewal is a renewal in progress. Its version is kept across retries so a
// retry can recognise an earlier attempt that landed without a reply.
type renewal struct {
	version  uuid.UUID
	first    time.Time
	attempts int
	bo       backoff.BackOff
}

const (
	stateHeld int32 = iota
	stateReleased
	stateLost
)

type leaseKey struct{}

// LeaseFrom returns the Lease of the lock whose context ctx is, or descends
// from. It reports false for any other context.
func LeaseFrom(ctx context.Context) (*Lease, bool) {
	l, ok := ctx.Value(leaseKey{}).(*Lease)
	return l, ok
}

// Token returns the fencing token of this acquisition. Every acquisition of a
// key gets a token strictly greater than all earlier ones, across releases,
// takeovers and TTL deletion of the record (see the package documentation for
// the assumption behind the last case). Pass it to any store that can refuse
// writes carrying a token lower than one it has seen.
func (l *Lease) Token() uint64 { return l.token }

// Key returns the lock's partition-key value.
func (l *Lease) Key() string { return l.m.id.key }

// SortKey returns the lock's sort-key value, or "" for a table without one.
func (l *Lease) SortKey() string { return l.m.id.sort }

// Owner returns the owner name written in the record: the Session's owner.
func (l *Lease) Owner() string { return l.m.s.cfg.owner }

// Data returns a copy of the data stored with the lock (WithData), or nil.
func (l *Lease) Data() []byte {
	if l.m.data() == nil {
		return nil
	}
	return append([]byte(nil), l.m.data()...)
}

func (l *Lease) attrs() []any {
	return []any{slog.String("key", l.m.id.key), slog.Uint64("token", l.token)}
}

// endangered runs on the Session's danger timer. It must not take l.writing, which a stuck
// renewal may hold. It looks at the safe time again: a renewal confirmed
// after the timer took l off its watch has moved it, and a danger mark
// set then would keep the Session record's next danger from coming.
func (l *Lease) endangered() {
	if l.state.Load() != stateHeld || !l.pastSafe() || !l.inDanger.CompareAndSwap(false, true) {
		return
	}
	safe := l.m.s.cfg.safe
	err := &DangerError{Key: l.m.id.key, Token: l.token, Safe: safe, Lease: l.m.s.cfg.lease,
		Confirmed: l.m.s.epoch.Add(time.Duration(l.safeNanos()) - safe)}
	l.cancel(err)
	l.m.s.log.Warn("dynamutex: lease in danger", l.attrs()...)
	if l == l.m.s.sl {
		// Each lock reports its own danger; the Session record is not one.
		l.m.s.endangerAll()
		return
	}
	ev := l.event(EventInDanger)
	ev.Err = err
	l.m.s.emit(ev)
}

// endangerAll puts every lock held under the Session's lease in danger,
// when the Session record's own safe time runs out.
func (s *Session) endangerAll() {
	s.mu.Lock()
	held := s.heldLocked()
	s.mu.Unlock()
	for _, l := range held {
		l.endangered()
	}
}

// safeNanos is when the lease reaches its safe time, on the Session's
// monotonic clock: a lock held under the Session's lease has the Session
// record's.
func (l *Lease) safeNanos() int64 {
	if l.underSession() {
		return l.m.s.sl.safeAt.Load()
	}
	return l.safeAt.Load()
}

// stopDanger takes l off the danger timer's watch: a lock held under the
// Session's lease is never on it.
func (l *Lease) stopDanger() { l.m.s.unwatchDanger(l) }

// confirm records a write of ours that landed, sent at sent. Called with l.writing held.
func (l *Lease) confirm(sent time.Time) {
	l.version = l.round.version
	l.round = nil
	if l.underSession() {
		// A Proclaim under a session lease: the record's safe time is
		// the Session record's, which the write did not move.
		return
	}
	// The safe time moves first, so that a danger timer that fired just
	// before cannot mark the Session record in danger after the mark is
	// cleared (endangered looks at the safe time).
	l.m.s.watchDanger(l, sent)
	if l == l.m.s.sl {
		// A lock's danger is for good, but the Session record's must be
		// able to come again, for the locks taken since this renewal.
		l.inDanger.Store(false)
	}
}

// nextAttempt counts one more write of l's renewal round, sent at sent,
// starting the round if none is under way, and returns the write that
// moves the record to the round's version. Every attempt of a round writes
// that one version, so that a retry recognises an earlier attempt that
// landed without a reply (settle). The heartbeat's renewals and an
// Election's Proclaim are such rounds. Called with l.writing held.
func (l *Lease) nextAttempt(sent time.Time) replaceReq {
	if l.round == nil {
		l.round = &renewal{version: uuid.New(), first: sent}
	}
	l.round.attempts++
	return replaceReq{id: l.m.id, cur: []string{l.version.String()}, next: l.round.version.String()}
}

// settle records what a write of l's round sent at sent came to. One that
// landed confirms the round from sent. A refusal that found the round's
// own version means an earlier attempt landed and its reply was lost: the
// round is confirmed from its first attempt, the safe side, and found is
// that record. Any other refusal loses the lease. failed reports an error
// that is none of these, after which the round stays open for a retry.
// Called with l.writing held.
func (l *Lease) settle(err error, sent time.Time) (found map[string]types.AttributeValue, failed bool) {
	var cf *conditionFailed
	switch {
	case err == nil:
		l.confirm(sent)
	case !errors.As(err, &cf):
		return nil, true
	case l.m.s.store.versionOf(cf.item) == l.round.version.String():
		l.confirm(l.round.first)
		return cf.item, false
	default:
		l.lose(cf.item)
	}
	return nil, false
}

// confirmed is when the write that made l.version was sent: the safe time
// counts from it, so it is kept once, as safeAt.
func (l *Lease) confirmed() time.Time {
	return l.m.s.epoch.Add(time.Duration(l.safeAt.Load()) - l.m.s.cfg.safe)
}

// setSafeAt starts the safe time from sent, the send time of a write that
// landed.
func (l *Lease) setSafeAt(sent time.Time) {
	l.safeAt.Store(int64(sent.Add(l.m.s.cfg.safe).Sub(l.m.s.epoch)))
}

// pastSafe reports whether the safe time has run out. It does not wait for
// the danger timer, whose goroutine may not have run yet: after a process
// pause every overdue timer is due at once.
func (l *Lease) pastSafe() bool {
	return int64(time.Since(l.m.s.epoch)) >= l.safeNanos()
}

// lose marks the lease lost after a write found item in place of our record.
// Called with l.writing held.
func (l *Lease) lose(item map[string]types.AttributeValue) {
	if l == l.m.s.sl {
		le := sessionLostError(l.m.id.key, item)
		l.loseWith(le)
		l.m.s.sessionLost(le)
		return
	}
	l.loseWith(lostFrom(l.m.id.key, l.token, item))
}

// loseWith marks the lease lost for the reason le. Called with l.writing
// held.
func (l *Lease) loseWith(le *LostError) {
	l.lost = le
	l.state.Store(stateLost)
	l.stopDanger()
	l.cancel(le)
	l.m.s.forget(l)
	l.m.s.log.Warn("dynamutex: lock lost", append(l.attrs(), slog.String("reason", le.Error()))...)
	ev := l.event(EventLost)
	if l == l.m.s.sl {
		// Each lock reports its own loss (sessionLost); this is the
		// Session's.
		ev.Kind = EventSessionRevoked
	}
	ev.Err = le
	l.m.s.emit(ev)
}

// lostFrom describes what a write of lease token found in place of our record.
func lostFrom(key string, token uint64, item map[string]types.AttributeValue) *LostError {
	le := &LostError{Key: key, Token: token}
	if len(item) == 0 {
		le.Reason = "record deleted"
		return le
	}
	rec, err := decodeRecord(key, item)
	switch {
	case err != nil:
		le.Reason = "record replaced by one dynamutex cannot read (" + err.Error() + ")"
	case rec.released:
		le.Reason = "record released"
		le.Owner, le.NewToken = rec.owner, rec.token
	case rec.token == token:
		le.Reason = "record version changed"
		le.Owner, le.NewToken = rec.owner, rec.token
	default:
		le.Reason = "taken over"
		le.Owner, le.NewToken = rec.owner, rec.token
	}
	return le
}

// lockWrites waits until no other write of l is in flight, and holds l's
// write slot until unlockWrites.
func (l *Lease) lockWrites() { l.m.s.writes.lock(&l.writing) }

func (l *Lease) unlockWrites() { l.m.s.writes.unlock(&l.writing) }

// currentVersions lists the versions l's record may be at while it is
// still ours: the one confirmed and, while a renewal is in doubt (sent,
// never answered), the one that renewal wrote, which may have landed.
// Called with l.writing held.
func (l *Lease) currentVersions() []string {
	cur := []string{l.version.String()}
	if l.round != nil {
		cur = append(cur, l.round.version.String())
	}
	return cur
}

// startDanger starts the safe time of a lock acquired by a write sent at
// sent, and reports whether the lease is past it already: a process paused
// between sending the write and reading its reply can be, and then the
// caller must get a context that is cancelled on return, not one the
// danger timer cancels a little later. Otherwise grant has the danger
// timer watch it (watchDangerLocked). A lock held under the Session's lease
// is never watched: its safe time is the Session record's, whose danger
// puts every such lock in danger at once.
func (l *Lease) startDanger(sent time.Time) (late bool) {
	if !l.underSession() {
		l.setSafeAt(sent)
	}
	return l.pastSafe()
}
