package dynamutex

import (
	"testing"
	"time"

	"github.com/google/uuid"
)

// A starving waiter claims a permit on which no live claim stands; when
// every held permit is claimed, it takes over the claim of a waiter that
// began after it, never one of a waiter that began before it, nor its own.
func TestSemaphoreClaimTarget(t *testing.T) {
	s := &Session{cfg: &config{lease: time.Second}, obs: map[lockID]observation{}}
	sem := &Semaphore{s: s, name: "jobs", ids: []lockID{{key: PermitKey("jobs", 0)}, {key: PermitKey("jobs", 1)}, {key: PermitKey("jobs", 2)}}}
	start := time.UnixMilli(1_700_000_000_000)
	c := &semCall{sem: sem, wallStart: start, versions: make([]uuid.UUID, 3)}
	claimed := func(since time.Time, version string) *record {
		return &record{claim: claim{version: version, owner: "w", since: since, beat: "b", lease: time.Second}}
	}
	older, younger := claimed(start.Add(-time.Second), "older"), claimed(start.Add(time.Second), "younger")
	ours := claimed(start, c.version(2).String())
	now := time.Now()
	for _, tc := range []struct {
		recs []*record
		want []int // any of these
	}{
		{[]*record{older, {}, younger}, []int{1}},
		{[]*record{older, younger, ours}, []int{1}},
		{[]*record{older, younger, younger}, []int{1, 2}},
		{[]*record{older, older, ours}, []int{-1}},
		{[]*record{nil, older, older}, []int{-1}},
	} {
		for range 20 {
			got := c.claimTarget(view{recs: tc.recs}, now)
			ok := false
			for _, w := range tc.want {
				ok = ok || got == w
			}
			if !ok {
				t.Fatalf("claimTarget of %v = %d, want one of %v", tc.recs, got, tc.want)
			}
		}
	}
}
