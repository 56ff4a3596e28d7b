package dynamutex

import (
	"container/heap"
	"context"
	"errors"
	"log/slog"
	"math/rand/v2"
	"time"

	"github.com/cenkalti/backoff/v4"
	"golang.org/x/sync/errgroup"
)

// schedule is a min-heap of held leases by their next renewal time, so the
// loop costs O(log n) per renewal however many locks are held.
type schedule []*Lease

func (h schedule) Len() int           { return len(h) }
func (h schedule) Less(i, j int) bool { return h[i].due < h[j].due }
func (h schedule) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].index, h[j].index = int32(i), int32(j)
}
func (h *schedule) Push(x any) {
	l := x.(*Lease)
	l.index = int32(len(*h))
	*h = append(*h, l)
}
func (h *schedule) Pop() any {
	old := *h
	l := old[len(old)-1]
	old[len(old)-1] = nil
	*h = old[:len(old)-1]
	l.index = -1
	return l
}

// firstRenewal spreads the first renewal of each lock over the quarter
// period that ends at the regular interval (renewEvery), so locks taken in
// a burst are not renewed in a burst. It ends there, not at a whole period,
// so that the first renewal keeps the same slack against scheduling delay
// as every later one: spread up to the period itself, the latest of
// thousands of locks taken at once came a hair past it.
func (s *Session) firstRenewal(sent time.Time) time.Time {
	p := s.cfg.heartbeat
	return sent.Add(s.renewEvery() - time.Duration(rand.Int64N(int64(p/4)+1)))
}

// scheduleLocked (re)places l in the schedule at due. Called with s.mu.
func (s *Session) scheduleLocked(l *Lease, due time.Time) {
	if s.closed || l.state.Load() != stateHeld {
		return
	}
	l.due = int64(due.Sub(s.epoch))
	if l.index >= 0 {
		heap.Fix(&s.sched, int(l.index))
	} else {
		heap.Push(&s.sched, l)
	}
	if s.sched[0] == l {
		s.poke()
	}
}

func (s *Session) reschedule(l *Lease, due time.Time) {
	s.mu.Lock()
	s.scheduleLocked(l, due)
	s.mu.Unlock()
}

// forget removes l from the schedule, the danger timer's watch and the set
// of held leases.
func (s *Session) forget(l *Lease) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if l.index >= 0 {
		heap.Remove(&s.sched, int(l.index))
	}
	s.unwatchDangerLocked(l)
	s.forgetHeldLocked(l)
}

// run is the Session's only long-lived goroutine. It starts renewals when they
// are due and releases abandoned acquisitions, with at most parallelism
// requests in flight.
func (s *Session) run() {
	defer close(s.loopDone)
	var g errgroup.Group
	g.SetLimit(s.cfg.parallelism)
	t := time.NewTimer(time.Hour)
	defer t.Stop()
	for {
		s.mu.Lock()
		now := time.Now()
		var due []*Lease
		nowN := int64(now.Sub(s.epoch))
		for len(s.sched) > 0 && s.sched[0].due <= nowN {
			due = append(due, heap.Pop(&s.sched).(*Lease))
		}
		abandoned := s.abandoned
		s.abandoned = nil
		s.pruneObservationsLocked(now)
		wait := time.Hour
		if len(s.sched) > 0 {
			wait = time.Duration(s.sched[0].due - nowN)
		}
		s.mu.Unlock()
		s.trouble.flush(now)

		for _, l := range due {
			g.Go(func() error { s.renew(l); return nil })
		}
		for _, a := range abandoned {
			// Not cancelled by Close: a clean-up under way finishes, within
			// a lease, and Close waits for it as for a renewal.
			g.Go(func() error { s.abandon(context.WithoutCancel(s.ctx), a); return nil })
		}
		t.Reset(wait)
		select {
		case <-s.ctx.Done():
			_ = g.Wait()
			s.stopDangerTimer()
			return
		case <-t.C:
		case <-s.wake:
		}
	}
}

// renew makes one renewal attempt for l and schedules what comes next: the
// next renewal, a retry with backoff, or nothing if the lock was lost.
// A failed request never means "lost"; only a record that changed does.
func (s *Session) renew(l *Lease) {
	l.lockWrites()
	defer l.unlockWrites()
	if l.state.Load() != stateHeld {
		return
	}
	sent := time.Now()
	req := l.nextAttempt(sent)
	ctx, cancel := context.WithTimeout(s.ctx, s.cfg.heartbeat)
	err := s.store.replace(ctx, req)
	cancel()
	ev := l.event(EventRenewed)
	ev.Latency, ev.Attempts = time.Since(sent), l.round.attempts
	prev := l.confirmed()
	_, failed := l.settle(err, sent)
	switch {
	case l.state.Load() == stateLost:
		return
	case failed:
		if s.ctx.Err() != nil {
			return
		}
		if l.round.bo == nil {
			l.round.bo = s.renewBackoff()
		}
		s.trouble.note("dynamutex: renewal failed; retrying", append(l.attrs(), slog.Any("error", err)), 0, err)
		fev := l.event(EventRenewalFailed)
		fev.Attempts, fev.Err = l.round.attempts, err
		s.emit(fev)
		s.reschedule(l, time.Now().Add(l.round.bo.NextBackOff()))
		return
	}
	ev.Wait = l.confirmed().Sub(prev)
	ev.Late = ev.Attempts > 1 || ev.Wait > s.cfg.lateAfter()
	if ev.Late {
		s.trouble.note("dynamutex: renewed late", append(l.attrs(),
			slog.Duration("since_previous", ev.Wait), slog.Int("attempts", ev.Attempts)), ev.Wait, nil)
	} else if s.log.Enabled(s.ctx, slog.LevelDebug) {
		// Checked first: this runs for every held lock every period.
		s.log.Debug("dynamutex: renewed", l.attrs()...)
	}
	s.emit(ev)
	s.reschedule(l, l.confirmed().Add(s.renewEvery()))
}

// renewEvery is the time from one renewal's send to the next. It is a
// twentieth of a period short of the heartbeat, so that the loop's own
// scheduling delay and slow replies keep consecutive renewals inside one
// period instead of drifting past it, at the cost of 5 % more renewals.
func (s *Session) renewEvery() time.Duration { return s.cfg.heartbeat - s.cfg.heartbeat/20 }

// lateAfter is how long after the previous confirmed renewal a renewal
// that needed one attempt counts as late (Event.Late, a Warn). Renewals are
// sent a twentieth of a period early, and scheduling delay with many locks
// is milliseconds, so one a little past its period is on time and a Warn
// about it would be noise. Late is a quarter period past the period, or
// half the room between the period and the safe time if that is less: by
// then renewals are falling behind by a share of the slack that stands
// between a lock and danger, which an operator should hear of before it
// runs out.
func (c *config) lateAfter() time.Duration {
	p := c.heartbeat
	return p + min(p/4, (c.safe-p)/2)
}

// renewBackoff paces retries of a failed renewal: fast enough for several
// tries before the safe time runs out, slow enough not to pile on a
// struggling table.
func (s *Session) renewBackoff() backoff.BackOff {
	p := s.cfg.heartbeat
	return backoff.NewExponentialBackOff(
		backoff.WithInitialInterval(p/10),
		backoff.WithMultiplier(1.5),
		backoff.WithRandomizationFactor(0.5),
		backoff.WithMaxInterval(p/2),
		backoff.WithMaxElapsedTime(0),
	)
}

// abandon releases a record that an acquisition may have written while its
// caller gave up. A condition failure means the write never landed, the
// record has moved on, or the write is still on its way: a request given up
// by the client can reach DynamoDB after this release does, and later still
// on a loaded machine. So a condition failure is checked again, an
// attempt's timeout apart, for up to a lease.
func (s *Session) abandon(parent context.Context, a lockVersion) {
	ctx, cancel := context.WithTimeout(parent, s.cfg.lease)
	defer cancel()
	if a.claim {
		s.abandonClaim(ctx, a)
		return
	}
	looked := false // a release found the record not ours at least once
	for {
		err := s.releaseRecord(ctx, a.id, []string{a.version}, time.Time{})
		var cf *conditionFailed
		switch {
		case err == nil:
			s.log.Debug("dynamutex: released an acquisition whose caller gave up", slog.String("key", a.id.key))
			return
		case errors.As(err, &cf):
			looked = true
			if s.sleep(ctx, s.cfg.attemptTimeout()) != nil {
				return
			}
		case looked && ctx.Err() != nil:
			return // it never landed, as far as a lease of looking can tell
		default:
			s.log.Warn("dynamutex: could not release an acquisition in doubt; if it landed, it expires after its lease",
				slog.String("key", a.id.key), slog.Any("error", err))
			return
		}
	}
}

// abandonClaim removes the claim of a Lock call that gave up, so that it
// does not hold the lock back from everyone else for a lease. A claim that
// is gone already, taken over or used, is left alone.
func (s *Session) abandonClaim(ctx context.Context, a lockVersion) {
	bo := s.cfg.newBackoff()
	for {
		actx, cancel := context.WithTimeout(ctx, s.cfg.attemptTimeout())
		err := s.store.unclaim(actx, a.id, a.version)
		cancel()
		var cf *conditionFailed
		if err == nil || errors.As(err, &cf) || classify(err) == kindFatal {
			return
		}
		d := bo.NextBackOff()
		if d == backoff.Stop || s.sleep(ctx, d) != nil {
			s.log.Debug("dynamutex: could not remove the claim of a Lock call that gave up; it is ignored after a lease",
				slog.String("key", a.id.key), slog.Any("error", err))
			return
		}
	}
}
