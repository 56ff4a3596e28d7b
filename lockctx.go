package dynamutex

import (
	"context"
	"fmt"
	"time"
)

// A lockContext is the context that Lock returns: the lease's own
// cancellable context, Lease.ctx, which also answers LeaseFrom with the
// Lease. It is the Lease itself seen as a context, so it costs no
// allocation where context.WithValue would cost 48 bytes a held lock. Every
// other question goes to Lease.ctx, so context.Cause, child contexts and
// the values of the caller's context behave as with context.WithValue.
type lockContext Lease

var _ context.Context = (*lockContext)(nil)

// Deadline is the deadline of the context Lock was given, if any.
func (c *lockContext) Deadline() (time.Time, bool) { return c.ctx.Deadline() }

// Done is closed when the lock's context ends.
func (c *lockContext) Done() <-chan struct{} { return c.ctx.Done() }

// Err is non-nil once the lock's context has ended.
func (c *lockContext) Err() error { return c.ctx.Err() }

// Value is the Lease for leaseKey, and the value of the context Lock was
// given for any other key.
func (c *lockContext) Value(key any) any {
	if key == (leaseKey{}) {
		return (*Lease)(c)
	}
	return c.ctx.Value(key)
}

// String names the context as context.WithValue's would.
func (c *lockContext) String() string {
	return fmt.Sprintf("%v.WithValue(dynamutex.Lease{Key: %q})", c.ctx, c.id.key)
}
