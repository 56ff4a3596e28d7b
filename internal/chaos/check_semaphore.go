package chaos

import (
	"sort"
	"strings"

	"github.com/dynamutex/dynamutex/internal/wire"
)

// checkSemaphore, in a semaphore run: every acquisition is of a permit
// 0..n-1 of the run's semaphore, and when any holder acquired, fewer than
// n others held a permit with a live context. A holder counts as by
// checkOverlaps: from its Lock's return until its Unlock returned, unless
// its context had ended, or its process had been killed or paused, before
// the new holder acquired. Each permit is a key of its own, so the
// per-key checks (overlaps, tokens, the fenced ledger) check each permit.
func (h *history) checkSemaphore() {
	n := h.p.Semaphore
	if n == 0 {
		return
	}
	h.rep.SemaphoreLimit = n
	var all []*acq
	for key, as := range h.acqs {
		if i, ok := permitIndex(key); !ok || i >= n {
			// Still counted: it is held all the same.
			h.rep.violate("key %s held in a semaphore run of %d permits is no permit of it", key, n)
		}
		all = append(all, as...)
	}
	sort.SliceStable(all, func(i, j int) bool { return all[i].at < all[j].at })
	for j, b := range all {
		live := []string{}
		for _, a := range all[:j] {
			if b.at < h.holdEnd(a) && h.excuse(a, b) == "" {
				live = append(live, a.name())
			}
		}
		h.rep.SemaphoreMost = max(h.rep.SemaphoreMost, len(live)+1)
		if len(live) >= n {
			h.violateFor(b.proc, "semaphore of %d: %s acquired at +%v while %d held with live contexts: %s",
				n, b.name(), h.rel(b.at), len(live), strings.Join(live, ", "))
		}
	}
}

// PermitKeyOf is the key of permit i of the run's semaphore.
func PermitKeyOf(i int) string {
	return wire.PermitKey(SemaphoreName, i)
}

// permitIndex is the index of a permit key of the run's semaphore.
func permitIndex(key string) (int, bool) {
	name, i, ok := wire.ParsePermitKey(key)
	return i, ok && name == SemaphoreName
}
