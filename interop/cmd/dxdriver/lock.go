package main

import (
	"context"
	"errors"
	"time"

	"github.com/dynamutex/dynamutex"
	"github.com/dynamutex/dynamutex/interop"
)

// acquire takes c's lock: TryLock for try, LockWithin wait_ms for acquire
// (Lock when wait_ms is 0). The lock context is kept for state.
func (d *driver) acquire(c interop.Command) (interop.Reply, error) {
	if h := d.locks[c.Key]; h != nil && !h.out {
		return interop.Reply{}, &refusal{"AlreadyHeld", "this driver holds " + c.Key + " already; release it first"}
	}
	m, err := d.mutex(c)
	if err != nil {
		return interop.Reply{}, err
	}
	var lctx context.Context
	switch {
	case c.Op == "try":
		lctx, err = m.TryLock(context.Background())
	case c.WaitMS > 0:
		lctx, err = m.LockWithin(context.Background(), time.Duration(c.WaitMS)*time.Millisecond)
	default:
		lctx, err = m.Lock(context.Background())
	}
	if err != nil {
		return interop.Reply{}, err
	}
	l, _ := dynamutex.LeaseFrom(lctx)
	d.locks[c.Key] = &held{m: m, ctx: lctx, token: l.Token()}
	r := interop.Reply{OK: true, Key: c.Key, Sort: l.SortKey(), Owner: l.Owner(), Token: l.Token(), LeaseMS: c.LeaseMS}
	r.RVN, _ = d.version(c)
	return r, nil
}

// release unlocks c's lock. Its reply carries the lock context's status
// as it was before Unlock ran, so that a test knows whether the lock had
// already been lost while it thought it held it.
func (d *driver) release(c interop.Command) (interop.Reply, error) {
	h := d.locks[c.Key]
	if h == nil || h.out {
		return interop.Reply{}, &refusal{"NotHeld", "this driver holds no lock on " + c.Key}
	}
	status, cause := d.statusOf(h)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	err := h.m.Unlock(ctx)
	h.out = true
	r := interop.Reply{OK: err == nil, Key: c.Key, Token: h.token, Status: status, Cause: cause}
	if err != nil {
		f := failure(err)
		r.Error, r.Class = f.Error, f.Class
	}
	return r, nil
}

// state says whether c's lock context is live, and if not what ended it.
func (d *driver) state(c interop.Command) (interop.Reply, error) {
	h := d.locks[c.Key]
	if h == nil {
		return interop.Reply{}, &refusal{"NotHeld", "this driver acquired no lock on " + c.Key}
	}
	status, cause := d.statusOf(h)
	return interop.Reply{OK: true, Key: c.Key, Token: h.token, Status: status, Cause: cause}, nil
}

// statusOf names what ended h's lock context, in the Python client's
// words where they fit: LOCKED while it is live. A loss the Session
// reported (losses) is LOST whatever ended the context first; the cause
// then names both.
func (d *driver) statusOf(h *held) (status, cause string) {
	lost := d.losses.of(h.token)
	if h.ctx.Err() == nil && lost == nil {
		return "LOCKED", ""
	}
	err := context.Cause(h.ctx)
	if lost != nil {
		if err == nil {
			// A loss the lock context does not show: the holder would
			// carry on, unaware. Named apart so that no test mistakes it.
			return "LOST_CONTEXT_LIVE", lost.Error()
		}
		if errors.Is(err, dynamutex.ErrLockLost) {
			return "LOST", lost.Error()
		}
		return "LOST", lost.Error() + "; the lock context ended before: " + err.Error()
	}
	switch {
	case errors.Is(err, dynamutex.ErrLockLost):
		status = "LOST"
	case errors.Is(err, dynamutex.ErrLeaseInDanger):
		status = "IN_DANGER"
	case errors.Is(err, dynamutex.ErrSessionClosed):
		status = "CLOSED"
	case errors.Is(err, dynamutex.ErrUnlocked):
		status = "RELEASED"
	default:
		status = "ENDED"
	}
	return status, err.Error()
}
