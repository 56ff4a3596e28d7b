package dynamutex

import (
	"context"
	"fmt"
	"time"
)

// A lockContext is the context that Lock returns. It is the Lease itself
// seen as a context, so it costs no allocation where context.WithValue
// would cost 48 bytes a held lock, and it answers LeaseFrom with the Lease.
//
// Its cancellation, a context.WithCancelCause of the context Lock was
// given, is made the first time anyone asks the context a question that
// needs it (Done, Err, a Value other than the Lease's, or a child context
// or context.Cause, which ask those). A lock whose context nobody watches,
// as in a service that holds thousands of locks and checks LeaseFrom only,
// then costs neither the cancelCtx nor an entry among the children of its
// parent, about 140 bytes. If the lease ends before then, the cause is kept
// and the context is made already cancelled with it, so no caller can tell
// the difference: Err, Done and context.Cause say the same as they would
// have said had the context existed from the start.
type lockContext Lease

var _ context.Context = (*lockContext)(nil)

// lockEnd is the lock context's cancellation: made when the context is
// first used, or holding the cause alone when the lease ended first.
type lockEnd struct {
	ctx    context.Context // nil until the context is first used
	cancel context.CancelCauseFunc
	cause  error // why the lease ended before its context was used
}

// Deadline is the deadline of the context Lock was given, if any.
func (c *lockContext) Deadline() (time.Time, bool) { return c.parent.Deadline() }

// Done is closed when the lock's context ends.
func (c *lockContext) Done() <-chan struct{} { return (*Lease)(c).context().Done() }

// Err is non-nil once the lock's context has ended.
func (c *lockContext) Err() error { return (*Lease)(c).context().Err() }

// Value is the Lease for leaseKey, and the value of the context Lock was
// given for any other key. The other keys go to the cancellable context,
// which context.Cause and child contexts look themselves up by.
func (c *lockContext) Value(key any) any {
	if key == (leaseKey{}) {
		return (*Lease)(c)
	}
	return (*Lease)(c).context().Value(key)
}

// String names the context as context.WithValue's would.
func (c *lockContext) String() string {
	return fmt.Sprintf("%v.WithValue(dynamutex.Lease{Key: %q})", c.parent, c.m.id.key)
}

// context returns the lock context's cancellable context, made on first
// use; cancelled at once with the lease's end if that came first.
func (l *Lease) context() context.Context {
	for {
		e := l.end.Load()
		if e != nil && e.ctx != nil {
			return e.ctx
		}
		ctx, cancel := context.WithCancelCause(l.parent)
		next := &lockEnd{ctx: ctx, cancel: cancel}
		if e != nil {
			next.cause = e.cause
			cancel(e.cause)
		}
		if l.end.CompareAndSwap(e, next) {
			return ctx
		}
		cancel(nil) // another goroutine made it first: this one goes unused
	}
}

// cancel ends the lock context with cause. The first cause stays, as with
// context.WithCancelCause.
func (l *Lease) cancel(cause error) {
	for {
		e := l.end.Load()
		switch {
		case e != nil && e.ctx != nil:
			e.cancel(cause)
			return
		case e != nil:
			return
		case l.end.CompareAndSwap(nil, &lockEnd{cause: cause}):
			return
		}
	}
}
