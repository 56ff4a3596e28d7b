package dynamutex

import "time"

// MinLeaseDuration is the shortest lease a Session accepts, whether set
// with WithLeaseDuration or derived from WithSafeTime or
// WithHeartbeatPeriod. Every request is timed out at a fraction of the
// lease (a renewal at the heartbeat period, a quarter of the lease by
// default; an acquire attempt and NewSession's DescribeTable at half of
// it), and at 100 ms those 25 ms and 50 ms still hold a DynamoDB round trip
// with its ordinary tail of tens of milliseconds. Below it requests time
// out instead of landing: Lock and NewSession fail, and held locks fall
// into danger.
const MinLeaseDuration = 100 * time.Millisecond

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
// Any one timing set alone therefore gives a valid Session, if the lease
// comes out at least MinLeaseDuration. Two or three
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

// leaseFloorError refuses a lease below MinLeaseDuration. It is given the
// lease after derivation, so that a tiny safe time or heartbeat period set
// alone, which derives a tiny lease, is refused too, in the name of the
// option that set it.
func (c *config) leaseFloorError() error {
	option, what := "WithLeaseDuration", "lease duration"
	switch {
	case c.timingSet[0]:
	case c.timingSet[2]:
		option, what = "WithSafeTime", "lease duration (derived from the safe time)"
	case c.timingSet[1]:
		option, what = "WithHeartbeatPeriod", "lease duration (derived from the heartbeat period)"
	}
	return optionError(option, "%s must be at least %v, got %v: requests are timed out at a fraction of the lease "+
		"(a renewal at the heartbeat period, a quarter of the lease by default), and a DynamoDB round trip "+
		"can take tens of milliseconds", what, MinLeaseDuration, c.lease)
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
