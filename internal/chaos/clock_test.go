package chaos

import (
	"math/rand/v2"
	"testing"
	"time"
)

func TestClockPlanOffsets(t *testing.T) {
	plan := ClockPlan{Bound: 100 * time.Millisecond, Skew: 50 * time.Millisecond, Rogue: -600 * time.Millisecond}
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range 1000 {
		slot := 2 + i%3
		c := Clock{Bound: plan.Bound, Offset: plan.offset(slot, rng)}
		if c.Offset.Abs() > plan.Skew || c.Rogue() {
			t.Fatalf("slot %d: offset %v, outside ±%v or rogue", slot, c.Offset, plan.Skew)
		}
	}
	if c := (Clock{Bound: plan.Bound, Offset: plan.offset(rogueSlot, rng)}); c.Offset != plan.Rogue || !c.Rogue() {
		t.Fatalf("rogue slot: offset %v, rogue %v", c.Offset, c.Rogue())
	}
	plan.Rogue = 0
	if off := plan.offset(rogueSlot, rng); off.Abs() > plan.Skew {
		t.Fatalf("without a rogue, slot 1 got %v", off)
	}
	if (Clock{Offset: time.Second}).Rogue() {
		t.Fatal("a worker that declares no bound is a rogue")
	}
}
