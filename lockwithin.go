package dynamutex

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// LockWithin is Lock with a bound on the wait alone: it waits at most wait
// for the lock, and the context it returns is a child of ctx, as Lock's is,
// which does not end when wait runs out. Use it where Lock would be given a
// context with a timeout only to bound the wait: that timeout would also
// end the lock's context, and with it the protected work, at that moment.
// Keep Lock with a bounded ctx when the work must end by the same deadline
// (a request handler's), since then the lock should not outlive it either.
//
// When wait runs out while the lock is held elsewhere, LockWithin returns a
// *HeldError (errors.Is ErrLocked) that names the holder and whose Reason
// says the wait ran out. When it runs out before DynamoDB has answered at
// all, the error satisfies errors.Is(err, context.DeadlineExceeded). A wait
// that is not positive is an *OptionError: call Lock to wait without a
// bound. Everything else is as for Lock.
func (m *Mutex) LockWithin(ctx context.Context, wait time.Duration) (context.Context, error) {
	if wait <= 0 {
		return nil, optionError("LockWithin", "the wait must be positive, got %v; call Lock to wait without a bound", wait)
	}
	wctx, cancel := context.WithTimeoutCause(ctx, wait, errWaitBound)
	defer cancel()
	return m.s.lock(wctx, m, lockCall{wait: true, parent: ctx, bound: wait})
}

// errWaitBound is the cause that ends the wait of a LockWithin call whose
// bound ran out. It wraps context.DeadlineExceeded, so that a caller who
// tests for a deadline finds one even when no holder was seen.
var errWaitBound = fmt.Errorf("dynamutex: the wait bound of LockWithin ran out: %w", context.DeadlineExceeded)

// waited turns the error that ended a Lock call into what the caller gets.
// held describes the last holder the call saw: it is returned when the
// wait bound ran out, and for a refusal by another holder of this Session.
func (c lockCall) waited(held *HeldError, err error) error {
	switch {
	case errors.Is(err, errWaitBound):
		held.Reason = fmt.Sprintf("waited %v, the bound given to LockWithin", c.bound)
		return held
	case held.Local && errors.Is(err, ErrLocked):
		return held
	}
	return err
}
