package chaos

import (
	"math/rand/v2"
	"time"

	"github.com/dynamutex/dynamutex"
)

// ClockPlan makes a run clock-bound: every worker declares Bound with
// dynamutex.WithClockBound and runs with its wall clock shifted, so that
// clock-based takeovers happen between clocks that disagree. The zero
// ClockPlan is an ordinary run.
type ClockPlan struct {
	Bound time.Duration // declared by every worker; 0: not a clock-bound run
	Skew  time.Duration // ordinary workers' offsets are uniform within ±Skew
	// Rogue, when not 0, is the offset of the worker in slot 1 (the first
	// one, and each replacement of it after a kill). It should exceed
	// Bound, so that the rogue's deadlines come too early.
	Rogue time.Duration
}

// rogueSlot is the slot whose workers get ClockPlan.Rogue.
const rogueSlot = 1

// offset draws the wall-clock offset of a worker in slot.
func (c ClockPlan) offset(slot int, rng *rand.Rand) time.Duration {
	if slot == rogueSlot && c.Rogue != 0 {
		return c.Rogue
	}
	return time.Duration(rng.Int64N(2*int64(c.Skew)+1)) - c.Skew
}

// Clock is one worker's share of a ClockPlan.
type Clock struct {
	Bound  time.Duration // 0: the worker declares no bound
	Offset time.Duration // added to the worker's wall clock
}

// Rogue reports whether the worker's clock is further off than it declares.
func (c Clock) Rogue() bool { return c.Bound > 0 && c.Offset.Abs() > c.Bound }

// clockObserver logs the Session's judgements of its own clock, so the
// report can tell whether the Date check saw a worker's offset.
type clockObserver struct{ log *Log }

func (o clockObserver) Observe(ev dynamutex.Event) {
	switch ev.Kind {
	case dynamutex.EventClockUntrusted:
		o.log.Add(Event{Kind: KindClockUntrusted, Skew: int64(ev.Skew)})
	case dynamutex.EventClockTrusted:
		o.log.Add(Event{Kind: KindClockTrusted, Skew: int64(ev.Skew)})
	}
}
