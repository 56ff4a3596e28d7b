package chaos

import (
	"fmt"
	"sort"
	"time"
)

// A mixed run's holders are of two kinds: dynamutex workers, with tokens and
// lock-table writes the transport logged, and processes of the real Java or
// Python client, whose writes nobody sees: only the driver's replies (when
// an acquire or release returned, on the driver's clock, which is this
// machine's) and, for Python, the client's own status. The checks below
// bound what they can from that evidence and never assume more.

// kindDynamutex names the dynamutex workers' kind in the report.
const kindDynamutex = "dynamutex"

// loadKinds learns which processes are client workers from their ready
// events, before anything else is loaded, so that kills and pauses are
// counted by kind whenever they come.
func (h *history) loadKinds(evs []Event) {
	for _, e := range evs {
		if e.Kind == KindReady {
			h.kinds[e.Proc] = e.Client
		}
	}
}

// kindOf names the kind of process proc: its client, or dynamutex.
func (h *history) kindOf(proc int) string {
	if k := h.kinds[proc]; k != "" {
		return k
	}
	return kindDynamutex
}

// eventAcqID names the acquisition a lock event is about: by its token, or
// for a client's by its turn.
func eventAcqID(e Event) string {
	if e.Client != "" {
		return fmt.Sprintf("%d/%s/turn %d", e.Proc, e.Key, e.Turn)
	}
	return acqID(e.Proc, e.Key, e.Token)
}

// name says which acquisition a is, in a violation.
func (a *acq) name() string {
	if a.client != "" {
		return fmt.Sprintf("%s turn %d (process %d)", a.client, a.turn, a.proc)
	}
	return fmt.Sprintf("token %d (process %d)", a.token, a.proc)
}

// orderAt is when a took effect, as near as the log tells: the send of a
// dynamutex holder's acquire that landed (or, unknown, when Lock returned),
// and the driver's reply for a client's, just after its write landed.
func orderAt(a *acq) int64 {
	if a.client == "" && a.sent != 0 {
		return a.sent
	}
	return a.at
}

// olderFirst orders two acquisitions of a key: by token between dynamutex
// holders, else by orderAt.
func olderFirst(a, b *acq) (*acq, *acq) {
	if a.client == "" && b.client == "" {
		if b.token < a.token {
			return b, a
		}
		return a, b
	}
	if orderAt(b) < orderAt(a) {
		return b, a
	}
	return a, b
}

// clientGrantedBefore returns a client's acquisition of key that began
// after dynamutex token tok had been returned by Lock and was granted
// before t, or nil: a guarded write of tok sent at t must then be refused.
func (h *history) clientGrantedBefore(key string, tok uint64, t int64) *acq {
	var since int64
	for _, a := range h.acqs[key] {
		if a.client == "" && a.token == tok {
			since = a.at
		}
	}
	if since == 0 {
		return nil
	}
	for _, c := range h.acqs[key] {
		if c.client != "" && c.start > since && c.at < t {
			return c
		}
	}
	return nil
}

// takenBefore reports whether a later acquisition than a, of any kind,
// had landed, or may have, by end: what a report of loss requires.
func (h *history) takenBefore(a *acq, end int64) bool {
	for tok, c := range h.chains[a.key] {
		later := tok > a.token
		if a.client != "" {
			later = c.acquired > a.start
		}
		if later && c.acquired <= end {
			return true
		}
	}
	for _, b := range h.acqs[a.key] {
		if b != a && b.client != "" && b.start <= end && orderAt(b) > orderAt(a) {
			return true
		}
	}
	return false
}

// checkClientTold: a client holder taken over while paused must learn it,
// as a dynamutex holder's context ends with danger or loss. The Java
// client's release is conditioned on its version and owner, so it must
// return false; a release that returned true is a violation. The Python
// client's release is a no-op on a lock its heartbeat found stolen, so its
// notice is read from the driver's state before the release; a heartbeat
// that fails between that read and the release goes unseen, so a Python
// holder's clean release is counted (ClientUntold), not a violation.
func (h *history) checkClientTold(a *acq) {
	if a.client == "" || a.releasedAt == 0 || a.unlock != "" || h.toldOfDanger(a) {
		return
	}
	if a.client == "python" {
		h.rep.ClientUntold++
		return
	}
	h.rep.violate("key %s: %s was taken over while paused, yet its release succeeded", a.key, a.name())
}

// checkClientTurns follows each key from holder to holder where a client
// takes part, as checkTakeovers does between dynamutex holders: it counts
// handoffs (the old holder released) and takeovers by the pair of kinds,
// and finds takeovers that came within a lease of the old holder's last
// write that landed. Where that cannot be seen it is bounded: a dynamutex
// holder's last landed write is known from the transport; a client's is
// at least its acquire, sent after the acquire command was (its
// heartbeats' landings are not seen). The taker's write went out no later
// than its acquisition's answer. So a violation here is certain; a late
// heartbeat of the client can only hide an early takeover, never invent
// one.
func (h *history) checkClientTurns() {
	lease := int64(h.p.Lease)
	for key, as := range h.acqs {
		seq := append([]*acq(nil), as...)
		sort.SliceStable(seq, func(i, j int) bool { return orderAt(seq[i]) < orderAt(seq[j]) })
		for i := 1; i < len(seq); i++ {
			a, b := seq[i-1], seq[i]
			if a.client == "" && b.client == "" {
				continue // checkTakeovers
			}
			pair := h.kindOf(a.proc) + "→" + h.kindOf(b.proc)
			switch h.freed(a) {
			case freedYes:
				h.rep.CrossHandoffs[pair]++
				continue
			case freedMaybe:
				h.rep.TakeoversUndecided++
				continue
			}
			h.rep.CrossTakeovers[pair]++
			last := a.start
			if c := h.chains[key][a.token]; a.client == "" && c != nil {
				last = c.last
			}
			if d := h.sentBy(b) - last; d < lease {
				h.violateFor(a.proc, "key %s: %s took over %s at most %v after its last landed write, within the %v lease",
					key, b.name(), a.name(), time.Duration(d), h.p.Lease)
			}
			if k, ok := h.kills[a.proc]; ok && a.client != "" && k > a.at && k < b.at {
				h.rep.clientAfterKill = append(h.rep.clientAfterKill, float64(b.at-k)/float64(lease))
			}
		}
	}
}

// sentBy is the latest a's acquiring write can have been sent: when
// DynamoDB answered it for a dynamutex holder, when the driver replied for
// a client's.
func (h *history) sentBy(a *acq) int64 {
	if c := h.chains[a.key][a.token]; a.client == "" && c != nil && c.answered != 0 {
		return c.answered
	}
	return a.at
}

// Whether an old holder had freed its record for the next.
const (
	freedNo    = iota // it had not: the next one took it over
	freedYes          // its release landed
	freedMaybe        // its release may have landed
)

// freed tells whether a's release landed. A client's did when the driver
// said so and nothing had told it of the loss (a Python release is a no-op
// on a lock found stolen).
func (h *history) freed(a *acq) int {
	if a.client != "" {
		switch {
		case a.releasedAt == 0 || a.unlock == CauseLost || a.cause == CauseLost:
			return freedNo
		case a.unlock == "":
			return freedYes
		}
		return freedMaybe // an error: the release may or may not have landed
	}
	c := h.chains[a.key][a.token]
	switch {
	case c == nil:
		return freedMaybe
	case c.released:
		return freedYes
	case c.releaseDoubt:
		return freedMaybe
	}
	return freedNo
}
