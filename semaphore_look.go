package dynamutex

import (
	"context"
	"fmt"
	"time"
)

// view is what one read of all permits showed.
type view struct {
	free  []int         // the permits a write of this call may take now
	until time.Duration // the longest a waiter may sleep before one may be taken over
	recs  []*record     // each permit's record; nil where there is none
}

// look reads every permit with one BatchGetItem and says which are free,
// recording each held permit's version as a failed Lock would, so that a
// permit whose holder stopped renewing is taken over after its lease. It
// also notes what the read shows of turnovers and of the call's claim.
func (c *semCall) look(ctx context.Context) (view, error) {
	sem, s := c.sem, c.sem.s
	actx, cancel := context.WithTimeout(ctx, s.cfg.attemptTimeout())
	found, requests, err := s.store.readMany(actx, sem.ids, false)
	cancel()
	c.attempts += requests
	if err != nil {
		if ctx.Err() != nil {
			return view{}, context.Cause(ctx)
		}
		return view{}, fmt.Errorf("dynamutex: semaphore %q: %w", sem.name, err)
	}
	received := time.Now()
	v := view{until: time.Duration(1<<63 - 1), recs: make([]*record, len(sem.ids))}
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
		v.recs[i] = &rec
		s.observe(id, rec, received)
		c.noteRecord(i, rec)
		free, err := c.mayTake(ctx, i, rec)
		if err != nil {
			return view{}, err
		}
		if free {
			v.free = append(v.free, i)
			continue
		}
		v.until = s.capSleep(id, rec, v.until)
	}
	return v, nil
}

// mayTake reports whether a write of this call may take rec now: it is
// released, or its holder is dead, and no other waiter's live claim keeps
// the call out.
func (c *semCall) mayTake(ctx context.Context, i int, rec record) (bool, error) {
	s, id := c.sem.s, c.sem.ids[i]
	now := time.Now()
	if s.claimBlocks(id, rec, c.version(i).String(), now) {
		return false, nil
	}
	dead, err := s.holderDead(ctx, rec)
	if err != nil {
		return false, err
	}
	return rec.released || dead || s.takeable(id, rec, now), nil
}

// noteRecord tells c of permit i's record: a token other than the last one
// seen means the permit passed to another acquisition while c waited, a
// turn it lost; and the record shows whether c's claim on it stands.
func (c *semCall) noteRecord(i int, rec record) {
	if c.tokens[i] != 0 && rec.token != c.tokens[i] {
		c.turnover = true
	}
	c.tokens[i] = rec.token
	if i != c.claimAt {
		return
	}
	if rec.claim.version == c.version(i).String() {
		if !c.claim.standing {
			// A claim write whose reply was lost landed: the read is the
			// first news of it.
			c.stood(i, c.claim.sent)
		}
		return
	}
	// An older waiter took our claim over, or it has not landed: claim
	// afresh. Unless our last claim write is in doubt and may land yet, no
	// claim of ours is left to remove there when the call ends.
	if !c.claim.inDoubt {
		c.claimed[i] = false
	}
	c.claim.standing, c.claim.inDoubt, c.poll = false, false, 0
	c.claimAt = -1
}
