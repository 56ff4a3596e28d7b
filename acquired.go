package dynamutex

import "fmt"

// AcquiredHow tells how an acquisition took its lock (Event.How of
// EventAcquired): whether the key was free, handed on by a release, or taken
// from a holder that stopped renewing. Takeovers in particular are worth
// watching: each one is a holder that died, hung or lost its connection.
type AcquiredHow int

// The ways a lock is taken. String gives each a short, stable, lowercase
// name fit for a metric attribute value.
const (
	// AcquiredFree: there was no record: the key had never been locked, or
	// its record was deleted (by its TTL, or by hand). "free".
	AcquiredFree AcquiredHow = iota + 1
	// AcquiredReleased: the record had been released by its holder's
	// Unlock. "released".
	AcquiredReleased
	// AcquiredTakeoverWatched: the record was held, and this Session had
	// watched its version unchanged for a whole lease: its holder had
	// stopped renewing. "takeover_watched".
	AcquiredTakeoverWatched
	// AcquiredTakeoverClock: the record was held, and its clock deadline,
	// stamped under WithClockBound, had passed by this Session's clock.
	// "takeover_clock".
	AcquiredTakeoverClock
	// AcquiredAdopted: an earlier request of the same Lock call took the
	// lock, but its reply was lost; a later request found the record at
	// the version it writes, and the library adopted it. How the earlier
	// request took the lock is unknown. "adopted".
	AcquiredAdopted
)

func (h AcquiredHow) String() string {
	switch h {
	case AcquiredFree:
		return "free"
	case AcquiredReleased:
		return "released"
	case AcquiredTakeoverWatched:
		return "takeover_watched"
	case AcquiredTakeoverClock:
		return "takeover_clock"
	case AcquiredAdopted:
		return "adopted"
	}
	return fmt.Sprintf("AcquiredHow(%d)", int(h))
}
