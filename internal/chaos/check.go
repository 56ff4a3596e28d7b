package chaos

import (
	"fmt"
	"sort"
	"time"
)

// Params are the run's settings that the checks depend on.
type Params struct {
	Lease, Safe time.Duration
	// Stopping is when the run began to stop its workers (Unix ns): from
	// then on a worker's own shutdown may end a lock context first, with its
	// own cause. Nothing else of the worker's may: it bounds its waits with
	// LockWithin, which ends the wait, never the lock.
	Stopping int64
	End      int64 // when the run ended; holders never released hold until then
	// ExpectEarly inverts the verdict for a run with a rogue clock (see
	// Report.OK): it must show a takeover of a rogue's lock within the lease.
	ExpectEarly bool
	// Semaphore is the number of permits of a semaphore run, 0 otherwise:
	// then no more than that many may hold permits at once.
	Semaphore int
}

// acq is one acquisition, joined from the events that concern it.
type acq struct {
	proc, g    int
	key        string
	token      uint64 // 0 for a client's acquisition
	client     string // the client of a client worker; "" for dynamutex
	turn       uint64 // a client worker's count, in place of the token
	start, at  int64  // Lock called, Lock returned
	sent       int64  // the landed acquire write was sent; 0 if unknown
	cancelAt   int64  // the lock context ended; 0 if never seen
	cause      string // why
	releasedAt int64  // Unlock returned; 0 if never
	unlock     string // Unlock's error class
	releaseAt  int64  // its Unlock was called, or a client's release command sent, before the release landed
}

// attempt is one lock-table request the transport sent.
type attempt struct {
	send, answer int64
	outcome      string // KindLanded, KindFound, KindRefused, or "" for no answer
	token        uint64
	dropped      bool
	observed     string // the version an acquire could take over by observation
	gap          int64  // how long before its send the library stamped it; 0 if unknown
}

// version is one write of the library: all attempts that carried the same
// new version. At most one of them lands.
type version struct {
	name          string
	op, key, from string
	proc          int
	session       string // an acquire's: the Session record that keeps the lock; "" for a lock renewed by itself
	attempts      []*attempt
	chain         *chain
}

func (v *version) landed() bool {
	for _, a := range v.attempts {
		if a.outcome == KindLanded || a.outcome == KindFound {
			return true
		}
	}
	return false
}

// sendBounds returns the earliest and latest send time the attempt that
// landed can have had: the one answered with 200, or, when a retry found
// the write already there, one of the unanswered attempts before it.
func (v *version) sendBounds() (low, high int64) {
	var found int64
	for _, a := range v.attempts {
		if a.outcome == KindLanded {
			return a.send, a.send
		}
		if a.outcome == KindFound && found == 0 {
			found = a.send
		}
	}
	low, high = found, 0
	for _, a := range v.attempts {
		if a.outcome == "" && a.send < found {
			low, high = min(low, a.send), max(high, a.send)
		}
	}
	if high == 0 {
		high = found
	}
	return low, high
}

// unanswered returns the latest send of an attempt nobody answered.
func (v *version) unanswered() int64 {
	var t int64
	for _, a := range v.attempts {
		if a.outcome == "" {
			t = max(t, a.send)
		}
	}
	return t
}

// chain is one acquisition as the lock table saw it: its acquire, renewals
// and release, linked by the versions they replaced.
type chain struct {
	token        uint64
	proc         int
	acquired     int64 // earliest possible send of the acquire that landed
	answered     int64 // when DynamoDB answered it
	dropped      int64 // when its reply was dropped; 0 if none was
	last         int64 // latest possible send of its last write that landed
	lastGap      int64 // that write's stamp-to-send gap; 0 if unknown
	doubt        int64 // latest send of a write of it whose fate is unknown
	released     bool
	releaseDoubt bool   // a release was sent and never answered
	current      string // the version of its latest write that landed
	observed     string // the version its acquire could take over by observation
	session      string // the Session record whose lease kept it; "" if it was renewed itself
	sentHigh     int64  // latest possible send of the acquire that landed
	releaseSent  int64  // latest possible send of its release that landed; 0 if none did
}

type stop struct{ from, to int64 }

type history struct {
	p      Params
	acqs   map[string][]*acq // by key, in token order
	chains map[string]map[uint64]*chain
	stops  map[int][]stop
	kills  map[int]int64
	writes []Event
	clocks map[int]Clock  // clock-bound runs: each worker's, from its clock event
	kinds  map[int]string // mixed runs: the client of each client worker, from its ready event
	// Session leases: each Session record's history, by key, and what the
	// workers' Sessions reported lost.
	sessions map[string]*sessionChain
	notices  []Event
	// proclaims are an election run's Proclaim results (check_election.go).
	proclaims []Event
	noticed   map[string]bool // acqID: reported lost with its revoked Session
	rep       *Report
}

// Check replays a run's events and reports its figures and every violation
// of the library's guarantees.
func Check(evs []Event, p Params) *Report {
	h := &history{p: p, acqs: map[string][]*acq{}, chains: map[string]map[uint64]*chain{},
		stops: map[int][]stop{}, kills: map[int]int64{}, clocks: map[int]Clock{}, kinds: map[int]string{},
		sessions: map[string]*sessionChain{}, rep: newReport()}
	h.rep.expectEarly = p.ExpectEarly
	sort.SliceStable(evs, func(i, j int) bool { return evs[i].At < evs[j].At })
	if len(evs) > 0 {
		h.rep.first = evs[0].At
	}
	h.load(evs)
	h.checkTokens()
	h.checkLedger()
	h.checkGuarded()
	h.checkOverlaps()
	h.checkTakeovers()
	h.checkRevocations()
	h.checkLostTogether()
	h.checkLosses()
	h.checkPauses()
	h.checkClientTurns()
	h.checkProclaims()
	h.checkSemaphore()
	h.rep.finish()
	return h.rep
}

func (h *history) load(evs []Event) {
	l := &loader{h: h, byID: map[string]*acq{}, open: map[int]int64{}, procs: map[int]bool{},
		versions: map[string]*version{}, attempts: map[string]*attempt{}}
	h.loadKinds(evs)
	for _, e := range evs {
		if e.Proc > 0 {
			l.procs[e.Proc] = true
		}
		switch e.Kind {
		case KindAcquired, KindLockFailed, KindCancelled, KindReleased:
			l.lockEvent(e)
		case KindWrite:
			h.writes = append(h.writes, e)
		case KindSent, KindLanded, KindFound, KindRefused, KindClaimWrite, KindFault:
			l.tableEvent(e)
		case KindKill, KindStop, KindCont, KindExit:
			l.procEvent(e)
		case KindClock, KindClockUntrusted, KindClockTrusted:
			h.loadClock(e)
		case KindLostNotice:
			h.notices = append(h.notices, e)
		case KindProclaim:
			h.proclaims = append(h.proclaims, e)
		}
	}
	for p, from := range l.open {
		h.stops[p] = append(h.stops[p], stop{from, h.p.End})
	}
	h.rep.Processes = len(l.procs)
	h.link(l.order, l.versions)
	h.linkSessions(l.order)
	h.loadNotices()
	h.countLeaseKinds()
	for _, as := range h.acqs {
		sort.Slice(as, func(i, j int) bool { return as[i].token < as[j].token })
		for _, a := range as {
			if c := h.chains[a.key][a.token]; c != nil {
				a.sent = c.acquired
			}
		}
	}
	l.adoptions()
}

// loader is the state of one load: what the events seen so far refer to.
type loader struct {
	h        *history
	byID     map[string]*acq // proc/key/token
	open     map[int]int64   // pauses begun and not yet ended, by process
	procs    map[int]bool
	order    []*version
	versions map[string]*version
	attempts map[string]*attempt // proc/req
}

func acqID(proc int, key string, tok uint64) string { return fmt.Sprintf("%d/%s/%d", proc, key, tok) }

// lockEvent loads what a worker said of one Lock call or acquisition.
func (l *loader) lockEvent(e Event) {
	rep := l.h.rep
	id := eventAcqID(e)
	a := l.byID[id]
	switch e.Kind {
	case KindAcquired:
		if a != nil {
			rep.violate("key %s: token %d handed out twice to process %d", e.Key, e.Token, e.Proc)
		}
		a = &acq{proc: e.Proc, g: e.G, key: e.Key, token: e.Token, client: e.Client, turn: e.Turn, start: e.Start, at: e.At}
		l.byID[id] = a
		l.h.acqs[e.Key] = append(l.h.acqs[e.Key], a)
		rep.Acquisitions++
		if len(l.h.kinds) > 0 {
			rep.AcquisitionsByKind[l.h.kindOf(e.Proc)]++
		}
	case KindLockFailed:
		rep.LockFailures[e.Cause]++
	case KindCancelled:
		if a != nil && a.cancelAt == 0 {
			a.cancelAt, a.cause = e.At, e.Cause
		}
		rep.Cancellations[e.Cause]++
	case KindReleased:
		if a != nil {
			a.releasedAt, a.unlock, a.releaseAt = e.At, e.Cause, e.Start
		}
		rep.Releases[orNil(e.Cause)]++
	}
}

// tableEvent loads what the transport said of one lock-table request.
func (l *loader) tableEvent(e Event) {
	rep := l.h.rep
	switch e.Kind {
	case KindSent:
		name := e.Version
		if e.Op == OpRelease && e.From == e.Version {
			// A release in Python's format keeps the version it releases
			// (wire.ReleasedLease): a write of its own all the same.
			name += "#released"
		}
		v := l.versions[name]
		if v == nil {
			v = &version{name: name, op: e.Op, key: e.Key, from: e.From, proc: e.Proc, session: e.Session}
			l.versions[name] = v
			l.order = append(l.order, v)
		} else if v.key != e.Key {
			// A version names one acquisition of one record: the chains
			// this checker follows, and the library's own recognition of
			// a lost reply, rest on it.
			rep.violate("version %s written to two keys, %s and %s", name, v.key, e.Key)
		}
		at := &attempt{send: e.At, observed: e.Observed, gap: l.h.stampGap(e)}
		v.attempts = append(v.attempts, at)
		l.attempts[fmt.Sprintf("%d/%d", e.Proc, e.Req)] = at
	case KindLanded, KindFound, KindRefused:
		if at := l.attempts[fmt.Sprintf("%d/%d", e.Proc, e.Req)]; at != nil {
			at.outcome, at.answer, at.token, at.dropped = e.Kind, e.At, e.Token, e.Dropped
		}
		if e.Dropped {
			rep.LostReplies[sessionOp(e)+" "+e.Kind]++
		}
	case KindClaimWrite:
		outcome := "refused"
		if e.OK {
			outcome = "landed"
		}
		rep.ClaimWrites[e.Op+" "+outcome]++
	case KindFault:
		rep.Faults[e.Fault]++
		rep.FaultsByOp[sessionOp(e)]++
	}
}

// procEvent loads what the parent did to a worker process, and how it
// ended.
func (l *loader) procEvent(e Event) {
	h, rep := l.h, l.h.rep
	switch e.Kind {
	case KindKill:
		h.kills[e.Proc] = e.At
		rep.Kills++
		if len(h.kinds) > 0 {
			rep.KillsByKind[h.kindOf(e.Proc)]++
		}
	case KindStop:
		l.open[e.Proc] = e.At
	case KindCont:
		if from, ok := l.open[e.Proc]; ok {
			h.stops[e.Proc] = append(h.stops[e.Proc], stop{from, e.At})
			delete(l.open, e.Proc)
			rep.Pauses++
			if len(h.kinds) > 0 {
				rep.PausesByKind[h.kindOf(e.Proc)]++
			}
			rep.PauseTotal += time.Duration(e.At - from)
		}
	case KindExit:
		if _, killed := h.kills[e.Proc]; !killed && e.Cause != "exit 0" {
			rep.violate("process %d ended with %q", e.Proc, e.Cause)
		}
	}
}

// adoptions checks that an acquisition whose reply was lost after it
// landed came back from the same Lock call as that token (adopted), or was
// released by the Session once the call gave up, and was never lost.
func (l *loader) adoptions() {
	rep := l.h.rep
	for key, cs := range l.h.chains {
		for tok, c := range cs {
			if c.dropped == 0 {
				continue
			}
			a := l.byID[acqID(c.proc, key, tok)]
			switch {
			case a != nil:
				rep.AdoptedAcquires++
				rep.adoption = append(rep.adoption, time.Duration(a.at-c.dropped))
			case c.released:
				rep.AbandonedAcquires++ // the Lock call gave up; the loop released the record
			}
		}
	}
}

// landings splits the attempts of an acquire version at each attempt that
// landed or found its write: every segment ends with one acquisition.
func (v *version) landings() []*version {
	var segs []*version
	cur := &version{name: v.name, op: v.op, key: v.key, from: v.from, proc: v.proc, session: v.session}
	for _, a := range v.attempts {
		cur.attempts = append(cur.attempts, a)
		if a.outcome == KindLanded || a.outcome == KindFound {
			segs = append(segs, cur)
			cur = &version{name: v.name, op: v.op, key: v.key, from: v.from, proc: v.proc, session: v.session}
		}
	}
	return segs
}

// startChain starts the chain of the acquisition that ends segment seg of
// acquire version v, and makes it the chain that v's renewals continue.
func (h *history) startChain(v, seg *version) {
	last := seg.attempts[len(seg.attempts)-1]
	tok, answered := last.token, last.answer
	var dropped int64
	if last.dropped && last.outcome == KindLanded {
		dropped = last.answer
	}
	if tok == 0 {
		h.rep.violate("key %s: an acquisition by process %d landed without a readable token", v.key, v.proc)
		return
	}
	cs := h.chains[v.key]
	if cs == nil {
		cs = map[uint64]*chain{}
		h.chains[v.key] = cs
	}
	if old := cs[tok]; old != nil {
		if old.proc == v.proc && last.outcome == KindFound {
			return // a retry found the landing already counted
		}
		h.rep.violate("key %s: token %d granted twice (processes %d and %d)", v.key, tok, old.proc, v.proc)
		return
	}
	low, high := seg.sendBounds()
	c := &chain{token: tok, proc: v.proc, acquired: low, answered: answered, dropped: dropped, last: high,
		lastGap: seg.gapAt(high), current: v.name, observed: seg.landedObserved(), session: v.session, sentHigh: high}
	cs[tok] = c
	v.chain = c
}

// link builds the chains: an acquire that landed starts one, and each
// renewal or release joins the chain of the version it replaced.
func (h *history) link(order []*version, versions map[string]*version) {
	for _, v := range order {
		switch v.op {
		case OpAcquire:
			// One Lock call writes one version in every attempt, so the
			// version can land twice: once unheard, and then again after
			// someone else took that first acquisition over. Each landing is
			// an acquisition of its own, with its own token.
			for _, seg := range v.landings() {
				h.startChain(v, seg)
			}
		case OpRenew, OpRelease:
			from := versions[v.from]
			if from == nil || from.chain == nil {
				continue // replaced a version whose acquire was never seen to land
			}
			c := from.chain
			v.chain = c
			switch {
			case v.landed():
				_, high := v.sendBounds()
				if high > c.last {
					c.last, c.lastGap = high, v.gapAt(high)
				}
				if v.op == OpRelease && !c.released {
					c.released, c.releaseSent = true, high
				}
				c.current = v.name
			default:
				if t := v.unanswered(); t != 0 {
					c.doubt = max(c.doubt, t)
					c.releaseDoubt = c.releaseDoubt || v.op == OpRelease
				}
			}
		}
	}
}

// checkTokens: per key, every acquisition has its own token, and one that
// completed before another started has the smaller token.
func (h *history) checkTokens() {
	for key, cs := range h.chains {
		var spans []span
		for tok, c := range cs {
			spans = append(spans, span{tok, c.acquired, c.answered})
		}
		h.realTimeOrder(key, "granted", spans)
	}
	for key, as := range h.acqs {
		var spans []span
		for _, a := range as {
			if a.client == "" { // a client's acquisition has no token
				spans = append(spans, span{a.token, a.start, a.at})
			}
		}
		h.realTimeOrder(key, "returned by Lock", spans)
	}
}

type span struct {
	token      uint64
	start, end int64
}

// realTimeOrder finds a pair where the span with the higher token ended
// before the one with the lower token started.
func (h *history) realTimeOrder(key, what string, spans []span) {
	sort.Slice(spans, func(i, j int) bool { return spans[i].token < spans[j].token })
	minEnd := int64(1<<63 - 1)
	minTok := uint64(0)
	for i := len(spans) - 1; i >= 0; i-- {
		s := spans[i]
		if i+1 < len(spans) && spans[i+1].token == s.token {
			h.rep.violate("key %s: token %d %s twice", key, s.token, what)
		}
		if minEnd < s.start {
			h.rep.violate("key %s: token %d was %s after token %d had been: tokens must grow in the order of grants",
				key, s.token, what, minTok)
		}
		if s.end < minEnd {
			minEnd, minTok = s.end, s.token
		}
	}
}

// checkLedger: the ledger accepted tokens in order, and refused every write
// made with a token below one it had already accepted.
func (h *history) checkLedger() {
	rep := h.rep
	accepted := map[string][]Event{}
	for _, w := range h.writes {
		if w.Guarded {
			continue
		}
		switch {
		case w.OK:
			rep.WritesAccepted++
			accepted[w.Key] = append(accepted[w.Key], w)
		case w.Cause == "refused":
			rep.WritesRefused++
			h.checkRefusedLive(w, "ledger")
		default:
			rep.WritesFailed++
		}
		if w.Zombie {
			if w.OK {
				rep.ZombieAccepted++
			} else if w.Cause == "refused" {
				rep.ZombieRefused++
			}
		}
	}
	for key, ws := range accepted {
		sort.Slice(ws, func(i, j int) bool { return ws[i].Seq < ws[j].Seq })
		for i := 1; i < len(ws); i++ {
			if ws[i].Seq == ws[i-1].Seq {
				rep.violate("ledger %s: two writes accepted as number %d", key, ws[i].Seq)
			}
			if ws[i].Token < ws[i-1].Token {
				rep.violate("ledger %s: token %d accepted after token %d", key, ws[i].Token, ws[i-1].Token)
			}
		}
	}
	// A write sent after a higher token's write was acknowledged must be refused.
	for _, w := range h.writes {
		if w.Guarded {
			continue
		}
		for _, a := range accepted[w.Key] {
			if a.Token > w.Token && a.At < w.Start && w.OK {
				rep.violate("ledger %s: token %d accepted at +%v after token %d had been",
					w.Key, w.Token, h.rel(w.At), a.Token)
				break
			}
		}
	}
}

// checkGuarded: a guarded write commits only while its acquisition still
// holds the record. It is never accepted once a later acquisition had been
// granted before it was sent, even if the new holder has not written yet,
// and never refused while its writer's context was live in a process that
// had not been paused.
func (h *history) checkGuarded() {
	rep := h.rep
	for _, w := range h.writes {
		if !w.Guarded {
			continue
		}
		switch {
		case w.OK:
			rep.GuardedAccepted++
			if w.Zombie {
				rep.GuardedZombieAccepted++
			}
			if later, at := h.grantedBefore(w.Key, w.Token, w.Start); at != 0 {
				rep.violate("guarded %s: token %d (process %d) accepted at +%v although %s had been granted at +%v",
					w.Key, w.Token, w.Proc, h.rel(w.At), later, h.rel(at))
			}
		case w.Cause == "refused":
			rep.GuardedRefused++
			if w.Zombie {
				rep.GuardedZombieRefused++
			}
			h.checkRefusedLive(w, "guarded")
		default:
			rep.GuardedFailed++
		}
	}
}

// checkRefusedLive: a write refused while its writer's context was live is
// allowed only from a process that had been paused. what names the kind of
// write in the violation.
func (h *history) checkRefusedLive(w Event, what string) {
	if !w.Live {
		return
	}
	h.rep.RefusedWhileLive++
	if !h.pausedBefore(w) {
		h.violateFor(w.Proc, "%s %s: token %d (process %d) refused at +%v while its lock context was live, and its process had not been paused",
			what, w.Key, w.Token, w.Proc, h.rel(w.At))
	}
}

// grantedBefore names an acquisition of key later than token tok, and
// when, if DynamoDB had answered it, or Lock or a client's driver had
// returned it, before t.
func (h *history) grantedBefore(key string, tok uint64, t int64) (string, int64) {
	for ct, c := range h.chains[key] {
		if ct > tok && c.answered != 0 && c.answered < t {
			return fmt.Sprintf("token %d", ct), c.answered
		}
	}
	for _, a := range h.acqs[key] {
		if a.token > tok && a.at < t {
			return fmt.Sprintf("token %d", a.token), a.at
		}
	}
	if c := h.clientGrantedBefore(key, tok, t); c != nil {
		return c.name(), c.at
	}
	return "", 0
}

// checkOverlaps: whenever a holder acquired a key while an older holder had
// not yet unlocked it, the older holder's context had already ended, or its
// process had been killed or paused. Overlaps are counted once per older
// holder, by the reason that excused the first. Holders of every kind, the
// other clients' too, are checked against each other.
func (h *history) checkOverlaps() {
	for key, as := range h.acqs {
		counted := map[*acq]bool{}
		for i := range as {
			for _, other := range as[i+1:] {
				a, b := olderFirst(as[i], other)
				if b.at >= h.holdEnd(a) {
					continue
				}
				cause := h.excuse(a, b)
				if cause == "" {
					h.violateFor(a.proc, "key %s: %s acquired at +%v while %s was held with a live context",
						key, b.name(), h.rel(b.at), a.name())
				}
				if cause == "" || counted[a] {
					continue
				}
				counted[a] = true
				h.rep.Overlaps[cause]++
				if cause == "paused" && a.cancelAt != 0 && !h.toldOfDanger(a) {
					h.rep.violate("key %s: %s was taken over while paused, but its context ended with %q, not danger or lost",
						key, a.name(), a.cause)
				}
				if cause == "paused" {
					h.checkClientTold(a)
				}
			}
		}
	}
}

// pausedBefore reports whether the process of write w was paused between
// the acquisition whose token w carries and w's answer: the only way a
// holder with a live context can meet a newer holder's fence. A pause that
// begins after the write started but before it was answered counts: the
// write may be sent, or read its reply, only after the pause, when a newer
// holder has taken the lock.
func (h *history) pausedBefore(w Event) bool {
	for _, a := range h.acqs[w.Key] {
		if a.proc != w.Proc || a.token != w.Token {
			continue
		}
		from := a.start
		if a.sent != 0 {
			from = a.sent
		}
		for _, s := range h.stops[w.Proc] {
			if s.to >= from && s.from <= w.At {
				return true
			}
		}
	}
	return false
}

func (h *history) holdEnd(a *acq) int64 {
	switch {
	case a.client != "" && a.unlock == "" && a.releaseAt != 0:
		// A client's release that passed landed after its command was
		// sent and before the driver replied; a waiter may acquire between
		// the two. Its condition (the client's version, which any
		// acquisition changes) proves nobody acquired before it landed.
		return a.releaseAt
	case a.releasedAt != 0:
		return a.releasedAt
	case h.kills[a.proc] > a.at:
		return 1<<63 - 1 // a killed holder never unlocks; its record waits for a takeover
	}
	return h.p.End
}

func (h *history) excuse(a, b *acq) string {
	if k, ok := h.kills[a.proc]; ok && k > a.at && k <= b.at {
		return "killed"
	}
	if a.cancelAt != 0 && a.cancelAt <= b.at {
		return "cancelled (" + a.cause + ")"
	}
	if a.client == "" && a.cause == CauseUnlocked && a.releaseAt != 0 && a.releaseAt <= b.at {
		// Its Unlock had begun, so its work under the lock was done, and
		// Unlock cancels the context before it sends the release. The
		// cancellation's event comes from a goroutine of its own
		// (context.AfterFunc), which may run after a claimant's take that
		// followed the release within milliseconds.
		return "unlocking"
	}
	from := a.start
	if a.sent != 0 {
		from = a.sent
	}
	for _, s := range h.stops[a.proc] {
		if s.from <= b.at && s.to >= from {
			return "paused"
		}
	}
	return ""
}

// checkTakeovers: an acquisition that replaced a record nobody released was
// sent no sooner than a full lease after the last write of the old holder
// that landed. Where a write of the old holder was never answered (its
// process was killed mid-request, or the request timed out) and might have
// landed later, the bound cannot be decided; such takeovers are counted
// apart, never passed silently.
func (h *history) checkTakeovers() {
	lease := int64(h.p.Lease)
	for key, cs := range h.chains {
		for tok, b := range cs {
			a := cs[tok-1]
			if a == nil || a.released {
				continue
			}
			if a.session != "" {
				h.sessionTakeover(key, a, b)
				continue
			}
			d := b.acquired - a.last
			switch {
			case d < lease && a.releaseDoubt:
				h.rep.TakeoversUndecided++ // the release may have landed: then this was a plain handoff
				continue
			case d >= lease && a.doubt != 0 && b.acquired-a.doubt < lease:
				h.rep.TakeoversUndecided++ // fine unless the unanswered write landed
				continue
			}
			h.rep.Takeovers++
			h.rep.takeover = append(h.rep.takeover, float64(d)/float64(lease))
			h.countClockTakeover(a, b, d)
			if d < lease && !h.leaseAfterStamp(a, b) {
				h.earlyTakeover(a)
				h.violateFor(a.proc, "key %s: token %d (process %d) took over token %d (process %d) %v after its last landed write, within the %v lease%s",
					key, tok, b.proc, a.token, a.proc, time.Duration(d), h.p.Lease, gapNote(a))
			}
			if k, ok := h.kills[a.proc]; ok && k > a.acquired && k < b.acquired {
				h.rep.afterKill = append(h.rep.afterKill, float64(b.acquired-k)/float64(lease))
			}
		}
	}
}

// checkLosses: a lease reported lost was really replaced by a later
// acquisition; a lost reply of our own must never be mistaken for theft.
func (h *history) checkLosses() {
	for key, as := range h.acqs {
		for _, a := range as {
			var end int64
			switch {
			case a.cause == CauseLost:
				end = a.cancelAt
			case a.unlock == CauseLost:
				end = a.releasedAt
			default:
				continue
			}
			if !h.takenBefore(a, end) && !h.sessionDeadBefore(a, end) {
				h.rep.violate("key %s: %s was reported lost at +%v, but no later acquisition had landed",
					key, a.name(), h.rel(end))
			}
		}
	}
}

// toldOfDanger reports whether a's context ended in a way that tells a
// paused holder its lease may be gone: danger or loss, or the worker's
// shutdown ending the parent of the lock's context once the run had begun
// to stop, when the first cause wins over danger.
func (h *history) toldOfDanger(a *acq) bool {
	switch a.cause {
	case CauseDanger, CauseLost:
		return true
	case CauseShutdown:
		return h.p.Stopping > 0 && a.cancelAt >= h.p.Stopping
	}
	return false
}

// checkPauses: a holder paused past its safe time learns of it when it
// resumes, and every write it then makes with its old token after a newer
// holder's write is refused (the ledger check covers the refusal).
func (h *history) checkPauses() {
	for _, as := range h.acqs {
		for _, a := range as {
			from := a.start
			if a.sent != 0 {
				from = a.sent
			}
			for _, s := range h.stops[a.proc] {
				if time.Duration(s.to-s.from) <= h.p.Safe || s.from < from || s.from >= h.holdEnd(a) || a.cancelAt != 0 && a.cancelAt <= s.from {
					continue
				}
				h.rep.PausedHolders++
				if a.cancelAt != 0 && !h.toldOfDanger(a) {
					h.rep.violate("key %s: token %d (process %d) was paused for %v, past its safe time, but its context ended with %q",
						a.key, a.token, a.proc, time.Duration(s.to-s.from), a.cause)
				}
				for _, w := range h.writes {
					if !w.Guarded && w.Proc == a.proc && w.Key == a.key && w.Token == a.token && w.Start >= s.to {
						if w.OK {
							h.rep.ResumedAccepted++
						} else {
							h.rep.ResumedRefused++
						}
					}
				}
			}
		}
	}
}

func (h *history) rel(t int64) time.Duration {
	return time.Duration(t - h.rep.first).Round(time.Millisecond)
}

func orNil(s string) string {
	if s == "" {
		return "nil"
	}
	return s
}
