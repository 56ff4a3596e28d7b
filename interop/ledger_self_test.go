package interop

import (
	"testing"
	"time"
)

// The ledger finds every overlapping pair, nested ones included, and
// excuses only those whose earlier holder had lost the lock.
func TestLedgerFindsOverlaps(t *testing.T) {
	at := func(ms int) time.Time { return time.Unix(0, 0).Add(time.Duration(ms) * time.Millisecond) }
	var l ledger
	l.add(holding{owner: "a", start: at(0), end: at(100)})
	l.add(holding{owner: "b", start: at(100), end: at(200)}) // touches a: no overlap
	l.add(holding{owner: "c", start: at(150), end: at(160)}) // inside b
	l.add(holding{owner: "d", start: at(300), end: at(400), lost: true, why: "stolen"})
	l.add(holding{owner: "e", start: at(350), end: at(450)})
	excused, bad := l.overlaps()
	if len(bad) != 1 || len(excused) != 1 {
		t.Fatalf("overlaps: excused %q, bad %q; want b/c bad and d/e excused", excused, bad)
	}
	if byOwner, _ := l.counts(); byOwner["a"] != 1 || len(byOwner) != 5 {
		t.Errorf("counts by owner: %v", byOwner)
	}
}
