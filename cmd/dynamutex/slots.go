package main

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"

	"github.com/dynamutex/dynamutex"
)

// maxSlots is the most permits --slots takes: the library's limit, one
// BatchGetItem's worth of keys.
const maxSlots = 100

// lockable is what run holds while CMD runs: a Mutex, or with --slots one
// permit of a Semaphore, which is held, renewed, lost and released exactly
// as a lock is.
type lockable interface {
	Lock(ctx context.Context) (context.Context, error)
	TryLock(ctx context.Context) (context.Context, error)
	Unlock(ctx context.Context) error
}

var _ lockable = (*dynamutex.Mutex)(nil)

// slotLock is one permit of semaphore KEY of N permits (--slots N), taken
// and released through the lockable methods.
type slotLock struct {
	sem    *dynamutex.Semaphore
	permit atomic.Pointer[dynamutex.Permit]
}

func (s *slotLock) Lock(ctx context.Context) (context.Context, error) {
	lctx, p, err := s.sem.Acquire(ctx)
	s.permit.Store(p)
	return lctx, err
}

// TryLock makes one attempt (--no-wait): a dead holder's permit is taken
// by clock (--clock-bound) or, without one, not at all.
func (s *slotLock) TryLock(ctx context.Context) (context.Context, error) {
	lctx, p, err := s.sem.TryAcquire(ctx)
	s.permit.Store(p)
	return lctx, err
}

func (s *slotLock) Unlock(ctx context.Context) error {
	p := s.permit.Swap(nil)
	if p == nil {
		return dynamutex.ErrNotLocked
	}
	return p.Release(ctx)
}

// newLockable is what run takes: the Mutex of --key, or with --slots a
// permit of the semaphore named by --key.
func (r *runner) newLockable() lockable {
	if r.o.slots > 0 {
		return &slotLock{sem: r.sess.NewSemaphore(r.o.key, r.o.slots)}
	}
	var opts []dynamutex.MutexOption
	if r.o.data != "" {
		opts = append(opts, dynamutex.WithData([]byte(r.o.data)))
	}
	if r.c.sortKeyValue != "" {
		opts = append(opts, dynamutex.WithSortKeyValue(r.c.sortKeyValue))
	}
	return r.sess.NewMutex(r.o.key, opts...)
}

// checkSlots refuses what --slots cannot do: a count out of range, and
// --data, which the permits' records use for the semaphore's name and limit.
func (o *runOptions) checkSlots(c *common) error {
	switch {
	case !c.isGiven("slots"):
		return nil
	case o.slots < 1 || o.slots > maxSlots:
		return usageError("run", "%s must be from 1 to %d, got %d", c.source("slots"), maxSlots, o.slots)
	case o.data != "":
		return usageError("run", "%s cannot be used with %s: a permit's record data holds the semaphore's limit",
			c.source("data"), c.source("slots"))
	}
	return nil
}

// slotsBusy reports a semaphore with every permit held (--no-wait), or
// returns false if err is not that.
func (a *app) slotsBusy(o *runOptions, err error) (int, bool) {
	if o.slots == 0 || !errors.Is(err, dynamutex.ErrNoPermit) {
		return 0, false
	}
	fmt.Fprintf(a.stderr, "dynamutex: semaphore %q is busy: all %d slots held\n", o.key, o.slots)
	return o.busyCode, true
}
