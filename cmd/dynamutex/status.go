package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/dynamutex/dynamutex"
)

// statusCommand implements `dynamutex status KEY`: one strongly consistent
// read of the key's record (Session.Inspect), which writes nothing.
//
// A key without a record is not an error: it was never locked, or its idle
// record expired, and either way the lock is free. It is reported as state
// "absent" with exit code 0, so that exit code 1 keeps meaning that the
// state could not be read (or the record is corrupt).
func (a *app) statusCommand(c *common, args []string) int {
	fs, o := statusFlags(c)
	operands, err := c.parseInterleaved("status", fs, args)
	if err != nil {
		return a.helpOrUsage(err, statusHelp)
	}
	switch {
	case len(operands) > 1:
		return a.fail(usageError("status", "status takes one KEY, got %d: %q", len(operands), operands))
	case len(operands) == 1 && c.isGiven("key") && c.given["key"] == "":
		return a.fail(usageError("status", "give the key once: as KEY or as --key, not both"))
	case len(operands) == 1:
		o.key = operands[0] // an operand wins over DYNAMUTEX_KEY
	case o.key == "":
		return a.fail(usageError("status", "no lock key: dynamutex status KEY"))
	}
	if c.isGiven("slots") {
		return a.slotsStatus(c, o)
	}
	v, code, err := a.inspect(c, o.key, a.clockOptions(c, o.bound, nil)...)
	if err != nil {
		return a.fail(err)
	}
	if o.json {
		if err := writeJSON(a.stdout, v); err != nil {
			return a.fail(err)
		}
		return code
	}
	a.printStatus(v)
	return code
}

// statusOptions are the options of status besides the common ones.
type statusOptions struct {
	key   string
	json  bool
	bound time.Duration // --clock-bound, if given
	slots int           // --slots: KEY names a semaphore of this many permits
}

// statusFlags returns the flag set of status and the options it fills.
func statusFlags(c *common) (*flag.FlagSet, *statusOptions) {
	o := &statusOptions{}
	fs := c.flagSet("status")
	fs.StringVar(&o.key, "key", "", "lock key")
	fs.BoolVar(&o.json, "json", false, "print JSON")
	fs.IntVar(&o.slots, "slots", 0, "KEY names a semaphore of N permits: show its holders out of N")
	clockBoundFlag(fs, &o.bound)
	return fs, o
}

// slotsStatus is status --slots N: the semaphore KEY as one entry.
func (a *app) slotsStatus(c *common, o *statusOptions) int {
	if o.slots < 1 || o.slots > maxSlots {
		return a.fail(usageError("status", "%s must be from 1 to %d, got %d", c.source("slots"), maxSlots, o.slots))
	}
	sv, err := a.inspectSlots(c, o.key, o.slots, a.clockOptions(c, o.bound, nil)...)
	if err != nil {
		return a.fail(err)
	}
	if o.json {
		if err := writeJSON(a.stdout, sv); err != nil {
			return a.fail(err)
		}
		return exitOK
	}
	printSlots(a.stdout, sv)
	return exitOK
}

// inspect reads the record of key and returns its view with the exit code
// status ends with: 0, or 1 for a corrupt record. opts are the Session's
// (a clock bound, which decides whether a passed deadline makes it free).
func (a *app) inspect(c *common, key string, opts ...dynamutex.Option) (lockView, int, error) {
	ctx, cancel := context.WithTimeout(context.Background(), setupTimeout)
	defer cancel()
	sess, err := a.connect(ctx, c, opts...)
	if err != nil {
		return lockView{}, 0, err
	}
	defer sess.Close(ctx)
	info, err := sess.Inspect(ctx, key, c.sortValues()...)
	switch {
	case errors.Is(err, dynamutex.ErrNoRecord):
		return absentView(key), exitOK, nil
	case errors.Is(err, dynamutex.ErrCorruptRecord):
		return viewOf(info), exitFailure, nil
	case err != nil:
		return lockView{}, 0, err
	}
	return viewOf(info), exitOK, nil
}

// printStatus prints one record for people, as aligned "field  value" lines.
func (a *app) printStatus(v lockView) {
	w := tabwriter.NewWriter(a.stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintf(w, "key:\t%s\n", display(v.Key))
	if v.SortKey != "" {
		fmt.Fprintf(w, "sort key:\t%s\n", display(v.SortKey))
	}
	switch v.State {
	case stateAbsent:
		fmt.Fprintf(w, "state:\t%s: no record, so the lock is free (never taken, or its idle record expired)\n", v.State)
	case stateCorrupt:
		fmt.Fprintf(w, "state:\t%s: not written by dynamutex, or damaged; run refuses this key\n", v.State)
		fmt.Fprintf(w, "error:\t%s\n", problem(v.err))
	default:
		now := time.Now()
		switch {
		case v.State == stateHeld && v.SessionAlive != nil && !*v.SessionAlive:
			fmt.Fprintf(w, "state:\t%s by a Session that has ended: a run takes it over at once\n", v.State)
		case v.State == stateHeld && v.Free:
			fmt.Fprintf(w, "state:\t%s, past its deadline by this machine's clock: a run with --clock-bound takes it over at once\n", v.State)
		default:
			fmt.Fprintf(w, "state:\t%s\n", v.State)
		}
		fmt.Fprintf(w, "owner:\t%s\n", v.ownerText())
		if v.Client != "" {
			fmt.Fprintf(w, "client:\t%s: written by that lock client, not dynamutex; a run takes it over "+
				"after watching it unchanged for its lease, as that client does\n", v.Client)
		}
		if v.SessionAlive != nil {
			fmt.Fprintf(w, "session:\t%s\n", v.sessionText())
		}
		fmt.Fprintf(w, "token:\t%s\n", v.tokenText())
		fmt.Fprintf(w, "lease:\t%s\n", v.leaseText())
		fmt.Fprintf(w, "last write:\t%s\n", v.lastWriteText(now))
		if v.ClaimedBy != "" {
			fmt.Fprintf(w, "next turn:\tclaimed by %s, a waiter that has waited past a second\n", display(v.ClaimedBy))
		}
		if !v.deadline.IsZero() {
			fmt.Fprintf(w, "deadline:\t%s\n", v.deadlineText(now))
		}
		if v.Election != nil {
			fmt.Fprintf(w, "election:\t%s\n", display(v.Election.Name))
			fmt.Fprintf(w, "leader:\t%s\n", v.Election.text())
		} else {
			fmt.Fprintf(w, "data:\t%s\n", v.dataText(0))
		}
	}
	_ = w.Flush()
}
