package dynamutex

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/cenkalti/backoff/v4"
	"github.com/google/uuid"

	"github.com/dynamutex/dynamutex/internal/wallclock"
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
// it watches may be taken over.
//
// Waiting is bounded as Lock's is: an Acquire that has seen a permit pass
// to another acquirer while it waited, and has waited longer than a second
// (or a quarter of the lease), claims the next turn of one held permit, so
// that holders that release and acquire again at once cannot keep it out.
// See docs/SEMAPHORE.md.
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

// semCall is the state of one Acquire or TryAcquire call across its
// polls.
type semCall struct {
	sem  *Semaphore
	wait bool // Acquire rather than TryAcquire
	// start is when the call began, and wallStart the same by the wall
	// clock in whole milliseconds: claims are ordered by it.
	start, wallStart time.Time
	// versions[i] is what every take and claim of permit i by the call
	// writes, so that a claimant's take passes its own claim, as a Lock
	// call writes one version to its record in every attempt. A take
	// whose outcome is unknown may land later and is released by the
	// heartbeat loop, so the call moves to a new version of that permit
	// after one (renew). uuid.Nil until first used.
	versions []uuid.UUID
	attempts int // requests made so far
	bo       backoff.BackOff
	tokens   []uint64 // the token of each permit at the last read; 0 if none seen
	// turnover is set once the call has seen a permit pass to another
	// acquirer: it has lost a turn, and may claim one.
	turnover bool
	claimAt  int        // the permit our claim is on, or -1
	claim    claimState // our claim's standing, as on a Lock's
	claimed  []bool     // the permits we sent a claim to, under their version, that may stand
	poll     time.Duration
}

func (sem *Semaphore) newCall(wait bool) *semCall {
	start := time.Now()
	return &semCall{sem: sem, wait: wait, start: start, wallStart: wallclock.Now().Truncate(time.Millisecond),
		versions: make([]uuid.UUID, len(sem.ids)), bo: sem.s.cfg.newBackoff(), tokens: make([]uint64, len(sem.ids)),
		claimAt: -1, claimed: make([]bool, len(sem.ids))}
}

func (sem *Semaphore) acquire(ctx context.Context, wait bool) (context.Context, *Permit, error) {
	if sem.err != nil {
		return nil, nil, sem.err
	}
	if ctx.Err() != nil {
		return nil, nil, context.Cause(ctx)
	}
	c := sem.newCall(wait)
	rushed := false // the last round re-read at once after a lost write
	for {
		v, err := c.look(ctx)
		if err != nil && (!wait || ctx.Err() != nil || classify(err) == kindFatal) {
			return nil, nil, c.end(err)
		}
		if err == nil {
			t, again, err := c.round(ctx, v, rushed)
			if t.p != nil || err != nil {
				return t.ctx, t.p, err
			}
			if again {
				rushed = true
				continue // a lost race: the permits changed, read them again now
			}
		}
		rushed = false
		if err := c.pause(ctx, v, err == nil); err != nil {
			return nil, nil, c.end(err)
		}
	}
}

// taken is a permit taken, with its context.
type taken struct {
	ctx context.Context
	p   *Permit
}

// round acts on one read of the permits: it takes a free one, or, while
// none is, claims a turn if the call may. It returns the permit taken, or
// the error that ends the call (after end), or neither, with again set
// when the call should read again at once.
func (c *semCall) round(ctx context.Context, v view, rushed bool) (taken, bool, error) {
	i, ok := c.pick(v)
	if !ok {
		if !c.wait {
			return taken{}, false, c.end(fmt.Errorf("%w: semaphore %q: all %d permits held", ErrNoPermit, c.sem.name, len(c.sem.ids)))
		}
		if err := c.maybeClaim(ctx, v); err != nil {
			return taken{}, false, c.end(err)
		}
		return taken{}, false, nil
	}
	lctx, p, err := c.take(ctx, i)
	if err == nil {
		c.took(i)
		return taken{lctx, p}, false, nil
	}
	if errors.Is(err, ErrLocked) {
		c.turnover = true // another acquirer took the permit we found free
	} else {
		c.renew(i) // the write may land later: never write its version again
	}
	switch {
	case !retryable(ctx, err):
		return taken{}, false, c.end(err)
	case !c.wait && errors.Is(err, ErrLocked):
		return taken{}, false, c.end(fmt.Errorf("%w: semaphore %q: %w", ErrNoPermit, c.sem.name, err))
	case !c.wait:
		return taken{}, false, c.end(err)
	}
	return taken{}, !rushed, nil
}

// version returns the version of the call's writes to permit i.
func (c *semCall) version(i int) uuid.UUID {
	if c.versions[i] == uuid.Nil {
		c.versions[i] = uuid.New()
	}
	return c.versions[i]
}

// pick chooses the permit to take from a read: the one our claim stands
// on, if it is free, else one of the free ones at random.
func (c *semCall) pick(v view) (int, bool) {
	if len(v.free) == 0 {
		return 0, false
	}
	for _, i := range v.free {
		if i == c.claimAt && c.claim.standing {
			return i, true
		}
	}
	return v.free[rand.N(len(v.free))], true
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
// The write carries the call's version of permit i, which passes the
// call's own claim.
func (c *semCall) take(ctx context.Context, i int) (context.Context, *Permit, error) {
	sem := c.sem
	m := &Mutex{s: sem.s, id: sem.ids[i], extra: &mutexExtra{data: sem.data}}
	lctx, err := sem.s.lock(ctx, m, lockCall{parent: ctx, start: c.start, version: c.version(i), tally: &c.attempts})
	if err != nil {
		return nil, nil, err
	}
	l, _ := LeaseFrom(lctx)
	return lctx, &Permit{sem: sem, m: m, index: i, lease: l}, nil
}
