package dynamutex

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/cenkalti/backoff/v4"
	"github.com/google/uuid"

	"github.com/dynamutex/dynamutex/internal/wallclock"
)

// lock takes the local key first, so that goroutines of one Session queue
// in memory, then the record.
//
// ctx bounds the call; the lock's context is a child of call.parent, or of
// ctx when that is nil (LockWithin bounds the wait alone).
func (s *Session) lock(ctx context.Context, m *Mutex, call lockCall) (context.Context, error) {
	if err := m.bad(); err != nil {
		return nil, err
	}
	if ctx.Err() != nil {
		return nil, context.Cause(ctx)
	}
	if call.start.IsZero() {
		call.start = time.Now()
	}
	if call.parent == nil {
		call.parent = ctx
	}
	if err := s.enter(m.id); err != nil {
		return nil, err
	}
	if err := s.lockLocal(ctx, m.id, call.wait); err != nil {
		s.leave(m.id)
		if errors.Is(err, ErrLocked) || errors.Is(err, errWaitBound) {
			return nil, call.waited(&HeldError{Key: m.id.key, Owner: s.cfg.owner, Local: true}, err)
		}
		return nil, err
	}
	lctx, err := s.acquire(ctx, m, call)
	if err != nil {
		s.unlockLocal(m.id)
		return nil, err
	}
	return lctx, nil
}

// lockCall is what acquire needs to know of the Lock, LockWithin or TryLock call.
type lockCall struct {
	wait   bool            // Lock or LockWithin rather than TryLock
	start  time.Time       // when the call began, for EventAcquired's Wait
	parent context.Context // the parent of the lock's context
	bound  time.Duration   // LockWithin's bound on the wait; 0 for none
	// data, when set, makes the data of each write at its send: an
	// election stamps the time its leadership would begin (election.go).
	data func() []byte
	// version, when set, is the version every write of the call carries
	// instead of a new one: a semaphore's waiter takes the permit it
	// claimed with the version its claim names (semaphore_claim.go).
	version uuid.UUID
	// tally, when set, counts the requests of a caller that made some
	// before this call (a semaphore's reads): the call adds its own, and
	// EventAcquired's Attempts counts them all.
	tally *int
}

// landed describes the write that took the lock.
type landed struct {
	version  uuid.UUID
	token    uint64
	sent     time.Time     // when it was sent: the lease counts from here
	latency  time.Duration // its round trip
	attempts int           // requests the Lock call made
	start    time.Time     // when the Lock call began
	how      AcquiredHow   // what the write replaced, for EventAcquired
}

// acquisition is the state of one Lock or TryLock call across its
// attempts. All attempts write the same version, so that an attempt whose
// reply was lost is recognised in the record a later attempt finds, and
// adopted.
type acquisition struct {
	m        *Mutex
	call     lockCall
	req      acquireReq
	vid      uuid.UUID // req.version, as the Lease keeps it
	first    time.Time // when the first write, which may be the one that landed, was sent
	inDoubt  bool      // a write may have landed without our hearing of it
	attempts int       // requests made, reads and claims included
	bo       backoff.BackOff
	// wallStart is the call's start by the wall clock, in whole
	// milliseconds: claims are ordered by it.
	wallStart time.Time
	claim     claimState
	// poll, while our claim stands, is the next read's interval; it grows
	// from claimPoll. Zero otherwise.
	poll time.Duration
	// turnover is set once a read has shown a new token: the lock changed
	// hands while this call waited.
	turnover bool
	// last is the latest record the call found in place of its own, if
	// seen: the holder that a LockWithin whose wait ran out names.
	last record
	seen bool
	// triedDead is set while the write that took a dead Session's lock
	// (req.dead) is the last one sent.
	triedDead bool
}

// outcome is what one conditional write of an acquisition came to.
type outcome int

const (
	outGranted   outcome = iota // the lock is ours: w says how
	outHeld                     // someone else holds it: rec is their record
	outRetry                    // try the write again at once
	outTransient                // the request failed for now; back off and retry
	outFailed                   // give up with err
)

type attemptResult struct {
	kind outcome
	w    landed // outGranted
	rec  record // outHeld
	err  error  // outHeld (the *HeldError), outTransient, outFailed
}

// acquire runs the attempts of one Lock or TryLock call: the first is a
// conditional write, so an uncontended Lock is one request. While the lock
// is held elsewhere, a Lock waits by reading (waitTurn) and writes again
// only when a read shows the record free or ready to be taken over.
func (s *Session) acquire(ctx context.Context, m *Mutex, call lockCall) (context.Context, error) {
	a := s.newAcquisition(m, call)
	if call.tally != nil {
		defer func() { *call.tally = a.attempts }()
	}
	for {
		r := s.writeAttempt(ctx, a)
		switch r.kind {
		case outGranted:
			return s.grant(call.parent, m, r.w)
		case outRetry:
			continue
		case outFailed:
			return s.giveUp(a, r.err)
		case outHeld:
			a.last, a.seen = r.rec, true
			if ok, err := s.takeFromDead(ctx, a, r.rec); err != nil {
				return s.giveUp(a, err)
			} else if ok {
				continue
			}
			if !call.wait {
				return s.giveUp(a, r.err)
			}
			wait := s.waitTurn
			if waitByWriting.Load() {
				wait = s.pause
			}
			if err := wait(ctx, a, r.rec); err != nil {
				return s.giveUp(a, err)
			}
		case outTransient:
			if ctx.Err() != nil {
				return s.giveUp(a, context.Cause(ctx))
			}
			if !call.wait {
				return s.giveUp(a, r.err)
			}
			d := a.bo.NextBackOff()
			if d == backoff.Stop {
				return s.giveUp(a, r.err)
			}
			s.log.Debug("dynamutex: acquire attempt failed; retrying", slog.String("key", m.id.key), slog.Any("error", r.err))
			if err := s.sleep(ctx, d); err != nil {
				return s.giveUp(a, err)
			}
		}
	}
}

func (s *Session) newAcquisition(m *Mutex, call lockCall) *acquisition {
	vid := call.version
	if vid == uuid.Nil {
		vid = uuid.New()
	}
	a := &acquisition{m: m, call: call, bo: s.cfg.newBackoff(), vid: vid,
		wallStart: wallclock.Now().Add(-time.Since(call.start)).Truncate(time.Millisecond),
		req:       acquireReq{id: m.id, owner: s.cfg.owner, version: vid.String(), lease: s.cfg.lease, data: m.data()}}
	if call.tally != nil {
		a.attempts = *call.tally
	}
	return a
}

// takeFromDead reports whether a write should go at once to take rec from
// its Session, which is revoked or gone (sessionwatch.go), and prepares
// it. A write that just tried that and failed waits instead: the record it
// found tells what comes next.
func (s *Session) takeFromDead(ctx context.Context, a *acquisition, rec record) (bool, error) {
	if a.triedDead {
		a.triedDead = false
		return false, nil
	}
	dead, err := s.holderDead(ctx, rec)
	if err != nil || !dead || s.blockedByClaim(a, rec, time.Now()) {
		return false, err
	}
	a.triedDead = true // the next write names the Session among the dead
	return true, nil
}

// giveUp ends an acquisition that did not get the lock. A write that may
// have landed unheard is left to the heartbeat loop to release.
func (s *Session) giveUp(a *acquisition, err error) (context.Context, error) {
	if a.seen {
		err = a.call.waited(heldBy(a.m.id, a.last), err)
	}
	if a.inDoubt {
		s.abandonLater(lockVersion{id: a.m.id, version: a.req.version})
	}
	if !a.claim.landed.IsZero() || a.claim.inDoubt {
		s.abandonLater(lockVersion{id: a.m.id, version: a.req.version, claim: true})
	}
	return nil, err
}

// writeAttempt makes one conditional write that takes the lock if the
// record is free, released, watched unchanged for its lease, or past its
// clock deadline, and says what came of it.
func (s *Session) writeAttempt(ctx context.Context, a *acquisition) attemptResult {
	id := a.m.id
	if s.isRevoked() {
		return attemptResult{kind: outFailed, err: ErrSessionRevoked}
	}
	a.req.takeover = s.expiredVersion(id, time.Now())
	a.req.dead = s.deadSessions()
	a.req.staleClaim = s.staleClaim(id, time.Now())
	if a.call.data != nil {
		a.req.data = a.call.data()
	}
	sent := time.Now()
	if a.first.IsZero() {
		a.first = sent
	}
	actx, cancel := context.WithTimeout(ctx, s.cfg.attemptTimeout())
	token, how, err := s.store.acquire(actx, a.req)
	cancel()
	// A foreign takeover is sent once for the record that made it ready;
	// what the write found decides anew.
	wasForeign := a.req.foreign != nil
	a.req.foreign = nil
	a.attempts++
	if err == nil {
		return attemptResult{kind: outGranted, w: landed{version: a.vid, token: token, sent: sent,
			latency: time.Since(sent), attempts: a.attempts, start: a.call.start, how: how}}
	}
	var cf *conditionFailed
	if !errors.As(err, &cf) {
		kind := classify(err)
		if kind == kindUnknown {
			a.inDoubt = true
		}
		err = fmt.Errorf("dynamutex: lock %q: %w", id.key, err)
		if kind == kindFatal {
			return attemptResult{kind: outFailed, err: err}
		}
		return attemptResult{kind: outTransient, err: err}
	}
	return s.refused(a, cf.item, sent, wasForeign)
}

// refused says what the record that a write sent at sent found instead
// means: our own earlier write whose reply was lost, a record that
// vanished, or a holder's. Another client's record that is free by its own
// rule is written again at once, with the foreign takeover, unless this
// write was that takeover: only that write may replace it.
func (s *Session) refused(a *acquisition, item map[string]types.AttributeValue, sent time.Time, wasForeign bool) attemptResult {
	id := a.m.id
	received := time.Now()
	if s.store.versionOf(item) == a.req.version {
		token, terr := tokenOf(item)
		if terr != nil {
			return attemptResult{kind: outFailed, err: &RecordError{Key: id.key, Attribute: attrToken, Problem: terr.Error()}}
		}
		// An earlier write landed and its reply was lost: the lease counts
		// from the first, the earliest it can have been sent; the latency is
		// this request's round trip.
		return attemptResult{kind: outGranted, w: landed{version: a.vid, token: token, sent: a.first,
			latency: received.Sub(sent), attempts: a.attempts, start: a.call.start, how: AcquiredAdopted}}
	}
	if len(item) == 0 {
		// Only a record that vanished between DynamoDB's check and its
		// reply gets here.
		return attemptResult{kind: outRetry}
	}
	rec, derr := decodeRecord(id.key, item)
	if derr != nil {
		return attemptResult{kind: outFailed, err: derr}
	}
	s.observe(id, rec, received)
	if !wasForeign && s.crossReady(id, rec, received) {
		a.last, a.seen, a.req.foreign = rec, true, &rec
		return attemptResult{kind: outRetry}
	}
	return attemptResult{kind: outHeld, rec: rec, err: heldBy(id, rec)}
}

func heldBy(id lockID, rec record) *HeldError {
	return &HeldError{Key: id.key, Owner: rec.owner, Token: rec.token, Lease: rec.lease, LastWrite: rec.sent,
		ClaimedBy: rec.claim.owner, Client: rec.client}
}

// grant turns a landed acquisition into a Lease and a lock context, and
// hands the lease to the heartbeat loop.
func (s *Session) grant(ctx context.Context, m *Mutex, w landed) (context.Context, error) {
	version, token, sent := w.version, w.token, w.sent
	s.mu.Lock()
	delete(s.obs, m.id)
	s.mu.Unlock()

	l := &Lease{m: m, token: token, parent: ctx, version: version, index: -1, dangerIndex: -1}
	late := l.startDanger(sent)

	s.mu.Lock()
	if s.closed || s.revoked {
		err := ErrSessionClosed
		if s.revoked {
			err = ErrSessionRevoked
		}
		s.mu.Unlock()
		l.stopDanger()
		l.cancel(err)
		// Nobody else will release this record: do it now, within a lease.
		rctx, rcancel := context.WithTimeout(context.WithoutCancel(ctx), s.cfg.lease)
		defer rcancel()
		_ = s.releaseRecord(rctx, m.id, []string{version.String()}, time.Time{})
		return nil, err
	}
	s.holdLocked(l)
	if s.sl == nil {
		s.scheduleLocked(l, s.firstRenewal(sent))
		if !late {
			s.watchDangerLocked(l, sent)
		}
	}
	s.mu.Unlock()

	m.hold(l)
	ev := l.event(EventAcquired)
	ev.Wait, ev.Latency, ev.Attempts, ev.How = time.Since(w.start), w.latency, w.attempts, w.how
	s.log.Debug("dynamutex: acquired", append(l.attrs(), slog.String("how", ev.How.String()),
		slog.Duration("wait", ev.Wait), slog.Int("attempts", ev.Attempts))...)
	s.emit(ev)
	// Under a session lease, the Session record's danger timer may have
	// fired between startDanger and the lease joining the held ones, where it
	// would have found it: look again.
	if late || (l.underSession() && l.pastSafe()) {
		l.endangered()
	}
	return (*lockContext)(l), nil
}

// release ends l: it cancels the lock context first, so the protected work
// stops before anyone else can start, then marks the record released.
func (s *Session) release(ctx context.Context, l *Lease) error {
	// An Unlock that comes after the safe time, typically from a process
	// that was just paused, must leave the lock context saying so, even if it
	// runs before the danger timer's goroutine does.
	if l.pastSafe() {
		l.endangered()
	}
	l.cancel(ErrUnlocked)
	l.stopDanger()
	l.lockWrites()
	defer l.unlockWrites()
	if l.state.Load() == stateLost {
		return l.lost
	}
	l.state.Store(stateReleased)
	s.forget(l)
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.cfg.lease)
	defer cancel()
	sent := time.Now()
	err := s.releaseRecord(rctx, l.m.id, l.currentVersions(), s.epoch.Add(time.Duration(l.safeNanos())))
	var cf *conditionFailed
	switch {
	case err == nil:
		ev := l.event(EventReleased)
		ev.Latency = time.Since(sent)
		s.log.Debug("dynamutex: released", l.attrs()...)
		s.emit(ev)
		return nil
	case errors.As(err, &cf):
		le := lostFrom(l.m.id.key, l.token, cf.item)
		ev := l.event(EventLost)
		ev.Err = le
		s.log.Warn("dynamutex: lock lost before release", append(l.attrs(), slog.String("reason", le.Error()))...)
		s.emit(ev)
		return le
	default:
		err = fmt.Errorf("dynamutex: unlock %q: %w", l.m.id.key, err)
		s.log.Warn("dynamutex: release failed; the record expires after its lease", append(l.attrs(), slog.Any("error", err))...)
		// The lock is given up all the same: an Observer that counts the
		// locks held must hear of it, or it would count this one forever.
		ev := l.event(EventReleased)
		ev.Latency, ev.Err = time.Since(sent), err
		s.emit(ev)
		return err
	}
}
