package main

import (
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/dynamutex/dynamutex"
)

// clockBoundFlag registers --clock-bound on fs, for the commands whose
// Session reads or takes records: run, status and list.
func clockBoundFlag(fs *flag.FlagSet, d *time.Duration) {
	fs.DurationVar(d, "clock-bound", 0, "this machine's wall clock is within D of true time")
}

// clockOptions are the Session options of --clock-bound D: none when it was
// not given, since a bound of 0 is a declaration too (a perfect clock), not
// the absence of one. The library checks the value. A Session has one
// observer, so run's tally of its wait (nil for status and list) is it, and
// passes the events on to the clock warning.
func (a *app) clockOptions(c *common, d time.Duration, tally *waitTally) []dynamutex.Option {
	var opts []dynamutex.Option
	var obs dynamutex.Observer
	if c.isGiven("clock-bound") {
		opts = append(opts, dynamutex.WithClockBound(d))
		if !c.verbose {
			// With --verbose the library's own Warn says it.
			obs = &clockWarner{w: a.stderr, source: c.source("clock-bound"), bound: d}
		}
	}
	if tally != nil {
		tally.next, obs = obs, tally
	}
	if obs != nil {
		opts = append(opts, dynamutex.WithObserver(obs))
	}
	return opts
}

// clockWarner tells the user when DynamoDB's replies show this machine's
// clock outside the bound it declared. The Session is safe then (it stops
// taking records over by clock), but the declaration is wrong, and the one
// who made it should hear so even without --verbose.
type clockWarner struct {
	w      io.Writer
	source string // --clock-bound or DYNAMUTEX_CLOCK_BOUND
	bound  time.Duration
}

// Observe prints the clock events and ignores the others.
func (cw *clockWarner) Observe(ev dynamutex.Event) {
	switch ev.Kind {
	case dynamutex.EventClockUntrusted:
		fmt.Fprintf(cw.w, "dynamutex: warning: this machine's clock is %v off DynamoDB's, more than %s %v allows; "+
			"taking locks over by watching only, until it agrees again\n", ev.Skew.Round(time.Millisecond), cw.source, cw.bound)
	case dynamutex.EventClockTrusted:
		fmt.Fprintf(cw.w, "dynamutex: this machine's clock agrees with DynamoDB's within %s %v again\n", cw.source, cw.bound)
	}
}
