package chaos

import "time"

// checkProclaims counts an election run's Proclaims and fails any that
// landed although it was sent after a newer leadership of the record had
// been returned to its leader: a Proclaim is conditioned on the leader's
// current version and token, so only the leader in office may land one.
// Two leaders at once and the fencing of leaders' writes are the lock
// checks' business: leadership is the record's lock.
func (h *history) checkProclaims() {
	for _, e := range h.proclaims {
		outcome := "ok"
		if !e.OK {
			outcome = e.Cause
		}
		h.rep.Proclaims[outcome]++
		if !e.OK {
			continue
		}
		for _, a := range h.acqs[e.Key] {
			if a.token > e.Token && a.at != 0 && a.at < e.Start {
				h.rep.violate("proclaim of %s token %d (proc %d g %d) landed, sent %s after token %d (proc %d g %d) led",
					e.Key, e.Token, e.Proc, e.G, time.Duration(e.Start-a.at), a.token, a.proc, a.g)
				break
			}
		}
	}
}
