package chaos

import (
	"sort"
	"strings"
	"time"

	"github.com/dynamutex/dynamutex/internal/wire"
)

// Session leases (WithSessionLease). A session-lease worker's locks are
// kept by one Session record, which its owner alone renews; a lock record
// held under it never changes until its release. So the checker follows
// the Session record as it follows a lease: its creation, its renewals,
// and the write that ended it, a revocation by another process or the
// owner's own at Close. A lock held under a Session may be taken, without
// a release, only once that Session is dead, and a revocation is judged as
// a takeover is: sent at least a lease after the owner's last landed write.

// sessionChain is one Session record as the lock table saw it.
type sessionChain struct {
	key       string
	proc      int   // its owner
	last      int64 // latest possible send of the owner's last write that landed
	lastDoubt int64 // latest send of an owner's write whose fate is unknown
	endDoubt  bool  // the owner's end at Close was sent and never answered
	deaths    []death
	maybe     []death  // revocations nobody answered: they may have landed
	notice    int64    // when the owner's Session reported itself revoked; 0: never
	locks     []*chain // the acquisitions held under it
}

// death is a write that ended a Session record: a revocation, or the
// owner's own end at Close.
type death struct {
	by        int
	own       bool
	low, high int64 // send bounds of the attempt that landed
	answer    int64
}

// deadBefore returns the write that ended s and was sent, at the earliest,
// before t; nil if none was.
func (s *sessionChain) deadBefore(t int64) *death {
	for i := range s.deaths {
		if s.deaths[i].low < t {
			return &s.deaths[i]
		}
	}
	return nil
}

func (s *sessionChain) maybeDeadBefore(t int64) bool {
	for _, d := range s.maybe {
		if d.low < t {
			return true
		}
	}
	return false
}

func isSessionKey(key string) bool { return strings.HasPrefix(key, wire.SessionKeyPrefix) }

// sessionOp names the operation of a lock-table event for the report's
// counts, telling a Session record's renewals, reads and end (a release:
// its revocation, or its owner's end at Close) from a lock's.
func sessionOp(e Event) string {
	if isSessionKey(e.Key) && e.Op != OpSession {
		return "session " + e.Op
	}
	return e.Op
}

// linkSessions builds each Session record's history from the writes on
// its key, in the order they were first sent.
func (h *history) linkSessions(order []*version) {
	for _, v := range order {
		if !isSessionKey(v.key) {
			continue
		}
		s := h.sessions[v.key]
		if s == nil {
			s = &sessionChain{key: v.key, proc: v.proc}
			h.sessions[v.key] = s
		}
		if v.op == OpSession {
			s.proc = v.proc
			h.rep.SessionsCreated++
		}
		h.sessionWrite(s, v)
	}
	for _, cs := range h.chains {
		for _, c := range cs {
			if s := h.sessions[c.session]; s != nil {
				s.locks = append(s.locks, c)
			}
		}
	}
}

// sessionWrite adds one write of a Session record to its history. A
// revocation replaces no version of the owner's (wire.Revoke carries none),
// which tells it from the owner's end at Close.
func (h *history) sessionWrite(s *sessionChain, v *version) {
	ending := v.op == OpRelease
	own := !ending || v.from != ""
	if v.landed() {
		low, high := v.sendBounds()
		if !ending {
			s.last = max(s.last, high)
			return
		}
		s.deaths = append(s.deaths, death{by: v.proc, own: own, low: low, high: high, answer: v.landedAnswer()})
		return
	}
	t := v.unanswered()
	switch {
	case t == 0:
	case !ending:
		s.lastDoubt = max(s.lastDoubt, t)
	default:
		s.endDoubt = s.endDoubt || own
		s.maybe = append(s.maybe, death{by: v.proc, own: own, low: t, high: t})
	}
}

// landedAnswer is when DynamoDB answered the attempt that landed or found
// the write.
func (v *version) landedAnswer() int64 {
	for _, a := range v.attempts {
		if a.outcome == KindLanded || a.outcome == KindFound {
			return a.answer
		}
	}
	return 0
}

// sessionTakeover checks b's takeover of a, a lock held under a Session: a
// Session that had been revoked or ended before b was sent, a lease or
// more after the owner's last landed write.
func (h *history) sessionTakeover(key string, a, b *chain) {
	s := h.sessions[a.session]
	if s == nil {
		h.rep.violate("key %s: token %d was held under Session record %s, whose creation the log lacks", key, a.token, a.session)
		return
	}
	lease := int64(h.p.Lease)
	if s.deadBefore(b.sentHigh) == nil {
		if a.releaseDoubt || s.maybeDeadBefore(b.sentHigh) {
			h.rep.TakeoversUndecided++
			return
		}
		h.violateFor(a.proc, "key %s: token %d (process %d) took over token %d (process %d), held under Session %s, which nobody had revoked",
			key, b.token, b.proc, a.token, a.proc, a.session)
		return
	}
	d := b.acquired - s.last
	switch {
	case d < lease && s.endDoubt, d >= lease && s.lastDoubt != 0 && b.acquired-s.lastDoubt < lease:
		h.rep.TakeoversUndecided++
		return
	}
	h.rep.Takeovers++
	h.rep.SessionTakeovers++
	h.rep.takeover = append(h.rep.takeover, float64(d)/float64(lease))
	if d < lease {
		h.violateFor(a.proc, "key %s: token %d (process %d) took over token %d (process %d) %v after the last landed write of its Session %s, within the %v lease",
			key, b.token, b.proc, a.token, a.proc, time.Duration(d), a.session, h.p.Lease)
	}
	if k, ok := h.kills[a.proc]; ok && k > a.acquired && k < b.acquired {
		h.rep.afterKill = append(h.rep.afterKill, float64(b.acquired-k)/float64(lease))
	}
}

// checkRevocations: a Session record was revoked no sooner than a lease
// after its owner's last landed write, as a lock record is taken over; a
// revocation that an unanswered write of the owner leaves undecidable is
// counted apart.
func (h *history) checkRevocations() {
	lease := int64(h.p.Lease)
	for _, s := range h.sessions {
		for _, d := range s.deaths {
			if d.own {
				h.rep.SessionsEnded++
				continue
			}
			h.rep.SessionsRevoked++
			delay := d.low - s.last
			switch {
			case delay < lease && s.endDoubt, delay >= lease && s.lastDoubt != 0 && d.low-s.lastDoubt < lease:
				h.rep.RevocationsUndecided++
				continue
			}
			h.rep.revocation = append(h.rep.revocation, float64(delay)/float64(lease))
			if delay < lease {
				h.rep.violate("Session %s (process %d) revoked by process %d %v after its last landed write, within the %v lease",
					s.key, s.proc, d.by, time.Duration(delay), h.p.Lease)
			}
			h.checkOwnerTold(s, d)
			h.countLostTogether(s, d)
		}
	}
}

// checkOwnerTold: the owner of a revoked Session learns of it at its next
// renewal, a heartbeat period later. Its process may have been paused when
// it was revoked, killed, or stopped at the end; otherwise, two leases of
// running after the revocation without a notice is a violation.
func (h *history) checkOwnerTold(s *sessionChain, d death) {
	if s.notice != 0 {
		return
	}
	lease := int64(h.p.Lease)
	from := d.answer
	for _, st := range h.stops[s.proc] {
		if st.from <= from+2*lease && st.to >= from {
			from = max(from, st.to)
		}
	}
	by := from + 2*lease
	if k, ok := h.kills[s.proc]; ok && k <= by || h.p.Stopping != 0 && by >= h.p.Stopping || by >= h.p.End {
		return
	}
	h.rep.violate("Session %s (process %d) was revoked at +%v, and its process ran on for two leases without learning it",
		s.key, s.proc, h.rel(d.answer))
}

// countLostTogether counts the locks s held when revocation d landed, all
// lost with it, by how their holder heard of it: from the Session's
// notice, from its Unlock (the record was taken), not at all because its
// Unlock had begun before the revocation or released a record nobody had
// taken yet, or never, killed.
func (h *history) countLostTogether(s *sessionChain, d death) {
	n := 0
	for _, c := range s.locks {
		if c.answered == 0 || c.answered > d.low || c.released && c.releaseSent < d.low {
			continue // not surely held when the revocation was sent
		}
		n++
		var a *acq
		for _, x := range h.acqs[h.keyOf(c)] {
			if x.proc == c.proc && x.token == c.token {
				a = x
			}
		}
		how := "other"
		switch {
		case a != nil && h.noticed[acqID(a.proc, a.key, a.token)]:
			how = "notice"
		case a != nil && a.unlock == CauseLost:
			how = "unlock lost"
		case a != nil && a.releaseAt != 0 && a.releaseAt <= d.low:
			how = "unlock under way" // its Unlock began before the revocation was sent
		case a != nil && a.releasedAt != 0 && a.unlock == "":
			how = "released first"
		case h.kills[s.proc] != 0:
			how = "killed"
		}
		h.rep.LostTogetherHow[how]++
	}
	h.rep.LocksLostTogether += n
	h.rep.MostLostTogether = max(h.rep.MostLostTogether, n)
}

// loadNotices takes from the workers' loss notices when each Session
// reported itself revoked, and which locks it reported lost with it.
func (h *history) loadNotices() {
	sort.SliceStable(h.notices, func(i, j int) bool { return h.notices[i].At < h.notices[j].At })
	h.noticed = map[string]bool{}
	for _, n := range h.notices {
		if isSessionKey(n.Key) {
			if s := h.sessions[n.Key]; s != nil && s.proc == n.Proc && s.notice == 0 {
				s.notice = n.At
			}
			h.rep.SessionsTold++
			continue
		}
		if n.Cause == ReasonSessionRevoked {
			h.noticed[acqID(n.Proc, n.Key, n.Token)] = true
			h.rep.SessionLockNotices++
		}
	}
}

// checkLostTogether: a Session that reported itself revoked had been
// revoked, and every lock it held then was reported lost. Its holder may
// have begun its Unlock first, or within the lease after, racing the
// Session's loop over its locks: an Unlock that wins marks the record
// released, and nobody took it. A lock the Session never reported, whose
// holder went on holding for a lease, is a violation, unless its process
// was killed or the run had begun to stop.
func (h *history) checkLostTogether() {
	told := map[string]bool{}
	for _, n := range h.notices {
		told[acqID(n.Proc, n.Key, n.Token)] = true
	}
	for _, s := range h.sessions {
		if s.notice == 0 {
			continue
		}
		if s.deadBefore(s.notice) == nil && !s.maybeDeadBefore(s.notice) {
			h.rep.violate("Session %s (process %d) reported itself revoked at +%v, but nobody had revoked it",
				s.key, s.proc, h.rel(s.notice))
		}
		for _, c := range s.locks {
			h.checkToldOf(s, c, told)
		}
	}
}

// checkToldOf checks that the lock of chain c, held under the revoked
// Session s, was reported lost (see checkLostTogether).
func (h *history) checkToldOf(s *sessionChain, c *chain, told map[string]bool) {
	lease, t := int64(h.p.Lease), s.notice
	var a *acq
	for _, x := range h.acqs[h.keyOf(c)] {
		if x.proc == c.proc && x.token == c.token {
			a = x
		}
	}
	switch {
	case a == nil || a.at >= t || a.releasedAt != 0 && a.releaseAt <= t:
		return // not held when the Session learned
	case told[acqID(a.proc, a.key, a.token)] || a.cause == CauseLost || a.unlock == CauseLost:
		return
	case a.releaseAt != 0 && a.releaseAt <= t+lease:
		return // its Unlock raced the Session's loop
	}
	if k, ok := h.kills[a.proc]; ok && k <= t+lease || h.p.Stopping != 0 && t+lease >= h.p.Stopping {
		return
	}
	h.rep.violate("key %s: %s was held under Session %s, which learned at +%v that it was revoked, but it was never reported lost",
		a.key, a.name(), s.key, h.rel(t))
}

// keyOf returns the key of chain c.
func (h *history) keyOf(c *chain) string {
	for key, cs := range h.chains {
		if cs[c.token] == c {
			return key
		}
	}
	return ""
}

// sessionDeadBefore reports whether a was held under a Session that had
// been revoked, or may have been, before end: a loss it reports then is no
// false loss even if nobody has taken the lock yet.
func (h *history) sessionDeadBefore(a *acq, end int64) bool {
	c := h.chains[a.key][a.token]
	if c == nil || c.session == "" {
		return false
	}
	s := h.sessions[c.session]
	return s != nil && (s.deadBefore(end) != nil || s.maybeDeadBefore(end))
}

// countLeaseKinds counts acquisitions, kills and pauses by the kind of
// worker: "session" for a process that created a Session record, else
// "per-lock". Only a run with Session records counts them.
func (h *history) countLeaseKinds() {
	if len(h.sessions) == 0 {
		return
	}
	leased := map[int]bool{}
	for _, s := range h.sessions {
		leased[s.proc] = true
	}
	kind := func(proc int) string {
		if leased[proc] {
			return "session"
		}
		return "per-lock"
	}
	for _, as := range h.acqs {
		for _, a := range as {
			h.rep.AcquisitionsByLease[kind(a.proc)]++
		}
	}
	for proc := range h.kills {
		h.rep.KillsByLease[kind(proc)]++
	}
	for proc, ss := range h.stops {
		for _, st := range ss {
			if st.to < h.p.End || h.p.End == 0 {
				h.rep.PausesByLease[kind(proc)]++
			}
		}
	}
}

// writeSessions prints the session-lease part of the report, if the run
// had Session records.
func (r *Report) writeSessions(p func(string, ...any)) {
	if r.SessionsCreated == 0 {
		return
	}
	p("session leases        acquisitions: %s; kills: %s; pauses: %s",
		counts(r.AcquisitionsByLease), counts(r.KillsByLease), counts(r.PausesByLease))
	p("  sessions            %d created, %d revoked, %d ended at Close; %d revocations undecided",
		r.SessionsCreated, r.SessionsRevoked, r.SessionsEnded, r.RevocationsUndecided)
	p("  revocation delay    after the owner's last landed write: min %.2f, median %.2f, max %.2f leases",
		r.RevocationMin, r.RevocationMedian, r.RevocationMax)
	p("  sessions revoked    %d learned it from their renewal, and reported %d locks lost with them",
		r.SessionsTold, r.SessionLockNotices)
	p("  lost together       %d locks held under a Session when it was revoked (at most %d under one); told by %s",
		r.LocksLostTogether, r.MostLostTogether, counts(r.LostTogetherHow))
	p("  taken from dead     %d locks taken without a release from a revoked Session", r.SessionTakeovers)
}

func (r *Report) finishSessions() {
	if n := len(r.revocation); n > 0 {
		sort.Float64s(r.revocation)
		r.RevocationMin, r.RevocationMedian, r.RevocationMax = r.revocation[0], r.revocation[n/2], r.revocation[n-1]
	}
}
