package chaos

import (
	"strings"
	"testing"
)

func permit(i int) string { return PermitKeyOf(i) }

func (h *hist) checkSemaphore(t *testing.T, n int) *Report {
	t.Helper()
	end := int64(0)
	for _, e := range h.evs {
		end = max(end, e.At)
	}
	return Check(append([]Event(nil), h.evs...), Params{Lease: testLease, Safe: testLease * 6 / 10,
		End: end + ms(1), Semaphore: n})
}

// Two permits of a semaphore of 2 held at once pass; a third holder of a
// permit beyond n while both are live is a violation, as is a key that is
// no permit.
func TestCheckSemaphore(t *testing.T) {
	h := &hist{}
	h.hold(held{proc: 1, key: permit(0), token: 1, start: 0, end: 100, version: "a"})
	h.hold(held{proc: 2, key: permit(1), token: 1, start: 10, end: 100, version: "b"})
	rep := h.checkSemaphore(t, 2)
	if rep.ViolationTotal != 0 || rep.SemaphoreMost != 2 {
		t.Fatalf("two of two: %d violations %v, most %d", rep.ViolationTotal, rep.Violations, rep.SemaphoreMost)
	}
	h.hold(held{proc: 3, key: permit(2), token: 1, start: 20, end: 100, version: "c"})
	rep = h.checkSemaphore(t, 2)
	if rep.SemaphoreMost != 3 || !strings.Contains(strings.Join(rep.Violations, "\n"), "semaphore of 2") ||
		!strings.Contains(strings.Join(rep.Violations, "\n"), "is no permit") {
		t.Errorf("three holders of two permits: most %d, violations %v", rep.SemaphoreMost, rep.Violations)
	}
}
