package dynamutex

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/cenkalti/backoff/v4"
)

// Acquire blocks until it holds one of the semaphore's permits, ctx ends,
// or the Session closes. It returns the permit's context, cancelled with a
// cause exactly as Mutex.Lock's is (the permit lost, in danger, released,
// the Session closed, or ctx ended), and the Permit; LeaseFrom on the
// context gives the permit's Lease too.
//
// Uncontended, Acquire makes two requests: one strongly consistent
// BatchGetItem of all n permit records, then one acquire write on a free
// permit, picked at random so that concurrent acquirers rarely collide. A
// permit is free when it has no record, is released, or its holder is dead
// by the rules Lock uses: this Session watched its record unchanged for the
// holder's lease, its clock deadline passed (WithClockBound), or its
// Session record is revoked or gone (WithSessionLease). While all n are
// held, Acquire reads all n again with one BatchGetItem per poll on Lock's
// backoff schedule (WithBackoff), never sleeping past the moment a permit
// it watches may be taken over. A waiter does not claim a turn: see
// docs/SEMAPHORE.md for what bounds its wait.
//
// On error no permit is held. On success the permit is held until
// Release, even after ctx ends.
func (sem *Semaphore) Acquire(ctx context.Context) (context.Context, *Permit, error) {
	return sem.acquire(ctx, true)
}

// TryAcquire makes one read of all permits and, if it finds one free, one
// write to take it. It returns an error wrapping ErrNoPermit if every
// permit is held or the write lost to another acquirer. Otherwise it
// behaves like Acquire.
func (sem *Semaphore) TryAcquire(ctx context.Context) (context.Context, *Permit, error) {
	return sem.acquire(ctx, false)
}

func (sem *Semaphore) acquire(ctx context.Context, wait bool) (context.Context, *Permit, error) {
	if sem.err != nil {
		return nil, nil, sem.err
	}
	if ctx.Err() != nil {
		return nil, nil, context.Cause(ctx)
	}
	bo := sem.s.cfg.newBackoff()
	rushed := false // the last round re-read at once after a lost write
	for {
		v, err := sem.look(ctx)
		if err != nil && (!wait || ctx.Err() != nil || classify(err) == kindFatal) {
			return nil, nil, err
		}
		if err == nil && len(v.free) > 0 {
			lctx, p, err := sem.take(ctx, v.free[rand.N(len(v.free))])
			if err == nil || !retryable(ctx, err) {
				return lctx, p, err
			}
			if !wait && errors.Is(err, ErrLocked) {
				return nil, nil, fmt.Errorf("%w: semaphore %q: %w", ErrNoPermit, sem.name, err)
			} else if !wait {
				return nil, nil, err
			}
			if !rushed {
				rushed = true
				continue // a lost race: the permits changed, read them again now
			}
		} else if !wait {
			return nil, nil, fmt.Errorf("%w: semaphore %q: all %d permits held", ErrNoPermit, sem.name, len(sem.ids))
		}
		rushed = false
		d := bo.NextBackOff()
		if d == backoff.Stop {
			return nil, nil, fmt.Errorf("%w: semaphore %q: the backoff policy gave up", ErrNoPermit, sem.name)
		}
		if err == nil {
			d = min(d, v.until)
		}
		if err := sem.s.sleep(ctx, d); err != nil {
			return nil, nil, err
		}
	}
}

// retryable reports whether an acquirer that got err from a write should
// read the permits again rather than give up.
func retryable(ctx context.Context, err error) bool {
	switch {
	case ctx.Err() != nil, errors.Is(err, ErrSessionClosed), errors.Is(err, ErrSessionRevoked):
		return false
	case errors.Is(err, ErrLocked):
		return true
	}
	return classify(err) != kindFatal
}

// take makes one acquire write on permit i, as TryLock does, so that the
// permit is held by the lock machinery itself: a Lease on the heartbeat
// loop, local exclusion per permit key, the same conditions and takeovers.
func (sem *Semaphore) take(ctx context.Context, i int) (context.Context, *Permit, error) {
	m := &Mutex{s: sem.s, id: sem.ids[i], extra: &mutexExtra{data: sem.data}}
	lctx, err := sem.s.lock(ctx, m, lockCall{parent: ctx})
	if err != nil {
		return nil, nil, err
	}
	l, _ := LeaseFrom(lctx)
	return lctx, &Permit{sem: sem, m: m, index: i, lease: l}, nil
}

// view is what one read of all permits showed.
type view struct {
	free  []int         // the permits a write may take now
	until time.Duration // the longest a waiter may sleep before one may be taken over
}

// look reads every permit with one BatchGetItem and says which are free,
// recording each held permit's version as a failed Lock would, so that a
// permit whose holder stopped renewing is taken over after its lease.
func (sem *Semaphore) look(ctx context.Context) (view, error) {
	s := sem.s
	actx, cancel := context.WithTimeout(ctx, s.cfg.attemptTimeout())
	found, _, err := s.store.readMany(actx, sem.ids, false)
	cancel()
	if err != nil {
		if ctx.Err() != nil {
			return view{}, context.Cause(ctx)
		}
		return view{}, fmt.Errorf("dynamutex: semaphore %q: %w", sem.name, err)
	}
	received := time.Now()
	v := view{until: time.Duration(1<<63 - 1)}
	for i, id := range sem.ids {
		item, ok := found[id]
		if !ok {
			v.free = append(v.free, i)
			continue
		}
		rec, err := decodeRecord(id.key, item)
		if err != nil {
			return view{}, err
		}
		s.observe(id, rec, received)
		dead, err := s.holderDead(ctx, rec)
		if err != nil {
			return view{}, err
		}
		if rec.released || dead || s.takeable(id, rec, time.Now()) {
			v.free = append(v.free, i)
			continue
		}
		v.until = s.capSleep(id, rec, v.until)
	}
	return v, nil
}
