package chaos

import "testing"

// turn is a client worker's whole acquisition in a test history: the
// acquire command sent at start, the driver's reply at at (0: start+2),
// and its release's reply at end (0: never), its command sent 1 ms
// before, with the release's cause.
type turn struct {
	proc           int
	client         string
	key            string
	n              uint64
	start, at, end int
	unlock         string
}

// clientTurn logs a turn, and the driver's ready line first on its first.
func (h *hist) clientTurn(c turn) {
	if c.n == 1 {
		h.add(Event{Kind: KindReady, At: ms(c.start), Proc: c.proc, Client: c.client, Cause: "owner"})
	}
	if c.at == 0 {
		c.at = c.start + 2
	}
	h.add(Event{Kind: KindAcquired, At: ms(c.at), Start: ms(c.start), Proc: c.proc, Key: c.key, Client: c.client, Turn: c.n})
	if c.end != 0 {
		h.add(Event{Kind: KindReleased, At: ms(c.end), Start: ms(c.end - 1), Proc: c.proc, Key: c.key, Client: c.client, Turn: c.n, Cause: c.unlock})
	}
}

func TestCheckClientHandoffs(t *testing.T) {
	var h hist
	h.hold(held{proc: 1, key: "k", token: 10, start: 0, end: 100, version: "v1"})
	h.clientTurn(turn{proc: 5, client: "java", key: "k", n: 1, start: 50, at: 102, end: 300})
	h.clientTurn(turn{proc: 6, client: "java", key: "k", n: 1, start: 250, at: 302, end: 400})
	h.hold(held{proc: 2, key: "k", token: 5000, start: 401, end: 500, version: "v2"})
	r := h.check(t)
	wantClean(t, r)
	if r.Acquisitions != 4 || r.AcquisitionsByKind["java"] != 2 || r.AcquisitionsByKind[kindDynamutex] != 2 {
		t.Fatalf("acquisitions %d, by kind %v", r.Acquisitions, r.AcquisitionsByKind)
	}
	want := map[string]int{"dynamutex→java": 1, "java→java": 1, "java→dynamutex": 1}
	for pair, n := range want {
		if r.CrossHandoffs[pair] != n {
			t.Errorf("handoffs %v, want %v", r.CrossHandoffs, want)
		}
	}
	if sum(r.CrossTakeovers) != 0 || sum(r.Overlaps) != 0 {
		t.Fatalf("takeovers %v, overlaps %v in a history of handoffs", r.CrossTakeovers, r.Overlaps)
	}
}

func TestCheckClientOverlapLive(t *testing.T) {
	t.Run("client after dynamutex", func(t *testing.T) {
		var h hist
		h.hold(held{proc: 1, key: "k", token: 10, start: 0, end: 3000, version: "v1"})
		h.clientTurn(turn{proc: 5, client: "python", key: "k", n: 1, start: 1000, end: 1100})
		wantViolation(t, h.check(t), "python turn 1 (process 5) acquired at +1.002s while token 10 (process 1) was held with a live context")
	})
	t.Run("dynamutex after client", func(t *testing.T) {
		var h hist
		h.clientTurn(turn{proc: 5, client: "java", key: "k", n: 1, start: 0, end: 3000})
		h.hold(held{proc: 1, key: "k", token: 10, start: 1500, end: 1600, version: "v1"})
		wantViolation(t, h.check(t), "token 10 (process 1) acquired at +1.502s while java turn 1 (process 5) was held")
	})
	t.Run("two clients", func(t *testing.T) {
		var h hist
		h.clientTurn(turn{proc: 5, client: "java", key: "k", n: 1, start: 0, end: 3000})
		h.clientTurn(turn{proc: 6, client: "java", key: "k", n: 1, start: 1500, end: 1600})
		wantViolation(t, h.check(t), "java turn 1 (process 6) acquired at +1.502s while java turn 1 (process 5)")
	})
}

// pausedJava is a Java holder paused from 100 to 2500 ms and taken over at
// 1500 by a dynamutex worker, whose release answers at 2600 with unlock.
func pausedJava(unlock string) *hist {
	h := &hist{}
	h.clientTurn(turn{proc: 5, client: "java", key: "k", n: 1, start: 0, end: 2600, unlock: unlock})
	h.add(Event{Kind: KindStop, At: ms(100), Proc: 5})
	h.add(Event{Kind: KindCont, At: ms(2500), Proc: 5})
	h.hold(held{proc: 1, key: "k", token: 7000, start: 1500, end: 1700, version: "v1"})
	return h
}

func TestCheckClientPausedExcused(t *testing.T) {
	r := pausedJava(CauseLost).check(t)
	wantClean(t, r)
	if r.Overlaps["paused"] != 1 || r.CrossTakeovers["java→dynamutex"] != 1 || r.PausesByKind["java"] != 1 {
		t.Fatalf("overlaps %v, takeovers %v, pauses %v", r.Overlaps, r.CrossTakeovers, r.PausesByKind)
	}
}

func TestCheckClientPausedNotTold(t *testing.T) {
	wantViolation(t, pausedJava("").check(t), "java turn 1 (process 5) was taken over while paused, yet its release succeeded")

	// Python's release is a no-op once its heartbeat found the loss, and
	// the state read before it may miss that: counted, not a violation.
	h := &hist{}
	h.clientTurn(turn{proc: 5, client: "python", key: "k", n: 1, start: 0, end: 2600})
	h.add(Event{Kind: KindStop, At: ms(100), Proc: 5})
	h.add(Event{Kind: KindCont, At: ms(2500), Proc: 5})
	h.hold(held{proc: 1, key: "k", token: 7000, start: 1500, end: 1700, version: "v1"})
	r := h.check(t)
	wantClean(t, r)
	if r.ClientUntold != 1 {
		t.Fatalf("untold %d, want 1", r.ClientUntold)
	}
}

func TestCheckClientTakeoverTooSoon(t *testing.T) {
	// A killed dynamutex holder whose renewal was sent at 400: a client's
	// takeover answered at 1302 came at most 902 ms later.
	killedGo := func(clientStart int) *hist {
		h := &hist{}
		h.hold(held{proc: 1, key: "k", token: 10, start: 0, version: "v1"})
		h.write(wr{proc: 1, op: OpRenew, key: "k", from: "v1", version: "v1b", sent: 400, answered: 401, outcome: KindLanded})
		h.add(Event{Kind: KindKill, At: ms(450), Proc: 1})
		h.clientTurn(turn{proc: 5, client: "python", key: "k", n: 1, start: clientStart, end: clientStart + 100})
		return h
	}
	wantViolation(t, killedGo(1300).check(t), "python turn 1 (process 5) took over token 10 (process 1) at most 902ms after its last landed write")
	r := killedGo(1400).check(t)
	wantClean(t, r)
	if r.CrossTakeovers["dynamutex→python"] != 1 || r.Overlaps["killed"] != 1 {
		t.Fatalf("takeovers %v, overlaps %v", r.CrossTakeovers, r.Overlaps)
	}

	// A killed client holder: its last write landed no sooner than its
	// acquire command, sent at 0.
	killedClient := func(goStart int) *hist {
		h := &hist{}
		h.clientTurn(turn{proc: 5, client: "java", key: "k", n: 1, start: 0})
		h.add(Event{Kind: KindKill, At: ms(300), Proc: 5})
		h.hold(held{proc: 1, key: "k", token: 9000, start: goStart, end: goStart + 100, version: "v1"})
		return h
	}
	wantViolation(t, killedClient(900).check(t), "token 9000 (process 1) took over java turn 1 (process 5) at most 901ms")
	r = killedClient(1300).check(t)
	wantClean(t, r)
	if r.ClientAfterKill != 1 || r.KillsByKind["java"] != 1 {
		t.Fatalf("after kill %d, kills by kind %v", r.ClientAfterKill, r.KillsByKind)
	}
}

func TestCheckClientLoss(t *testing.T) {
	// Reported lost with no later acquisition of any kind.
	var h hist
	h.clientTurn(turn{proc: 5, client: "java", key: "k", n: 1, start: 0, end: 3000, unlock: CauseLost})
	wantViolation(t, h.check(t), "java turn 1 (process 5) was reported lost at +3s, but no later acquisition had landed")

	// A dynamutex holder that lost its lock to a client's takeover.
	h = hist{}
	h.hold(held{proc: 1, key: "k", token: 10, start: 0, version: "v1"})
	h.add(Event{Kind: KindStop, At: ms(100), Proc: 1})
	h.add(Event{Kind: KindCont, At: ms(3000), Proc: 1})
	h.clientTurn(turn{proc: 5, client: "python", key: "k", n: 1, start: 500, at: 1200, end: 2600})
	h.add(Event{Kind: KindCancelled, At: ms(3001), Proc: 1, Key: "k", Token: 10, Cause: CauseLost})
	wantClean(t, h.check(t))
}

func TestCheckGuardedAfterClient(t *testing.T) {
	var h hist
	h.hold(held{proc: 1, key: "k", token: 10, start: 0, end: 3000, version: "v1"})
	h.add(Event{Kind: KindStop, At: ms(100), Proc: 1})
	h.add(Event{Kind: KindCont, At: ms(2500), Proc: 1})
	h.clientTurn(turn{proc: 5, client: "java", key: "k", n: 1, start: 200, end: 2400})
	h.add(Event{Kind: KindCancelled, At: ms(2501), Proc: 1, Key: "k", Token: 10, Cause: CauseDanger})
	h.add(Event{Kind: KindWrite, At: ms(2560), Start: ms(2550), Proc: 1, Key: "k", Token: 10, OK: true, Guarded: true, Zombie: true})
	wantViolation(t, h.check(t), "guarded k: token 10 (process 1) accepted at +2.56s although java turn 1 (process 5) had been granted at +202ms")
}

// A release in Python's format keeps the version it releases: the checker
// must follow it as a write of its own, not as a second landing of the
// acquire that wrote the version.
func TestCheckPythonReleaseKeepsVersion(t *testing.T) {
	var h hist
	h.write(wr{proc: 1, op: OpAcquire, key: "k", version: "v1", sent: 0, answered: 1, outcome: KindLanded, token: 10})
	h.add(Event{Kind: KindAcquired, At: ms(2), Start: ms(0), Proc: 1, Key: "k", Token: 10})
	h.add(Event{Kind: KindCancelled, At: ms(98), Proc: 1, Key: "k", Token: 10, Cause: CauseUnlocked})
	h.write(wr{proc: 1, op: OpRelease, key: "k", from: "v1", version: "v1", sent: 98, answered: 99, outcome: KindLanded})
	h.add(Event{Kind: KindReleased, At: ms(100), Proc: 1, Key: "k", Token: 10})
	h.clientTurn(turn{proc: 5, client: "python", key: "k", n: 1, start: 50, at: 150, end: 200})
	r := h.check(t)
	wantClean(t, r)
	if r.CrossHandoffs["dynamutex→python"] != 1 {
		t.Fatalf("handoffs %v, takeovers %v", r.CrossHandoffs, r.CrossTakeovers)
	}
}

// The driver replies some time after its release landed: a waiter that
// acquired in between, after the release command was sent, overlaps
// nothing.
func TestCheckClientReleaseReply(t *testing.T) {
	var h hist
	h.clientTurn(turn{proc: 5, client: "java", key: "k", n: 1, start: 0, end: 100})
	h.add(Event{Kind: KindReleased, At: ms(208), Start: ms(200), Proc: 5, Key: "k", Client: "java", Turn: 2})
	h.clientTurn(turn{proc: 5, client: "java", key: "k", n: 2, start: 101, end: 0})
	h.hold(held{proc: 1, key: "k", token: 9000, start: 202, end: 300, version: "v1"}) // acquired at 204
	r := h.check(t)
	wantClean(t, r)
	if r.CrossHandoffs["java→dynamutex"] != 1 {
		t.Fatalf("handoffs %v, takeovers %v", r.CrossHandoffs, r.CrossTakeovers)
	}
	// A release that failed ends the hold only at its reply: the overlap
	// before it stands, excused only by a pause, kill or notice.
	h = hist{}
	h.clientTurn(turn{proc: 5, client: "java", key: "k", n: 1, start: 0, end: 208, unlock: CauseLost})
	h.hold(held{proc: 1, key: "k", token: 9000, start: 202, end: 300, version: "v1"})
	wantViolation(t, h.check(t), "token 9000 (process 1) acquired at +204ms while java turn 1 (process 5) was held")
}
