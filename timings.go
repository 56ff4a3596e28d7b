package dynamutex

import "time"

// Timings are a Session's three timings: how long a lock stays valid
// without a renewal (Lease), how often each held lock is renewed
// (Heartbeat) and when a lock whose renewals are not confirmed falls into
// danger (Safe). Lease − Safe is the margin in which a holder hears of
// danger before anyone may take its lock over.
type Timings struct {
	Lease, Heartbeat, Safe time.Duration
}

// DeriveTimings completes t as NewSession does with the timings a caller
// did not set (zero fields), in the proportions of the defaults (20 s,
// 5 s, 15 s): the heartbeat is a quarter of the lease and the safe time
// three quarters. The lease is the base: when it is unset it comes from
// the safe time (4/3 of it, rounded up to the millisecond, since records
// store whole milliseconds), or else from the heartbeat (4 times it), or
// else it is DefaultLeaseDuration. A heartbeat left unset never reaches a
// third of the safe time, so that two more renewals fit before danger.
//
// Any one timing set alone therefore gives a valid Session. Two or three
// set by hand are used as given, and NewSession refuses combinations that
// break heartbeat < safe time < lease. Negative fields are left for
// NewSession to refuse.
func DeriveTimings(t Timings) Timings {
	if t.Lease == 0 {
		switch {
		case t.Safe > 0:
			t.Lease = roundUpMillis(t.Safe + t.Safe/3)
		case t.Heartbeat > 0:
			t.Lease = roundUpMillis(4 * t.Heartbeat)
		default:
			t.Lease = DefaultLeaseDuration
		}
	}
	if t.Safe == 0 {
		t.Safe = t.Lease - t.Lease/4
	}
	if t.Heartbeat == 0 {
		t.Heartbeat = min(t.Lease/4, t.Safe/3)
	}
	return t
}

// roundUpMillis rounds d up to a whole number of milliseconds.
func roundUpMillis(d time.Duration) time.Duration {
	if r := d % time.Millisecond; r != 0 {
		d += time.Millisecond - r
	}
	return d
}

// Timings returns the Session's timings, those derived included.
func (s *Session) Timings() Timings {
	return Timings{Lease: s.cfg.lease, Heartbeat: s.cfg.heartbeat, Safe: s.cfg.safe}
}
