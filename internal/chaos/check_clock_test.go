package chaos

import (
	"testing"
	"time"
)

// clocks logs the clock event of each process: offsets in ms, bound 100 ms.
func (h *hist) clocks(offsets map[int]int) {
	for proc, off := range offsets {
		h.add(Event{Kind: KindClock, At: ms(-1), Proc: proc, Offset: int64(ms(off)), Bound: int64(100 * time.Millisecond)})
	}
}

// observed marks the acquire of version as one that could take over
// version old by observation.
func (h *hist) observed(version, old string) {
	for i := range h.evs {
		if h.evs[i].Kind == KindSent && h.evs[i].Version == version {
			h.evs[i].Observed = old
		}
	}
}

func (h *hist) checkExpecting(t *testing.T) *Report {
	t.Helper()
	end := int64(0)
	for _, e := range h.evs {
		end = max(end, e.At)
	}
	return Check(append([]Event(nil), h.evs...),
		Params{Lease: testLease, Safe: testLease * 6 / 10, End: end + ms(1), ExpectEarly: true})
}

// killedHolder: process 1 acquires token 10, renews at 200 and is killed at
// 250; process 2 takes the key over at takeover.
func killedHolder(offsets map[int]int, takeover int) *hist {
	h := &hist{}
	h.clocks(offsets)
	h.hold(held{proc: 1, key: "k", token: 10, start: 0, version: "v1"})
	h.write(wr{proc: 1, op: OpRenew, key: "k", from: "v1", version: "v1b", sent: 200, answered: 201, outcome: KindLanded})
	h.add(Event{Kind: KindKill, At: ms(250), Proc: 1})
	h.hold(held{proc: 2, key: "k", token: 11, start: takeover, end: takeover + 100, version: "v2"})
	return h
}

func TestCheckTakeoverByClock(t *testing.T) {
	for _, tc := range []struct {
		observed string
		byClock  int
	}{
		{"", 1},    // no version watched: only the deadline can have let it in
		{"v1", 1},  // watched a version the holder had renewed since
		{"v1b", 0}, // watched the current version for a lease
	} {
		h := killedHolder(map[int]int{1: 20, 2: -30}, 1400)
		h.observed("v2", tc.observed)
		r := h.check(t)
		wantClean(t, r)
		if r.Takeovers != 1 || r.TakeoversByClock != tc.byClock || r.EarlyTakeovers != 0 || len(r.Clocks) != 2 {
			t.Fatalf("observed %q: takeovers %d, by clock %d (want %d), early %d, clocks %v",
				tc.observed, r.Takeovers, r.TakeoversByClock, tc.byClock, r.EarlyTakeovers, r.Clocks)
		}
	}
}

func TestCheckRogueEarlyTakeover(t *testing.T) {
	// Process 1's clock is 600 ms behind with a bound of 100 ms, so its
	// deadline came 500 ms early and process 2 took over 650 ms after its
	// last landed write.
	h := killedHolder(map[int]int{1: -600, 2: 30}, 850)
	r := h.check(t)
	wantViolation(t, r, "process 1 is a rogue: its clock is off by -600ms, beyond its declared bound of 100ms")
	if r.OK() || r.EarlyTakeovers != 1 || r.RogueEarly != 1 || r.RogueViolations != 1 || r.ViolationTotal != 1 {
		t.Fatalf("ok %v, early %d, rogue early %d, rogue violations %d of %d",
			r.OK(), r.EarlyTakeovers, r.RogueEarly, r.RogueViolations, r.ViolationTotal)
	}
	if r := h.checkExpecting(t); !r.OK() {
		t.Fatalf("expecting the rogue's early takeover, the run failed: %q", r.Violations)
	}
}

func TestCheckExpectEarlyWithoutOne(t *testing.T) {
	// A rogue, but its lock was taken over only after the lease.
	r := killedHolder(map[int]int{1: -600, 2: 30}, 1300).checkExpecting(t)
	if r.OK() || r.RogueEarly != 0 || r.ViolationTotal != 0 {
		t.Fatalf("ok %v with %d early takeovers of a rogue's lock and violations %q", r.OK(), r.RogueEarly, r.Violations)
	}
}

func TestCheckExpectEarlyOtherViolation(t *testing.T) {
	// The rogue's early takeover is expected; an honest holder's on another
	// key is not.
	h := killedHolder(map[int]int{1: -600, 2: 30, 3: 0}, 850)
	h.hold(held{proc: 3, key: "j", token: 20, start: 0, version: "w1"})
	h.hold(held{proc: 2, key: "j", token: 21, start: 700, end: 800, version: "w2"})
	h.add(Event{Kind: KindStop, At: ms(10), Proc: 3})
	h.add(Event{Kind: KindCont, At: ms(2000), Proc: 3})
	r := h.checkExpecting(t)
	wantViolation(t, r, "took over token 20 (process 3) 700ms after")
	if r.OK() || r.EarlyTakeovers != 2 || r.RogueEarly != 1 || r.RogueViolations != 1 || r.ViolationTotal != 2 {
		t.Fatalf("ok %v, early %d, rogue early %d, rogue violations %d of %d",
			r.OK(), r.EarlyTakeovers, r.RogueEarly, r.RogueViolations, r.ViolationTotal)
	}
}

func TestCheckRogueLiveOverlap(t *testing.T) {
	// The rogue was neither killed nor paused: its renewals stopped landing,
	// and its lock was taken over early while its context was live. Both
	// violations concern the rogue.
	var h hist
	h.clocks(map[int]int{1: -600, 2: 30})
	h.hold(held{proc: 1, key: "k", token: 10, start: 0, version: "v1"})
	h.hold(held{proc: 2, key: "k", token: 11, start: 700, end: 800, version: "v2"})
	h.add(Event{Kind: KindCancelled, At: ms(900), Proc: 1, Key: "k", Token: 10, Cause: CauseLost})
	r := h.checkExpecting(t)
	wantViolation(t, r, "with a live context [process 1 is a rogue")
	if !r.OK() || r.RogueViolations != 2 || r.ViolationTotal != 2 {
		t.Fatalf("ok %v, rogue violations %d of %d: %q", r.OK(), r.RogueViolations, r.ViolationTotal, r.Violations)
	}
}

func TestCheckClockEvents(t *testing.T) {
	var h hist
	h.clocks(map[int]int{1: 1500})
	h.add(Event{Kind: KindClockUntrusted, At: ms(10), Proc: 1, Skew: int64(1500 * time.Millisecond)})
	h.add(Event{Kind: KindClockTrusted, At: ms(20), Proc: 1})
	r := h.check(t)
	wantClean(t, r)
	if r.ClockUntrusted != 1 || r.ClockTrusted != 1 || len(r.Clocks) != 1 || !r.Clocks[0].Rogue {
		t.Fatalf("untrusted %d, trusted %d, clocks %v", r.ClockUntrusted, r.ClockTrusted, r.Clocks)
	}
}

func TestCheckStampGap(t *testing.T) {
	// Process 1's renewal was stamped at 250 and sent at 500, after SDK
	// retries. A takeover by clock at 1300 is within a lease of the send
	// but a lease after the stamp, where the deadline and the holder's safe
	// time start: counted apart, not a violation. One at 1200 is within a
	// lease of both, and the violation says how long before the send the
	// deadline started.
	for _, tc := range []struct {
		takeover  int
		violation string
	}{
		{1300, ""},
		{1200, "700ms after its last landed write, within the 1s lease (that write was stamped 250ms before it was sent)"},
	} {
		var h hist
		h.clocks(map[int]int{1: 40, 2: 0})
		h.hold(held{proc: 1, key: "k", token: 10, start: 0, version: "v1"})
		h.write(wr{proc: 1, op: OpRenew, key: "k", from: "v1", version: "v1b", sent: 500, answered: 501, outcome: KindLanded})
		for i := range h.evs {
			if h.evs[i].Kind == KindSent && h.evs[i].Version == "v1b" {
				h.evs[i].Stamp = 250 + 40 // in process 1's clock, 40 ms ahead
			}
		}
		h.add(Event{Kind: KindKill, At: ms(550), Proc: 1})
		h.hold(held{proc: 2, key: "k", token: 11, start: tc.takeover, end: tc.takeover + 100, version: "v2"})
		r := h.check(t)
		if tc.violation == "" {
			wantClean(t, r)
			if r.TakeoversAfterStamp != 1 || r.EarlyTakeovers != 0 {
				t.Fatalf("takeover at %d: after stamp %d, early %d", tc.takeover, r.TakeoversAfterStamp, r.EarlyTakeovers)
			}
		} else {
			wantViolation(t, r, tc.violation)
		}
		if r.StampGapMax != 250*time.Millisecond || r.RogueViolations != 0 {
			t.Fatalf("stamp gap %v, rogue violations %d", r.StampGapMax, r.RogueViolations)
		}
	}
}
