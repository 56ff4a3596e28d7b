package main

import (
	"time"

	"github.com/dynamutex/dynamutex"
)

// CMD must be dead before any other process may take the lock over. The
// lock falls into danger at the safe time after the send of its last
// confirmed renewal; nobody can take it over before a whole lease after
// that send. So between the danger sign and the earliest takeover there is
// the margin, lease − safe time (5 s at the default 20 s lease), and SIGTERM,
// the grace and SIGKILL must all fit in it.
//
// The default grace is half the margin, and a --grace is refused above
// three quarters of it: the last quarter at least is room for the danger
// timer to fire late on a loaded machine, for SIGKILL to land on the whole
// process group, and for the difference in clock rates between this machine
// and the taker's over one lease.
const (
	graceDefaultShare = 2 // default grace = margin / 2
	graceRoomShare    = 4 // largest grace = margin − margin / 4
)

// margin returns lease − safe time of a run with --lease lease, as the
// library derives the safe time from it.
func margin(lease time.Duration) time.Duration {
	t := dynamutex.DeriveTimings(dynamutex.Timings{Lease: lease})
	return t.Lease - t.Safe
}

// defaultGraceFor is the grace of a run with --lease lease and no --grace.
func defaultGraceFor(lease time.Duration) time.Duration {
	return margin(lease) / graceDefaultShare
}

// maxGraceFor is the longest --grace that a run with --lease lease accepts.
func maxGraceFor(lease time.Duration) time.Duration {
	m := margin(lease)
	return m - m/graceRoomShare
}

// checkGrace fills in the default grace, or refuses a --grace that would
// let CMD outlive the margin.
func (o *runOptions) checkGrace(c *common) error {
	if o.lease <= 0 {
		return nil // refused by the library, with its own message
	}
	if !c.isGiven("grace") {
		o.grace = defaultGraceFor(o.lease)
		return nil
	}
	if longest := maxGraceFor(o.lease); o.grace > longest {
		return usageError("run", "%s %v is too long for a lease of %v: the lock may be taken over %v after "+
			"it falls into danger (lease − safe time), and the command must be dead by then; "+
			"the longest grace for this lease is %v (default %v), or raise --lease",
			c.source("grace"), o.grace, o.lease, margin(o.lease), longest, defaultGraceFor(o.lease))
	}
	return nil
}
