package interop

import (
	"fmt"
	"sort"
	"sync"
	"time"
)

// ledger is the shared record of who held a lock when, across processes of
// different clients. Each holding runs from the acquire's reply (the
// driver's clock, stamped as it answered) to the release's request (the
// test's clock, on the same machine): inside the real holding, so two that
// overlap prove two processes held the lock at once, unless the earlier had
// already lost it and knew so (holding.lost).
type ledger struct {
	mu       sync.Mutex
	holdings []holding
}

// holding is one acquisition in the ledger.
type holding struct {
	owner      string
	kind       Kind
	start, end time.Time
	// lost says the holder learned, by the time it released, that the lock
	// had been taken from it: dxdriver's status was not LOCKED, Python's
	// state INVALID or LOCK_STOLEN, Java's release returned false.
	lost bool
	why  string
	// paused says the test stopped the holder with SIGSTOP during it.
	paused bool
}

func (l *ledger) add(h holding) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.holdings = append(l.holdings, h)
}

// counts is the number of holdings by owner and by client kind.
func (l *ledger) counts() (byOwner map[string]int, byKind map[Kind]int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	byOwner, byKind = map[string]int{}, map[Kind]int{}
	for _, h := range l.holdings {
		byOwner[h.owner]++
		byKind[h.kind]++
	}
	return byOwner, byKind
}

// paused returns the holdings whose holder the test stopped.
func (l *ledger) paused() []holding {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []holding
	for _, h := range l.holdings {
		if h.paused {
			out = append(out, h)
		}
	}
	return out
}

// overlaps returns every pair of holdings that overlap, each as a line of
// text, split into those the earlier holder's loss excuses and the rest.
func (l *ledger) overlaps() (excused, bad []string) {
	l.mu.Lock()
	hs := append([]holding(nil), l.holdings...)
	l.mu.Unlock()
	sort.Slice(hs, func(i, j int) bool { return hs[i].start.Before(hs[j].start) })
	for i, p := range hs {
		for _, c := range hs[i+1:] {
			if !c.start.Before(p.end) {
				break
			}
			line := fmt.Sprintf("%s (%s) held from %s until %s; %s (%s) from %s, %v before",
				p.owner, p.kind, p.start.Format("15:04:05.000000"), p.end.Format("15:04:05.000000"),
				c.owner, c.kind, c.start.Format("15:04:05.000000"), p.end.Sub(c.start))
			if p.lost {
				excused = append(excused, line+"; the first had lost it: "+p.why)
			} else {
				bad = append(bad, line)
			}
		}
	}
	return excused, bad
}
