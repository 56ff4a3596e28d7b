package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/dynamutex/dynamutex"
)

// waitNoticeDelay is how long a Lock may take before run says that it
// waits. A free lock is granted in one round trip, well within it, so a
// run that does not wait prints nothing; a run that does is told within a
// moment, rather than sitting silent for minutes.
const waitNoticeDelay = 250 * time.Millisecond

// lockOrNotice is m.Lock(ctx) that says once on stderr, with or without
// --verbose, that it is waiting and for whom, if the lock was not granted
// within waitNoticeDelay. Naming the holder costs one read (Inspect) and no
// write, and only when the run really waits.
func (r *runner) lockOrNotice(ctx context.Context, m lockable) (context.Context, error) {
	type locked struct {
		ctx context.Context
		err error
	}
	// Buffered, and always received below: the goroutine never outlives
	// this call.
	done := make(chan locked, 1)
	go func() {
		lctx, err := m.Lock(ctx)
		done <- locked{lctx, err}
	}()
	t := time.NewTimer(waitNoticeDelay)
	defer t.Stop()
	select {
	case l := <-done:
		return l.ctx, l.err
	case <-t.C:
	}
	notice := r.waitingNotice(ctx)
	select {
	case l := <-done:
		// Granted, or given up, while the holder was read: the run no
		// longer waits, and saying so now would mislead.
		return l.ctx, l.err
	default:
	}
	if notice != "" {
		fmt.Fprintln(r.a.stderr, notice)
	}
	l := <-done
	return l.ctx, l.err
}

// waitingNotice reads the record of the key once and says who holds it:
// `dynamutex: waiting for lock "K": held by "O" (token 7, last write 2s
// ago)`. It returns "" when the read shows the lock free, which Lock is
// then about to take, or when ctx ended (a signal, --wait), which has its
// own message.
func (r *runner) waitingNotice(ctx context.Context) string {
	if r.o.slots > 0 && ctx.Err() == nil {
		return fmt.Sprintf("dynamutex: waiting for one of %d slots of semaphore %q", r.o.slots, r.o.key)
	}
	if r.o.slots > 0 {
		return ""
	}
	ictx, cancel := context.WithTimeout(ctx, inspectTimeout)
	defer cancel()
	info, err := r.sess.Inspect(ictx, r.o.key)
	r.tally.add(1)
	prefix := fmt.Sprintf("dynamutex: waiting for lock %q", r.o.key)
	limit := ""
	if r.o.wait > 0 {
		limit = fmt.Sprintf("; giving up after %v", r.o.wait)
	}
	switch {
	case ctx.Err() != nil, errors.Is(err, dynamutex.ErrNoRecord):
		return ""
	case err != nil:
		r.a.progress(r.c, "reading the holder of lock %q: %v", r.o.key, err)
		return fmt.Sprintf("%s (its holder could not be read)%s", prefix, limit)
	case info.Released && info.ClaimedBy != "":
		return fmt.Sprintf("%s: released, but %q has waited longer and has the next turn%s", prefix, info.ClaimedBy, limit)
	case info.Released:
		return ""
	}
	written := ""
	if !info.LastWrite.IsZero() {
		written = ", last write " + writeAge(info.LastWrite, time.Now())
	}
	return fmt.Sprintf("%s: held by %q (token %d%s)%s", prefix, info.Owner, info.Token, written, limit)
}
