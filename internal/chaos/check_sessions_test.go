package chaos

import (
	"fmt"
	"testing"
)

const testSession = "dynamutex-session:s1"

// session logs the creation of Session record key by proc at 0 and its
// renewals every 250 ms until last, each answered a millisecond later.
func (h *hist) session(proc int, key string, last int) {
	prev := ""
	for t, i := 0, 0; t <= last; t, i = t+250, i+1 {
		v := fmt.Sprintf("%s-v%d", key, i)
		op := OpRenew
		if i == 0 {
			op = OpSession
		}
		h.write(wr{proc: proc, op: op, key: key, from: prev, version: v, sent: t, answered: t + 1, outcome: KindLanded})
		prev = v
	}
}

// leasedAcquire logs an acquisition of key under Session record session:
// its acquire write at start, answered a millisecond later, and Lock
// returning at start+2.
func (h *hist) leasedAcquire(proc int, key, session, version string, token uint64, start int) {
	h.req++
	h.add(Event{Kind: KindSent, At: ms(start), Proc: proc, Req: h.req, Op: OpAcquire, Key: key, Version: version, Session: session})
	h.add(Event{Kind: KindLanded, At: ms(start + 1), Proc: proc, Req: h.req, Op: OpAcquire, Key: key, Token: token})
	h.add(Event{Kind: KindAcquired, At: ms(start + 2), Start: ms(start), Proc: proc, Key: key, Token: token})
}

// revokedHistory is a session-lease worker (process 1) holding k under its
// Session, paused from 600 to 3000 ms after its last renewal at 500; a
// per-lock worker (process 2) revokes the Session at revokeAt and takes k.
// On resuming, process 1's lock is in danger, its Session learns of the
// revocation at 3005, and reports k lost, unless told is false.
func revokedHistory(revokeAt int, told bool) *hist {
	h := &hist{}
	h.session(1, testSession, 500)
	h.leasedAcquire(1, "k", testSession, "lv1", 10, 100)
	h.add(Event{Kind: KindStop, At: ms(600), Proc: 1})
	h.write(wr{proc: 2, op: OpRelease, key: testSession, version: "rv", sent: revokeAt, answered: revokeAt + 1, outcome: KindLanded})
	h.hold(held{proc: 2, key: "k", token: 11, start: revokeAt + 5, end: revokeAt + 100, version: "v2"})
	h.add(Event{Kind: KindCont, At: ms(3000), Proc: 1})
	h.add(Event{Kind: KindCancelled, At: ms(3001), Proc: 1, Key: "k", Token: 10, Cause: CauseDanger})
	h.add(Event{Kind: KindLostNotice, At: ms(3005), Proc: 1, Key: testSession, Cause: ReasonSessionRevoked})
	if told {
		h.add(Event{Kind: KindLostNotice, At: ms(3005), Proc: 1, Key: "k", Token: 10, Cause: ReasonSessionRevoked})
		h.add(Event{Kind: KindReleased, At: ms(3010), Start: ms(3009), Proc: 1, Key: "k", Token: 10, Cause: CauseLost})
	} else {
		h.add(Event{Kind: KindReleased, At: ms(5010), Start: ms(5009), Proc: 1, Key: "k", Token: 10})
	}
	return h
}

func TestCheckSessionRevokedAndTaken(t *testing.T) {
	r := revokedHistory(1600, true).check(t)
	wantClean(t, r)
	if r.SessionsCreated != 1 || r.SessionsRevoked != 1 || r.SessionsTold != 1 || r.LocksLostTogether != 1 || r.SessionLockNotices != 1 || r.LostTogetherHow["notice"] != 1 ||
		r.SessionTakeovers != 1 || r.Takeovers != 1 || r.AcquisitionsByLease["session"] != 1 || r.AcquisitionsByLease["per-lock"] != 1 {
		t.Fatalf("report %+v", r)
	}
	if r.RevocationMin != 1.1 || r.TakeoverMin != 1.105 {
		t.Fatalf("revocation %.3f leases and takeover %.3f after the last renewal, want 1.1 and 1.105", r.RevocationMin, r.TakeoverMin)
	}
}

func TestCheckSessionRevokedEarly(t *testing.T) {
	r := revokedHistory(1200, true).check(t)
	wantViolation(t, r, "revoked by process 2 700ms after its last landed write, within the 1s lease")
	wantViolation(t, r, "after the last landed write of its Session")
}

func TestCheckSessionLockNeverReported(t *testing.T) {
	wantViolation(t, revokedHistory(1600, false).check(t), "never reported lost")
}

func TestCheckSessionTakenWithoutRevocation(t *testing.T) {
	h := &hist{}
	h.session(1, testSession, 3000)
	h.leasedAcquire(1, "k", testSession, "lv1", 10, 100)
	h.add(Event{Kind: KindKill, At: ms(200), Proc: 1})
	h.hold(held{proc: 2, key: "k", token: 11, start: 1600, end: 1700, version: "v2"})
	wantViolation(t, h.check(t), "which nobody had revoked")
}

func TestCheckSessionNoticeWithoutRevocation(t *testing.T) {
	h := &hist{}
	h.session(1, testSession, 1000)
	h.add(Event{Kind: KindLostNotice, At: ms(1100), Proc: 1, Key: testSession, Cause: ReasonSessionRevoked})
	wantViolation(t, h.check(t), "but nobody had revoked it")
}

// A lock lost with its Session, which nobody has taken yet, is no false
// loss.
func TestCheckSessionLossWithoutTakeover(t *testing.T) {
	h := &hist{}
	h.session(1, testSession, 500)
	h.leasedAcquire(1, "k", testSession, "lv1", 10, 100)
	h.add(Event{Kind: KindStop, At: ms(600), Proc: 1})
	h.write(wr{proc: 2, op: OpRelease, key: testSession, version: "rv", sent: 1600, answered: 1601, outcome: KindLanded})
	h.add(Event{Kind: KindCont, At: ms(3000), Proc: 1})
	h.add(Event{Kind: KindLostNotice, At: ms(3005), Proc: 1, Key: testSession, Cause: ReasonSessionRevoked})
	h.add(Event{Kind: KindLostNotice, At: ms(3005), Proc: 1, Key: "k", Token: 10, Cause: ReasonSessionRevoked})
	h.add(Event{Kind: KindCancelled, At: ms(3006), Proc: 1, Key: "k", Token: 10, Cause: CauseLost})
	wantClean(t, h.check(t))
}

// A Session revoked while its process runs must learn of it.
func TestCheckSessionOwnerNeverTold(t *testing.T) {
	h := &hist{}
	h.session(1, testSession, 500)
	h.write(wr{proc: 2, op: OpRelease, key: testSession, version: "rv", sent: 1600, answered: 1601, outcome: KindLanded})
	h.hold(held{proc: 2, key: "other", token: 5, start: 1700, end: 4000, version: "v9"})
	wantViolation(t, h.check(t), "without learning it")
}
