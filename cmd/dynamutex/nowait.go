package main

import (
	"context"
	"errors"
	"time"

	"github.com/dynamutex/dynamutex"
)

// tryOnce is the acquisition of --no-wait. Its first TryLock takes a free
// lock, and with --clock-bound also one whose holder declared a bound and
// is past its deadline. A holder that is merely silent is watched: if the
// record says its holder last wrote longer than a lease ago, the same
// Session sleeps one lease and tries again. The Session remembers when it
// first saw that version of the record, so the second TryLock takes the
// lock over if the record stayed unchanged all along, and finds it held
// (the holder renewed, or someone else took it) otherwise. A holder that
// wrote within its lease, or a record without a write time, is busy at
// once: only a holder that looks dead is worth a lease of waiting.
func (r *runner) tryOnce(ctx context.Context, m lockable) (context.Context, error) {
	if r.c.isGiven("clock-bound") {
		r.a.progress(r.c, "trying lock %q once (--no-wait, clock bound %v)", r.o.key, r.o.bound)
	} else {
		r.a.progress(r.c, "trying lock %q once (--no-wait)", r.o.key)
	}
	lctx, err := m.TryLock(ctx)
	var held *dynamutex.HeldError
	if !errors.As(err, &held) || !r.looksDead(held, time.Now()) {
		return lctx, err
	}
	// A refused TryLock makes one request (none for a Local holder, which
	// never gets here).
	r.tally.add(1)
	if err := sleepCtx(ctx, held.Lease); err != nil {
		return nil, err
	}
	lctx, err = m.TryLock(ctx)
	var again *dynamutex.HeldError
	switch {
	case errors.As(err, &again) && again.Token == held.Token:
		r.a.progress(r.c, "holder %q wrote to the record during the watch: it is alive", again.Owner)
	case errors.As(err, &again):
		r.a.progress(r.c, "lock %q was taken by %q (token %d) during the watch", r.o.key, again.Owner, again.Token)
	case err == nil:
		r.a.progress(r.c, "took lock %q after watching it for a lease", r.o.key)
	}
	return lctx, err
}

// looksDead reports whether the holder in held last wrote longer than its
// lease ago by this machine's clock, and says on --verbose what it found.
// Renewals come several times a lease, so a live holder has always written
// more recently, unless the clocks disagree; that is why this only starts a
// watch, and never decides a takeover.
func (r *runner) looksDead(held *dynamutex.HeldError, now time.Time) bool {
	switch {
	case held.Local:
		return false
	case held.LastWrite.IsZero():
		r.a.progress(r.c, "holder %q left no write time (a record of an earlier release), so it cannot look dead: busy", held.Owner)
		return false
	}
	age := now.Sub(held.LastWrite)
	if age <= held.Lease {
		r.a.progress(r.c, "holder %q last wrote %s, within its lease of %v: busy", held.Owner,
			writeAge(held.LastWrite, now), held.Lease)
		return false
	}
	r.a.progress(r.c, "holder %q last wrote %s, longer than its lease: watching for %v", held.Owner,
		relative(held.LastWrite, now), held.Lease)
	return true
}

// sleepCtx sleeps for d, or until ctx ends (a signal), and then returns its
// cause.
func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return context.Cause(ctx)
	}
}
