package chaos

import (
	"fmt"
	"time"
)

// loadClock records a worker's declared bound and offset, and the Date
// check's judgements of its clock.
func (h *history) loadClock(e Event) {
	switch e.Kind {
	case KindClock:
		c := Clock{Bound: time.Duration(e.Bound), Offset: time.Duration(e.Offset)}
		h.clocks[e.Proc] = c
		h.rep.Clocks = append(h.rep.Clocks, ProcClock{Proc: e.Proc, Bound: c.Bound, Offset: c.Offset, Rogue: c.Rogue()})
	case KindClockUntrusted:
		h.rep.ClockUntrusted++
	case KindClockTrusted:
		h.rep.ClockTrusted++
	}
}

// stampGap is how long before the transport sent e the library stamped
// it: the SDK's retries and injected latency resend a stamped request
// later. The stamp is in the writer's shifted wall clock, truncated to the
// millisecond. It returns 0 when e carries no stamp or its process logged
// no clock.
func (h *history) stampGap(e Event) int64 {
	c, ok := h.clocks[e.Proc]
	if !ok || e.Stamp == 0 {
		return 0
	}
	gap := max(e.At-(e.Stamp*int64(time.Millisecond)-int64(c.Offset)), 1)
	h.rep.StampGapMax = max(h.rep.StampGapMax, time.Duration(gap))
	return gap
}

// gapAt returns the stamp-to-send gap of v's attempt sent at send.
func (v *version) gapAt(send int64) int64 {
	for _, a := range v.attempts {
		if a.send == send {
			return a.gap
		}
	}
	return 0
}

// gapNote tells, in a violation, how long before its send the old holder
// stamped its last landed write: a deadline counts from the stamp, the
// check from the send, so a long gap explains a clock takeover that only
// looks early.
func gapNote(a *chain) string {
	if a.lastGap < int64(10*time.Millisecond) { // the stamp's truncation and the request's building
		return ""
	}
	return fmt.Sprintf(" (that write was stamped %v before it was sent)", time.Duration(a.lastGap).Round(time.Millisecond))
}

// landedObserved is the version the attempt that ends the segment could
// take over by observation.
func (v *version) landedObserved() string {
	if len(v.attempts) == 0 {
		return ""
	}
	return v.attempts[len(v.attempts)-1].observed
}

// leaseAfterStamp reports whether b took a over by clock at least a lease
// after a stamped its last landed write. A deadline counts from the stamp,
// and so does the holder's safe time, from a moment before it: when the
// SDK's retries, injected latency or a pause sent the stamped request
// later, a takeover within a lease of the send can still be a lease after
// the stamp, which is all the protocol promises. Such takeovers are
// counted apart, never passed unseen.
func (h *history) leaseAfterStamp(a, b *chain) bool {
	byClock := b.observed == "" || b.observed != a.current
	if !byClock || a.lastGap <= 0 || b.acquired-(a.last-a.lastGap) < int64(h.p.Lease) {
		return false
	}
	h.rep.TakeoversAfterStamp++
	return true
}

// countClockTakeover counts b's takeover of a, d after a's last landed
// write, as by clock when b's acquire had not watched the version a's
// record was at: then only the deadline can have let it in.
func (h *history) countClockTakeover(a, b *chain, d int64) {
	if b.observed != "" && b.observed == a.current {
		return
	}
	h.rep.TakeoversByClock++
	h.rep.byClock = append(h.rep.byClock, float64(d)/float64(h.p.Lease))
}

// earlyTakeover counts a takeover of a's record within the lease. Each is
// also a violation; the count tells a rogue's from anyone else's.
func (h *history) earlyTakeover(a *chain) {
	h.rep.EarlyTakeovers++
	if h.clocks[a.proc].Rogue() {
		h.rep.RogueEarly++
	}
}

// violateFor reports a violation whose victim is the holder in process
// proc. When that process's clock was off by more than it declared, the
// violation says so and counts as the rogue's, not the library's.
func (h *history) violateFor(proc int, format string, args ...any) {
	c := h.clocks[proc]
	if !c.Rogue() {
		h.rep.violate(format, args...)
		return
	}
	h.rep.RogueViolations++
	h.rep.violate("%s [process %d is a rogue: its clock is off by %v, beyond its declared bound of %v]",
		fmt.Sprintf(format, args...), proc, c.Offset, c.Bound)
}
