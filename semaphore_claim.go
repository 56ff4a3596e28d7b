package dynamutex

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/cenkalti/backoff/v4"
	"github.com/google/uuid"
)

// Starvation mode for a semaphore's waiters, as for a lock's (claim.go). A
// waiter reads all n permits and writes only to take a free one, so a
// holder that releases and acquires again at once wins the permit it just
// released before any waiter, which must first read the release. An
// Acquire that has seen a permit pass to another acquirer and has waited
// longer than claimAfter therefore claims the next turn of one held
// permit: the same claim attribute, gate and rules as a Lock call's, with
// the version the call writes to that permit, which its take of it then
// carries. Each starving waiter claims a permit that no live claim stands
// on, or, when every held permit is claimed, takes over the claim of a
// waiter that began after it, so that the longest waiter always holds a
// claim and is served at that permit's next release at the latest. A
// claimant takes any other permit that frees up first, and its claim is
// then removed.

// maybeClaim writes a claim when the call has lost a turn and waited long
// enough: a first claim on a permit, or a re-assertion of its standing
// claim when one is due.
func (c *semCall) maybeClaim(ctx context.Context, v view) error {
	s := c.sem.s
	now := time.Now()
	if !c.turnover || now.Sub(c.start) < s.cfg.claimAfter() {
		return nil
	}
	i := c.claimAt
	if i >= 0 {
		if !c.claim.standing || now.Sub(c.claim.landed) < s.cfg.claimBeat() {
			return nil // in doubt until the next read, or not due yet
		}
	} else if i = c.claimTarget(v, now); i < 0 {
		return nil
	}
	if v.recs[i] == nil {
		return nil // the record is gone: the permit is free to take
	}
	return c.writeClaim(ctx, i, *v.recs[i])
}

// claimTarget picks the held permit to claim: one on which no live claim
// stands, at random, or else one claimed by a waiter that began after this
// call; -1 if there is none.
func (c *semCall) claimTarget(v view, now time.Time) int {
	s := c.sem.s
	var open, younger []int
	for i, rec := range v.recs {
		switch {
		case rec == nil:
		case rec.claim.none() || s.claimStale(c.sem.ids[i], rec.claim, now):
			open = append(open, i)
		case rec.claim.version != c.version(i).String() && c.wallStart.Before(rec.claim.since):
			younger = append(younger, i)
		}
	}
	switch {
	case len(open) > 0:
		return open[rand.N(len(open))]
	case len(younger) > 0:
		return younger[rand.N(len(younger))]
	}
	return -1
}

// writeClaim makes one claim write on permit i, whose record rec was just
// read.
func (c *semCall) writeClaim(ctx context.Context, i int, rec record) error {
	s := c.sem.s
	sent, err := s.sendClaim(ctx, c.sem.ids[i], claimFor{version: c.version(i).String(), since: c.wallStart, rec: rec})
	c.attempts++
	c.claimed[i] = true
	c.claimAt, c.claim.sent = i, sent
	var cf *conditionFailed
	switch {
	case err == nil:
		c.stood(i, sent)
		return nil
	case errors.As(err, &cf):
		// An older waiter's claim got there first, or took ours over.
		c.claimAt, c.claim.standing, c.poll = -1, false, 0
		return nil
	case classify(err) == kindFatal:
		return fmt.Errorf("dynamutex: semaphore %q: %w", c.sem.name, err)
	case classify(err) == kindUnknown:
		c.claim.inDoubt = true
	}
	return nil // the next read tells whether it landed
}

// stood records news that the call's claim on permit i, sent at sent,
// landed: a claim that did not stand before starts the fast reads, and the
// call's first is announced.
func (c *semCall) stood(i int, sent time.Time) {
	fresh, first := c.claim.stood(sent)
	if fresh {
		c.poll = c.sem.s.cfg.claimPoll()
	}
	if first {
		c.sem.s.emit(Event{Kind: EventClaimed, Key: c.sem.ids[i].key, Wait: time.Since(c.start), Attempts: c.attempts})
	}
}

// took ends a call that took permit i: its claims on other permits must
// not hold them back from everyone else. The take of a permit whose claim
// was known to stand removed that claim itself.
func (c *semCall) took(i int) {
	if c.claimAt == i && c.claim.standing && !c.claim.inDoubt {
		c.claimed[i] = false
	}
	c.dropClaims()
}

// end ends a call that holds no permit, with err: its claims are removed.
func (c *semCall) end(err error) error {
	c.dropClaims()
	return err
}

// dropClaims has the heartbeat loop remove every claim the call may have
// written.
func (c *semCall) dropClaims() {
	for i := range c.claimed {
		c.dropClaim(i)
	}
}

// dropClaim has the heartbeat loop remove the call's claim on permit i, if
// it may have written one.
func (c *semCall) dropClaim(i int) {
	if c.claimed[i] {
		c.sem.s.abandonLater(lockVersion{id: c.sem.ids[i], version: c.version(i).String(), claim: true})
		c.claimed[i] = false
	}
}

// renew moves the call to a new version of permit i after a take whose
// outcome is unknown: the heartbeat loop releases whatever that write may
// have taken, and a later take under the same version could be what it
// releases. A claim on i under the old version goes too; the call claims
// again under the new one if it still starves.
func (c *semCall) renew(i int) {
	c.dropClaim(i)
	c.versions[i] = uuid.New()
	if c.claimAt == i {
		c.claimAt, c.poll = -1, 0
		c.claim = claimState{announced: c.claim.announced}
	}
}

// pause is a waiter's sleep before its next read: the backoff interval,
// faster while it claims or may claim a turn, and, after a read, never past
// the moment a permit it watches may be taken over.
func (c *semCall) pause(ctx context.Context, v view, read bool) error {
	s := c.sem.s
	d := c.bo.NextBackOff()
	if d == backoff.Stop {
		return fmt.Errorf("%w: semaphore %q: the backoff policy gave up", ErrNoPermit, c.sem.name)
	}
	d = s.cfg.pace(d, &c.poll, c.turnover && time.Since(c.start) >= s.cfg.claimAfter())
	if read {
		d = min(d, v.until)
	}
	return s.sleep(ctx, d)
}
