package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"strconv"
	"time"

	"github.com/dynamutex/dynamutex"
)

// inspectTimeout bounds the read that names the holder after --wait ran out;
// the name is a courtesy, not worth a long wait.
const inspectTimeout = 5 * time.Second

// runner is one `dynamutex run` from the moment its Session is open.
type runner struct {
	a    *app
	c    *common
	o    *runOptions
	sess *dynamutex.Session
	sigs chan os.Signal // caughtSignals, read by the supervisor once CMD runs
	// tally adds up the wait for the lock; it is the Session's observer.
	tally *waitTally
}

// lockAndRun takes the lock, then runs CMD under it. watch is ended as soon
// as the lock is granted or refused.
func (r *runner) lockAndRun(ctx context.Context, watch *waitWatch) int {
	m := r.newLockable()
	r.tally.begin()
	lctx, err := r.acquire(ctx, m)
	watch.end()
	if err != nil {
		var elapsed *waitElapsed
		if errors.As(context.Cause(ctx), &elapsed) {
			elapsed.holder = r.holder()
		}
		return r.a.notAcquired(r.o, err, context.Cause(ctx))
	}
	// The lock is held from here on, and every path below must Unlock.
	if ctx.Err() != nil {
		// A signal or the end of --wait arrived as the lock was granted. They
		// win, as if they had come a moment earlier; CMD is not started.
		r.unlock(m, true)
		return r.a.notAcquired(r.o, nil, context.Cause(ctx))
	}
	select {
	case sig := <-r.sigs:
		r.unlock(m, true)
		return r.a.notAcquired(r.o, nil, &signalError{sig: sig})
	default:
	}
	return r.execute(lctx, m)
}

// acquire waits for the lock, or tries it with --no-wait (see tryOnce).
func (r *runner) acquire(ctx context.Context, m lockable) (context.Context, error) {
	if r.o.noWait && r.o.slots > 0 {
		r.a.progress(r.c, "trying one of %d slots of semaphore %q once (--no-wait)", r.o.slots, r.o.key)
		return m.TryLock(ctx)
	}
	if r.o.noWait {
		return r.tryOnce(ctx, m)
	}
	if r.o.wait > 0 {
		r.a.progress(r.c, "taking lock %q, waiting up to %v", r.o.key, r.o.wait)
	} else {
		r.a.progress(r.c, "taking lock %q, waiting as long as it takes", r.o.key)
	}
	return r.lockOrNotice(ctx, m)
}

// reportAcquired says on --verbose that the lock is held, after how long
// and how many requests in all, and returns its Lease.
func (r *runner) reportAcquired(lctx context.Context) *dynamutex.Lease {
	lease, _ := dynamutex.LeaseFrom(lctx)
	r.a.progress(r.c, "acquired lock %q (token %d) %s", r.o.key, lease.Token(), r.tally.summary())
	return lease
}

// holder names the holder of the lock, for the message after --wait ran
// out, or returns "" if it cannot be read.
func (r *runner) holder() string {
	if r.o.slots > 0 {
		return fmt.Sprintf("all %d slots held", r.o.slots)
	}
	ctx, cancel := context.WithTimeout(context.Background(), inspectTimeout)
	defer cancel()
	info, err := r.sess.Inspect(ctx, r.o.key)
	if err != nil || info.Released {
		return ""
	}
	return fmt.Sprintf("held by %q (token %d)", info.Owner, info.Token)
}

// execute runs CMD while the lock is held, releases the lock when CMD has
// exited, and returns the exit code.
func (r *runner) execute(lctx context.Context, m lockable) int {
	lease := r.reportAcquired(lctx)
	env := append(os.Environ(),
		envToken+"="+strconv.FormatUint(lease.Token(), 10),
		envKey+"="+r.o.key,
		envTable+"="+r.c.table,
		envOwner+"="+r.sess.Owner(),
	)
	child, err := startChild(r.o.argv, env)
	if err != nil {
		r.unlock(m, true)
		return r.a.cannotRun(r.o.argv[0], err)
	}
	sup := &supervisor{a: r.a, key: r.o.key, child: child, lock: lctx, sigs: r.sigs,
		grace: r.o.grace, safe: r.sess.Timings().Safe}
	out := sup.wait()
	if r.unlock(m, out.lost) {
		return exitLost
	}
	return out.code
}

// unlock releases the lock. It reports true when the release found the
// lock lost and that had not been noticed (quiet is false): CMD then may
// have run without exclusive access. With quiet, a lost lock has already
// been reported, or no longer matters.
func (r *runner) unlock(m lockable, quiet bool) bool {
	// Unlock waits at most one lease for DynamoDB and releases even after a
	// signal, so it gets a context nothing cancels.
	err := m.Unlock(context.Background())
	switch {
	case err == nil:
		r.a.progress(r.c, "released lock %q", r.o.key)
		return false
	case errors.Is(err, dynamutex.ErrLockLost):
		if quiet {
			return false
		}
		fmt.Fprintf(r.a.stderr, "dynamutex: %s before it was released; the command may have run without exclusive access\n",
			describeEnd(r.o.key, err, r.sess.Timings().Safe))
		return true
	default:
		r.releaseFailed(err, !quiet)
		return false
	}
}

// cannotRun reports a CMD that could not be started, with the codes shells
// and flock(1) use: 127 when it does not exist, 126 otherwise.
func (a *app) cannotRun(name string, err error) int {
	code := exitCannotRun
	if errors.Is(err, exec.ErrNotFound) || errors.Is(err, fs.ErrNotExist) {
		code = exitNotFound
	}
	fmt.Fprintf(a.stderr, "dynamutex: cannot run %q: %v\n", name, err)
	return code
}
