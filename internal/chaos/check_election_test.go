package chaos

import "testing"

// A Proclaim of the leader in office is counted; one that landed although
// it was sent after a newer leader's Campaign returned is a violation.
func TestCheckProclaims(t *testing.T) {
	var ok hist
	ok.hold(held{proc: 1, key: ElectionKey, token: 5, start: 0, end: 100, version: "a"})
	ok.add(Event{Kind: KindProclaim, At: ms(20), Start: ms(10), Proc: 1, Key: ElectionKey, Token: 5, OK: true})
	ok.hold(held{proc: 2, key: ElectionKey, token: 6, start: 200, end: 300, version: "b"})
	ok.add(Event{Kind: KindProclaim, At: ms(250), Start: ms(240), Proc: 1, Key: ElectionKey, Token: 5, Cause: CauseLost})
	r := ok.check(t)
	wantClean(t, r)
	if r.Proclaims["ok"] != 1 || r.Proclaims[CauseLost] != 1 {
		t.Fatalf("proclaims counted %v, want 1 ok and 1 lost", r.Proclaims)
	}

	var bad hist
	bad.hold(held{proc: 1, key: ElectionKey, token: 5, start: 0, end: 100, version: "a"})
	bad.hold(held{proc: 2, key: ElectionKey, token: 6, start: 200, end: 300, version: "b"})
	bad.add(Event{Kind: KindProclaim, At: ms(250), Start: ms(240), Proc: 1, Key: ElectionKey, Token: 5, OK: true})
	wantViolation(t, bad.check(t), "proclaim of")
}
