package chaos

import (
	"strings"
	"testing"
	"time"
)

// ms turns milliseconds since the start of a made-up run into event times.
func ms(n int) int64 { return int64(n) * int64(time.Millisecond) }

const testLease = time.Second

// hist builds a history for the checker: a few helpers that write the
// events a worker and its transport would.
type hist struct {
	evs      []Event
	req      uint64
	stopping int // Params.Stopping, in ms: 0 for none
}

func (h *hist) add(e Event) { h.evs = append(h.evs, e) }

// wr is one lock-table write of a test history: its send and, if outcome
// is set, its answer. Times are in ms.
type wr struct {
	proc                   int
	op, key, from, version string
	sent, answered         int
	outcome                string
	token                  uint64
}

// write logs one lock-table write.
func (h *hist) write(w wr) {
	h.req++
	h.add(Event{Kind: KindSent, At: ms(w.sent), Proc: w.proc, Req: h.req, Op: w.op, Key: w.key, From: w.from, Version: w.version})
	if w.outcome != "" {
		h.add(Event{Kind: w.outcome, At: ms(w.answered), Proc: w.proc, Req: h.req, Op: w.op, Key: w.key, Token: w.token})
	}
}

// held is a whole acquisition of a test history: Lock from start to
// start+2 ms, then the acquire write, a fenced write, and Unlock at end (0:
// never).
type held struct {
	proc       int
	key        string
	token      uint64
	start, end int
	version    string
}

// hold logs a whole acquisition.
func (h *hist) hold(a held) {
	h.write(wr{proc: a.proc, op: OpAcquire, key: a.key, version: a.version, sent: a.start, answered: a.start + 1, outcome: KindLanded, token: a.token})
	h.add(Event{Kind: KindAcquired, At: ms(a.start + 2), Start: ms(a.start), Proc: a.proc, Key: a.key, Token: a.token})
	h.add(Event{Kind: KindWrite, At: ms(a.start + 4), Start: ms(a.start + 3), Proc: a.proc, Key: a.key, Token: a.token, OK: true, Seq: a.token, Live: true})
	if a.end == 0 {
		return
	}
	h.add(Event{Kind: KindCancelled, At: ms(a.end - 2), Proc: a.proc, Key: a.key, Token: a.token, Cause: CauseUnlocked})
	h.write(wr{proc: a.proc, op: OpRelease, key: a.key, from: a.version, version: a.version + "-released", sent: a.end - 2, answered: a.end - 1, outcome: KindLanded})
	h.add(Event{Kind: KindReleased, At: ms(a.end), Proc: a.proc, Key: a.key, Token: a.token})
}

func (h *hist) check(t *testing.T) *Report {
	t.Helper()
	end := int64(0)
	for _, e := range h.evs {
		end = max(end, e.At)
	}
	return Check(append([]Event(nil), h.evs...), Params{Lease: testLease, Safe: testLease * 6 / 10,
		Stopping: stoppingAt(h.stopping), End: end + ms(1)})
}

func stoppingAt(msAt int) int64 {
	if msAt == 0 {
		return 0
	}
	return ms(msAt)
}

func wantViolation(t *testing.T, r *Report, substr string) {
	t.Helper()
	for _, v := range r.Violations {
		if strings.Contains(v, substr) {
			return
		}
	}
	t.Fatalf("no violation containing %q; got %q", substr, r.Violations)
}

func wantClean(t *testing.T, r *Report) {
	t.Helper()
	if !r.OK() {
		t.Fatalf("violations in a correct history: %q", r.Violations)
	}
}

func TestCheckCleanHandoff(t *testing.T) {
	var h hist
	h.hold(held{proc: 1, key: "k", token: 10, start: 0, end: 100, version: "v1"})
	h.hold(held{proc: 2, key: "k", token: 11, start: 101, end: 200, version: "v2"})
	r := h.check(t)
	wantClean(t, r)
	if r.Acquisitions != 2 || r.Takeovers != 0 || r.WritesAccepted != 2 || sum(r.Overlaps) != 0 {
		t.Fatalf("report %+v", r)
	}
}

func TestCheckTokenOrder(t *testing.T) {
	var h hist
	h.hold(held{proc: 1, key: "k", token: 11, start: 0, end: 100, version: "v1"})
	h.hold(held{proc: 2, key: "k", token: 10, start: 101, end: 200, version: "v2"}) // granted later, with a smaller token
	wantViolation(t, h.check(t), "tokens must grow")
}

// A holder whose Unlock had begun, and whose context then ended with
// ErrUnlocked, is no live holder, even if the event of its context's end
// was logged after the next holder's acquisition: Unlock cancels the
// context before it sends the release. One whose Unlock had not begun is.
func TestCheckOverlapWhileUnlocking(t *testing.T) {
	for _, tc := range []struct {
		unlock  int
		violate bool
	}{{unlock: 100, violate: false}, {unlock: 106, violate: true}} {
		var h hist
		h.write(wr{proc: 1, op: OpAcquire, key: "k", version: "v1", sent: 0, answered: 1, outcome: KindLanded, token: 10})
		h.add(Event{Kind: KindAcquired, At: ms(2), Start: ms(0), Proc: 1, Key: "k", Token: 10})
		h.write(wr{proc: 1, op: OpRelease, key: "k", from: "v1", version: "v1-released", sent: 101, answered: 102, outcome: KindLanded})
		h.write(wr{proc: 2, op: OpAcquire, key: "k", version: "v2", sent: 103, answered: 104, outcome: KindLanded, token: 11})
		h.add(Event{Kind: KindAcquired, At: ms(105), Start: ms(50), Proc: 2, Key: "k", Token: 11})
		h.add(Event{Kind: KindCancelled, At: ms(110), Proc: 1, Key: "k", Token: 10, Cause: CauseUnlocked})
		h.add(Event{Kind: KindReleased, At: ms(111), Start: ms(tc.unlock), Proc: 1, Key: "k", Token: 10})
		r := h.check(t)
		if tc.violate {
			wantViolation(t, r, "held with a live context")
			continue
		}
		wantClean(t, r)
		if r.Overlaps["unlocking"] != 1 {
			t.Errorf("overlaps %v, want one while unlocking", r.Overlaps)
		}
	}
}

// A version names one acquisition of one record: a version sent to a
// second key is a violation, even if only one write landed.
func TestCheckVersionOnTwoKeys(t *testing.T) {
	var h hist
	h.write(wr{proc: 1, op: OpAcquire, key: "a", version: "v1", sent: 0, answered: 1, outcome: KindRefused})
	h.hold(held{proc: 1, key: "b", token: 10, start: 2, end: 100, version: "v1"})
	wantViolation(t, h.check(t), "written to two keys")
}

func TestCheckTokenGrantedTwice(t *testing.T) {
	var h hist
	h.hold(held{proc: 1, key: "k", token: 10, start: 0, end: 100, version: "v1"})
	h.hold(held{proc: 2, key: "k", token: 10, start: 101, end: 200, version: "v2"})
	wantViolation(t, h.check(t), "granted twice")
}

func TestCheckOverlapWithLiveContext(t *testing.T) {
	var h hist
	h.hold(held{proc: 1, key: "k", token: 10, start: 0, version: "v1"}) // never unlocks, never cancelled, not paused or killed
	h.hold(held{proc: 2, key: "k", token: 11, start: 1500, end: 1600, version: "v2"})
	wantViolation(t, h.check(t), "with a live context")
}

func TestCheckOverlapExcused(t *testing.T) {
	t.Run("killed", func(t *testing.T) {
		var h hist
		h.hold(held{proc: 1, key: "k", token: 10, start: 0, version: "v1"})
		h.add(Event{Kind: KindKill, At: ms(50), Proc: 1})
		h.hold(held{proc: 2, key: "k", token: 11, start: 1100, end: 1200, version: "v2"})
		r := h.check(t)
		wantClean(t, r)
		if r.Overlaps["killed"] != 1 || r.Takeovers != 1 || r.AfterKill != 1 {
			t.Fatalf("overlaps %v, takeovers %d, after kill %d", r.Overlaps, r.Takeovers, r.AfterKill)
		}
	})
	t.Run("danger", func(t *testing.T) {
		var h hist
		h.hold(held{proc: 1, key: "k", token: 10, start: 0, version: "v1"})
		h.add(Event{Kind: KindCancelled, At: ms(600), Proc: 1, Key: "k", Token: 10, Cause: CauseDanger})
		h.hold(held{proc: 2, key: "k", token: 11, start: 1100, end: 1200, version: "v2"})
		r := h.check(t)
		wantClean(t, r)
		if r.Overlaps["cancelled (danger)"] != 1 {
			t.Fatalf("overlaps %v", r.Overlaps)
		}
	})
	t.Run("paused", func(t *testing.T) {
		h := pausedTakeover(CauseDanger)
		h.add(Event{Kind: KindWrite, At: ms(2503), Start: ms(2502), Proc: 1, Key: "k", Token: 10, Cause: "refused", Zombie: true})
		r := h.check(t)
		wantClean(t, r)
		if r.Overlaps["paused"] != 1 || r.PausedHolders != 1 || r.ResumedRefused != 1 || r.ZombieRefused != 1 {
			t.Fatalf("report %+v", r)
		}
	})
}

// pausedTakeover: process 1 is frozen while it holds token 10, process 2
// takes the key over, and process 1's context ends with cause on resuming.
func pausedTakeover(cause string) *hist {
	h := &hist{}
	h.hold(held{proc: 1, key: "k", token: 10, start: 0, version: "v1"})
	h.add(Event{Kind: KindStop, At: ms(50), Proc: 1})
	h.hold(held{proc: 2, key: "k", token: 11, start: 1100, end: 1200, version: "v2"})
	h.add(Event{Kind: KindCont, At: ms(2500), Proc: 1})
	h.add(Event{Kind: KindCancelled, At: ms(2501), Proc: 1, Key: "k", Token: 10, Cause: cause})
	return h
}

func TestCheckPausedHolderNotTold(t *testing.T) {
	wantViolation(t, pausedTakeover(CauseUnlocked).check(t), "not danger or lost")
}

// A worker bounds its waits with LockWithin, which never ends a lock's
// context: a context ended with the wait's cause is a violation, however
// long after the Lock call began.
func TestCheckPausedHolderNotToldByWaitBound(t *testing.T) {
	wantViolation(t, pausedTakeover(CauseWaited).check(t), "not danger or lost")
}

// A worker's shutdown is different: once the run has begun to stop its
// workers, a SIGTERM may end a resumed holder's lock context before its
// overdue danger timer does. Before that moment it would be the library's
// doing.
func TestCheckPausedHolderToldByShutdown(t *testing.T) {
	h := pausedTakeover(CauseShutdown)
	h.stopping = 2400 // the run began to stop at 2.4 s; the context ended at 2.501 s
	wantClean(t, h.check(t))
	h.stopping = 2600
	wantViolation(t, h.check(t), "not danger or lost")
}

func TestCheckTakeoverTooSoon(t *testing.T) {
	var h hist
	h.hold(held{proc: 1, key: "k", token: 10, start: 0, version: "v1"})
	h.write(wr{proc: 1, op: OpRenew, key: "k", from: "v1", version: "v1b", sent: 200, answered: 201, outcome: KindLanded})
	h.add(Event{Kind: KindKill, At: ms(250), Proc: 1})
	h.hold(held{proc: 2, key: "k", token: 11, start: 1100, end: 1200, version: "v2"}) // 900 ms after the renewal sent at 200
	wantViolation(t, h.check(t), "within the 1s lease")
}

func TestCheckTakeoverUndecided(t *testing.T) {
	var h hist
	h.hold(held{proc: 1, key: "k", token: 10, start: 0, version: "v1"})
	h.write(wr{proc: 1, op: OpRelease, key: "k", from: "v1", version: "v1r", sent: 200}) // killed before the answer
	h.add(Event{Kind: KindKill, At: ms(201), Proc: 1})
	h.hold(held{proc: 2, key: "k", token: 11, start: 300, end: 400, version: "v2"})
	r := h.check(t)
	wantClean(t, r)
	if r.TakeoversUndecided != 1 || r.Takeovers != 0 {
		t.Fatalf("undecided %d, takeovers %d", r.TakeoversUndecided, r.Takeovers)
	}
}

func TestCheckAdoptedSendBounds(t *testing.T) {
	// The first renewal attempt, sent at 700, got no answer; the retry at
	// 800 found it had landed. So the renewal landed from the send at 700:
	// a takeover sent at 1650 came too soon, one at 1750 did not.
	for _, tc := range []struct {
		takeover int
		ok       bool
	}{{1650, false}, {1750, true}} {
		var h hist
		h.hold(held{proc: 1, key: "k", token: 10, start: 0, version: "v1"})
		h.write(wr{proc: 1, op: OpRenew, key: "k", from: "v1", version: "v1b", sent: 700})
		h.write(wr{proc: 1, op: OpRenew, key: "k", from: "v1", version: "v1b", sent: 800, answered: 801, outcome: KindFound, token: 10})
		h.add(Event{Kind: KindKill, At: ms(850), Proc: 1})
		h.hold(held{proc: 2, key: "k", token: 11, start: tc.takeover, end: tc.takeover + 50, version: "v2"})
		r := h.check(t)
		if tc.ok {
			wantClean(t, r)
		} else {
			wantViolation(t, r, "within the 1s lease")
		}
	}
}

func TestCheckLedger(t *testing.T) {
	var h hist
	h.hold(held{proc: 1, key: "k", token: 10, start: 0, end: 100, version: "v1"})
	h.hold(held{proc: 2, key: "k", token: 11, start: 101, end: 200, version: "v2"})
	// A stale write accepted after the newer holder's write was acknowledged.
	h.add(Event{Kind: KindWrite, At: ms(301), Start: ms(300), Proc: 1, Key: "k", Token: 10, OK: true, Seq: 12})
	r := h.check(t)
	wantViolation(t, r, "token 10 accepted after token 11")
	wantViolation(t, r, "after token 11 had been")
}

func TestCheckRefusedWhileLive(t *testing.T) {
	var h hist
	h.hold(held{proc: 1, key: "k", token: 10, start: 0, version: "v1"})
	h.hold(held{proc: 2, key: "k", token: 11, start: 1100, end: 1200, version: "v2"})
	h.add(Event{Kind: KindCancelled, At: ms(600), Proc: 1, Key: "k", Token: 10, Cause: CauseDanger})
	h.add(Event{Kind: KindWrite, At: ms(1301), Start: ms(1300), Proc: 1, Key: "k", Token: 10, Cause: "refused", Live: true})
	wantViolation(t, h.check(t), "had not been paused")

	h.add(Event{Kind: KindStop, At: ms(100), Proc: 1})
	h.add(Event{Kind: KindCont, At: ms(1250), Proc: 1})
	wantClean(t, h.check(t))
}

// A write that started just before its process was paused, and was sent
// or answered after the pause, meets the newer holder's fence while its
// context is still live: the pause excuses it.
func TestCheckRefusedWhilePausedMidWrite(t *testing.T) {
	var h hist
	h.hold(held{proc: 1, key: "k", token: 10, start: 0, version: "v1"})
	h.hold(held{proc: 2, key: "k", token: 11, start: 1100, end: 1200, version: "v2"})
	h.add(Event{Kind: KindWrite, At: ms(1301), Start: ms(500), Proc: 1, Key: "k", Token: 10, Cause: "refused", Live: true})
	h.add(Event{Kind: KindStop, At: ms(501), Proc: 1})
	h.add(Event{Kind: KindCont, At: ms(1290), Proc: 1})
	wantClean(t, h.check(t))
}

func TestCheckFalseLoss(t *testing.T) {
	var h hist
	h.hold(held{proc: 1, key: "k", token: 10, start: 0, version: "v1"})
	h.add(Event{Kind: KindCancelled, At: ms(300), Proc: 1, Key: "k", Token: 10, Cause: CauseLost})
	wantViolation(t, h.check(t), "no later acquisition had landed")
}

func TestCheckAdoptedAcquire(t *testing.T) {
	var h hist
	h.write(wr{proc: 1, op: OpAcquire, key: "k", version: "v1", sent: 0, answered: 1, outcome: KindLanded, token: 10})
	h.evs[len(h.evs)-1].Dropped = true
	h.write(wr{proc: 1, op: OpAcquire, key: "k", version: "v1", sent: 30, answered: 31, outcome: KindFound, token: 10})
	h.add(Event{Kind: KindAcquired, At: ms(32), Start: ms(0), Proc: 1, Key: "k", Token: 10})
	r := h.check(t)
	wantClean(t, r)
	if r.AdoptedAcquires != 1 || r.AdoptionMax != 31*time.Millisecond || r.LostReplies["acquire landed"] != 1 {
		t.Fatalf("adopted %d in %v, lost replies %v", r.AdoptedAcquires, r.AdoptionMax, r.LostReplies)
	}
}

func TestCheckProcessExit(t *testing.T) {
	var h hist
	h.add(Event{Kind: KindExit, At: ms(5), Proc: 3, Cause: "exit status 2"})
	h.add(Event{Kind: KindKill, At: ms(6), Proc: 4})
	h.add(Event{Kind: KindExit, At: ms(7), Proc: 4, Cause: "signal: killed"})
	r := h.check(t)
	wantViolation(t, r, `process 3 ended with "exit status 2"`)
	if len(r.Violations) != 1 {
		t.Fatalf("a killed process was reported too: %q", r.Violations)
	}
}

func TestCheckVersionLandsTwice(t *testing.T) {
	// Process 1's first attempt lands as token 10 but its reply is lost,
	// and the process is frozen. Process 2 takes token 10 over after the
	// lease. Process 1 resumes, and the same Lock call, with the same
	// version, acquires again as token 12. Token 12 is a fresh acquisition
	// made after the pause, not a paused holder.
	var h hist
	h.write(wr{proc: 1, op: OpAcquire, key: "k", version: "v1", sent: 0, answered: 1, outcome: KindLanded, token: 10})
	h.evs[len(h.evs)-1].Dropped = true
	h.add(Event{Kind: KindStop, At: ms(10), Proc: 1})
	h.hold(held{proc: 2, key: "k", token: 11, start: 1100, end: 1200, version: "v2"})
	h.add(Event{Kind: KindCont, At: ms(2000), Proc: 1})
	h.write(wr{proc: 1, op: OpAcquire, key: "k", version: "v1", sent: 2001, answered: 2002, outcome: KindRefused})
	h.write(wr{proc: 1, op: OpAcquire, key: "k", version: "v1", sent: 2010, answered: 2011, outcome: KindLanded, token: 12})
	h.add(Event{Kind: KindAcquired, At: ms(2012), Start: ms(0), Proc: 1, Key: "k", Token: 12})
	h.add(Event{Kind: KindCancelled, At: ms(2050), Proc: 1, Key: "k", Token: 12, Cause: CauseUnlocked})
	h.add(Event{Kind: KindReleased, At: ms(2051), Proc: 1, Key: "k", Token: 12})
	r := h.check(t)
	wantClean(t, r)
	if r.Takeovers != 1 {
		t.Fatalf("takeovers %d, want 1 (token 11 over the unheard token 10)", r.Takeovers)
	}
}

func TestCheckGuardedWrites(t *testing.T) {
	guarded := func(proc int, token uint64, sent int, ok, live bool) Event {
		e := Event{Kind: KindWrite, At: ms(sent + 1), Start: ms(sent), Proc: proc, Key: "k", Token: token,
			Guarded: true, OK: ok, Live: live}
		if !ok {
			e.Cause = "refused"
		}
		return e
	}
	t.Run("clean", func(t *testing.T) {
		var h hist
		h.hold(held{proc: 1, key: "k", token: 10, start: 0, end: 100, version: "v1"})
		h.add(guarded(1, 10, 50, true, true))
		h.hold(held{proc: 2, key: "k", token: 11, start: 101, end: 200, version: "v2"})
		h.add(guarded(1, 10, 150, false, false)) // after its Unlock: refused
		r := h.check(t)
		wantClean(t, r)
		if r.GuardedAccepted != 1 || r.GuardedRefused != 1 || r.WritesAccepted != 2 {
			t.Fatalf("report %+v", r)
		}
	})
	t.Run("accepted after a later grant", func(t *testing.T) {
		var h hist
		h.hold(held{proc: 1, key: "k", token: 10, start: 0, version: "v1"})
		h.add(Event{Kind: KindCancelled, At: ms(600), Proc: 1, Key: "k", Token: 10, Cause: CauseDanger})
		h.hold(held{proc: 2, key: "k", token: 11, start: 1100, end: 1200, version: "v2"})
		// Sent after token 11 was granted, and before its holder wrote.
		h.add(guarded(1, 10, 1102, true, false))
		wantViolation(t, h.check(t), "accepted at +1.103s although token 11")
	})
	t.Run("refused while live", func(t *testing.T) {
		var h hist
		h.hold(held{proc: 1, key: "k", token: 10, start: 0, end: 100, version: "v1"})
		h.add(guarded(1, 10, 50, false, true))
		wantViolation(t, h.check(t), "guarded k: token 10 (process 1) refused")
	})
}
