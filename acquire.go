package dynamutex

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"
)

// lock takes the local key first, so that goroutines of one Session queue
// in memory, then the record.
func (s *Session) lock(ctx context.Context, m *Mutex, wait bool) (context.Context, error) {
	if m.err != nil {
		return nil, m.err
	}
	if ctx.Err() != nil {
		return nil, context.Cause(ctx)
	}
	start := time.Now()
	ks, err := s.enter(m.id)
	if err != nil {
		return nil, err
	}
	if err := s.lockLocal(ctx, ks, wait); err != nil {
		s.leave(m.id, ks)
		if errors.Is(err, ErrLocked) {
			return nil, &HeldError{Key: m.id.key, Owner: s.cfg.owner, Local: true}
		}
		return nil, err
	}
	lctx, err := s.acquire(ctx, m, ks, lockCall{wait: wait, start: start})
	if err != nil {
		<-ks.sem
		s.leave(m.id, ks)
		return nil, err
	}
	return lctx, nil
}

func (s *Session) lockLocal(ctx context.Context, ks *keyState, wait bool) error {
	if !wait {
		select {
		case ks.sem <- struct{}{}:
			return nil
		default:
			return ErrLocked
		}
	}
	select {
	case ks.sem <- struct{}{}:
		return nil
	case <-ctx.Done():
		return context.Cause(ctx)
	case <-s.done:
		return ErrSessionClosed
	}
}

// lockCall is what acquire needs to know of the Lock or TryLock call.
type lockCall struct {
	wait  bool      // Lock rather than TryLock
	start time.Time // when the call began, for EventAcquired's Wait
}

// landed describes the write that took the lock.
type landed struct {
	version  string
	token    uint64
	sent     time.Time     // when it was sent: the lease counts from here
	latency  time.Duration // its round trip
	attempts int           // requests the Lock call made
	start    time.Time     // when the Lock call began
}

// acquire runs the attempts of one Lock or TryLock call. All attempts write
// the same version, so that an attempt whose reply was lost is recognised in
// the record a later attempt finds, and adopted.
func (s *Session) acquire(ctx context.Context, m *Mutex, ks *keyState, call lockCall) (context.Context, error) {
	wait := call.wait
	req := acquireReq{id: m.id, owner: s.cfg.owner, version: newVersion(), lease: s.cfg.lease, data: m.data}
	var first time.Time // when the first attempt, which may be the one that landed, was sent
	inDoubt := false    // an attempt may have landed without our hearing of it
	attempts := 0
	giveUp := func(err error) (context.Context, error) {
		if inDoubt {
			s.abandonLater(m.id, req.version)
		}
		return nil, err
	}
	bo := s.cfg.newBackoff()
	for {
		req.takeover = s.expiredVersion(m.id, time.Now())
		sent := time.Now()
		if first.IsZero() {
			first = sent
		}
		actx, cancel := context.WithTimeout(ctx, s.cfg.attemptTimeout())
		token, err := s.store.acquire(actx, req)
		cancel()
		attempts++
		if err == nil {
			return s.grant(ctx, m, ks, landed{version: req.version, token: token, sent: sent,
				latency: time.Since(sent), attempts: attempts, start: call.start})
		}
		var cf *conditionFailed
		if errors.As(err, &cf) {
			received := time.Now()
			if v, _ := stringAttr(cf.item, attrVersion); v == req.version {
				token, terr := tokenOf(cf.item)
				if terr != nil {
					return giveUp(&RecordError{Key: m.id.key, Attribute: attrToken, Problem: terr.Error()})
				}
				return s.grant(ctx, m, ks, landed{version: req.version, token: token, sent: first,
					latency: received.Sub(sent), attempts: attempts, start: call.start})
			}
			if len(cf.item) == 0 {
				// Only a record that vanished between DynamoDB's check and its
				// reply gets here; try again at once.
				continue
			}
			rec, derr := decodeRecord(m.id.key, cf.item)
			if derr != nil {
				return giveUp(derr)
			}
			obs := s.observe(m.id, rec, received)
			held := &HeldError{Key: m.id.key, Owner: rec.owner, Token: rec.token, Lease: rec.lease, LastWrite: rec.sent}
			if !wait {
				return giveUp(held)
			}
			d := bo.NextBackOff()
			if d == backoffStop {
				held.Reason = "the backoff policy gave up"
				return giveUp(held)
			}
			// Never sleep past the moment a takeover becomes possible, by
			// observation or by clock.
			if until := time.Until(obs.seen.Add(obs.lease)); until < d {
				d = max(until, 0)
			}
			if until := s.store.clock.untilClockTakeover(rec); until >= 0 && until < d {
				d = until
			}
			if err := s.sleep(ctx, d); err != nil {
				return giveUp(err)
			}
			continue
		}
		kind := classify(err)
		if kind == kindUnknown {
			inDoubt = true
		}
		if ctx.Err() != nil {
			return giveUp(context.Cause(ctx))
		}
		err = fmt.Errorf("dynamutex: lock %q: %w", m.id.key, err)
		if kind == kindFatal || !wait {
			return giveUp(err)
		}
		d := bo.NextBackOff()
		if d == backoffStop {
			return giveUp(err)
		}
		s.log.Debug("dynamutex: acquire attempt failed; retrying", slog.String("key", m.id.key), slog.Any("error", err))
		if err := s.sleep(ctx, d); err != nil {
			return giveUp(err)
		}
	}
}

const backoffStop = -1 // backoff.Stop, spelled out to keep the comparison obvious

// grant turns a landed acquisition into a Lease and a lock context, and
// hands the lease to the heartbeat loop.
func (s *Session) grant(ctx context.Context, m *Mutex, ks *keyState, w landed) (context.Context, error) {
	version, token, sent := w.version, w.token, w.sent
	s.mu.Lock()
	delete(s.obs, m.id)
	s.mu.Unlock()

	lctx, cancel := context.WithCancelCause(ctx)
	l := &Lease{s: s, id: m.id, ks: ks, token: token, data: m.data, cancel: cancel,
		version: version, confirmed: sent, index: -1}
	// A process paused between sending the write and reading its reply can
	// be past its safe time already; then the caller must get a context that
	// is cancelled on return, not one a timer goroutine cancels a little later.
	l.setSafeAt(sent)
	wait := time.Until(sent.Add(s.cfg.safe))
	late := wait <= 0
	if late {
		wait = time.Hour // a timer that never fires: endangered runs by hand below
	}
	l.danger = time.AfterFunc(wait, l.endangered)
	if late {
		l.danger.Stop()
	}

	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		l.danger.Stop()
		cancel(ErrSessionClosed)
		// Nobody else will release this record: do it now, within a lease.
		rctx, rcancel := context.WithTimeout(context.WithoutCancel(ctx), s.cfg.lease)
		defer rcancel()
		_ = s.releaseRecord(rctx, m.id, []string{version}, time.Time{})
		return nil, ErrSessionClosed
	}
	s.held[l] = struct{}{}
	s.scheduleLocked(l, s.firstRenewal(sent))
	s.mu.Unlock()

	m.mu.Lock()
	m.lease = l
	m.mu.Unlock()
	ev := l.event(EventAcquired)
	ev.Wait, ev.Latency, ev.Attempts = time.Since(w.start), w.latency, w.attempts
	s.log.Debug("dynamutex: acquired", append(l.attrs(),
		slog.Duration("wait", ev.Wait), slog.Int("attempts", ev.Attempts))...)
	s.emit(ev)
	if late {
		l.endangered()
	}
	return context.WithValue(lctx, leaseKey{}, l), nil
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
	l.danger.Stop()
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.state.Load() == stateLost {
		return l.lost
	}
	l.state.Store(stateReleased)
	s.forget(l)
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.cfg.lease)
	defer cancel()
	// A renewal in doubt (sent, never answered) may have landed: then the
	// record is still ours, at that renewal's version.
	cur := []string{l.version}
	if l.round.version != "" {
		cur = append(cur, l.round.version)
	}
	sent := time.Now()
	err := s.releaseRecord(rctx, l.id, cur, l.confirmed.Add(s.cfg.safe))
	var cf *conditionFailed
	switch {
	case err == nil:
		ev := l.event(EventReleased)
		ev.Latency = time.Since(sent)
		s.log.Debug("dynamutex: released", l.attrs()...)
		s.emit(ev)
		return nil
	case errors.As(err, &cf):
		le := lostFrom(l.id.key, l.token, cf.item)
		ev := l.event(EventLost)
		ev.Err = le
		s.log.Warn("dynamutex: lock lost before release", append(l.attrs(), slog.String("reason", le.Error()))...)
		s.emit(ev)
		return le
	default:
		s.log.Warn("dynamutex: release failed; the record expires after its lease", append(l.attrs(), slog.Any("error", err))...)
		return fmt.Errorf("dynamutex: unlock %q: %w", l.id.key, err)
	}
}
