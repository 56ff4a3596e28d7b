package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"time"

	"github.com/dynamutex/dynamutex"
)

// closeTimeout bounds Session.Close at exit, which only waits for a renewal
// in flight.
const closeTimeout = 5 * time.Second

// runOptions are the options of `dynamutex run`.
type runOptions struct {
	key      string
	owner    string
	data     string
	lease    time.Duration
	wait     time.Duration // 0: wait forever
	noWait   bool
	grace    time.Duration
	busyCode int
	bound    time.Duration // --clock-bound, if given (common.isGiven)
	// sessionLease: hold the lock under a Session record (--session-lease),
	// as services that use WithSessionLease do, so that the lock is taken
	// over on the same terms as theirs.
	sessionLease bool
	// slots: take one of this many permits of semaphore KEY (--slots)
	// rather than the lock KEY; 0 for a lock.
	slots int
	argv  []string // CMD and its arguments
}

// runCommand implements `dynamutex run`.
func (a *app) runCommand(c *common, args []string) int {
	o, err := parseRun(c, args)
	if err != nil {
		return a.helpOrUsage(err, runHelp)
	}
	if err := checkPlatform(); err != nil {
		return a.fail(err)
	}
	return a.runLocked(c, o)
}

// parseRun parses and checks the options of run. Checks that need the
// library (the lease, the key) are left to it, so that the tool never
// accepts less or more than the library does.
func parseRun(c *common, args []string) (*runOptions, error) {
	fs, o := runFlags(c)
	if err := c.parse("run", fs, args); err != nil {
		return nil, err
	}
	o.argv = fs.Args()
	switch {
	case o.key == "":
		return nil, usageError("run", "no lock key: pass --key KEY (or set DYNAMUTEX_KEY)")
	case c.given["key"] == envKey && os.Getenv(envToken) != "":
		return nil, usageError("run", "DYNAMUTEX_KEY=%q was set by an enclosing 'dynamutex run' that holds that lock, "+
			"so this run would wait for itself; pass --key explicitly", o.key)
	case len(o.argv) == 0:
		return nil, usageError("run", "no command to run: put it after --, as in: dynamutex run --key KEY -- CMD ARGS...")
	case o.noWait && c.isGiven("wait"):
		return nil, usageError("run", "%s and %s cannot be used together", c.source("wait"), c.source("no-wait"))
	case o.wait < 0:
		return nil, usageError("run", "%s must not be negative, got %v", c.source("wait"), o.wait)
	case o.grace < 0:
		return nil, usageError("run", "%s must not be negative, got %v", c.source("grace"), o.grace)
	case o.busyCode < 0 || o.busyCode > 255:
		return nil, usageError("run", "%s must be from 0 to 255, got %d", c.source("busy-exit-code"), o.busyCode)
	}
	if err := o.checkGrace(c); err != nil {
		return nil, err
	}
	if err := o.checkSlots(c); err != nil {
		return nil, err
	}
	return o, nil
}

// runFlags returns the flag set of run and the options it fills.
func runFlags(c *common) (*flag.FlagSet, *runOptions) {
	o := &runOptions{lease: dynamutex.DefaultLeaseDuration, busyCode: exitBusy}
	fs := c.flagSet("run")
	fs.StringVar(&o.key, "key", "", "lock key")
	fs.DurationVar(&o.lease, "lease", o.lease, "lease duration")
	fs.DurationVar(&o.wait, "wait", 0, "how long to wait for the lock")
	fs.BoolVar(&o.noWait, "no-wait", false, "fail at once if the lock is held")
	fs.DurationVar(&o.grace, "grace", 0, "time between SIGTERM and SIGKILL (default: half of lease − safe time)")
	fs.StringVar(&o.owner, "owner", "", "owner name stored in the record")
	fs.StringVar(&o.data, "data", "", "data stored in the record")
	fs.IntVar(&o.busyCode, "busy-exit-code", o.busyCode, "exit code when the lock is busy")
	clockBoundFlag(fs, &o.bound)
	fs.BoolVar(&o.sessionLease, "session-lease", false, "hold the lock under a Session record (WithSessionLease)")
	fs.IntVar(&o.slots, "slots", 0, "take one of N permits of semaphore KEY, so that at most N run at once")
	return fs, o
}

// sessionOptions set the lease from --lease; the library derives the
// heartbeat period and the safe time from it in the proportions of its
// defaults (20 s lease, 5 s heartbeat, 15 s safe time): renewals every
// quarter lease leave two more tries before the safe time at three
// quarters, and the last quarter is the margin for CMD to be told before
// anyone may take over.
func (o *runOptions) sessionOptions(a *app, c *common, tally *waitTally) []dynamutex.Option {
	opts := []dynamutex.Option{dynamutex.WithLeaseDuration(o.lease)}
	if o.owner != "" {
		opts = append(opts, dynamutex.WithOwner(o.owner))
	}
	if o.sessionLease {
		opts = append(opts, dynamutex.WithSessionLease())
	}
	return append(opts, a.clockOptions(c, o.bound, tally)...)
}

// runLocked connects, takes the lock, runs CMD under it and releases it.
func (a *app) runLocked(c *common, o *runOptions) int {
	// Caught from the very start: a signal while connecting or waiting must
	// end the wait cleanly rather than kill the process mid-request.
	sigs := make(chan os.Signal, 8)
	notifySignals(sigs)
	defer signal.Stop(sigs)
	ctx, cancel := context.WithCancelCause(context.Background())
	defer cancel(nil)

	watch := watchWait(cancel, sigs, o.wait)
	tally := &waitTally{}
	sess, err := a.connect(ctx, c, o.sessionOptions(a, c, tally)...)
	if err != nil {
		watch.end()
		return a.notAcquired(o, err, context.Cause(ctx))
	}
	defer func() {
		cctx, ccancel := context.WithTimeout(context.Background(), closeTimeout)
		defer ccancel()
		_ = sess.Close(cctx) // nothing is held any more; a slow close only delays the exit
	}()
	r := &runner{a: a, c: c, o: o, sess: sess, sigs: sigs, tally: tally}
	return r.lockAndRun(ctx, watch)
}

// notAcquired reports why the lock was not taken: it is held (--no-wait),
// --wait ran out, a signal came, or err. cause is the cause of the wait
// context, nil if it did not end.
func (a *app) notAcquired(o *runOptions, err, cause error) int {
	if code, ok := a.slotsBusy(o, err); ok {
		return code
	}
	var held *dynamutex.HeldError
	var sig *signalError
	var elapsed *waitElapsed
	switch {
	case errors.As(err, &held):
		fmt.Fprintf(a.stderr, "dynamutex: lock %q is busy: held by %q (token %d, lease %v%s)\n",
			o.key, held.Owner, held.Token, held.Lease, lastWritten(held))
		return o.busyCode
	case errors.As(cause, &sig):
		fmt.Fprintf(a.stderr, "dynamutex: %v while waiting for lock %q; the command was not run\n", sig, o.key)
		return sig.exitCode()
	case errors.As(cause, &elapsed):
		fmt.Fprintf(a.stderr, "dynamutex: lock %q is busy: %v\n", o.key, elapsed)
		return o.busyCode
	}
	return a.fail(err)
}

// lastWritten is ", last write 3s ago" for the busy message, or "" when the
// record has no write time.
func lastWritten(held *dynamutex.HeldError) string {
	if held.LastWrite.IsZero() {
		return ""
	}
	return ", last write " + writeAge(held.LastWrite, time.Now())
}
