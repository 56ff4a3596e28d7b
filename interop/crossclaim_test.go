package interop

import (
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// A dynamutex waiter that has lost a turn and waited past its starvation
// threshold claims the next turn by writing a claim attribute into the
// holder's record. On a Java or Python holder's record that write must
// leave the holder alone: its heartbeats go on beside the claim (its
// version keeps changing), it still reads itself as holder (Python's state
// LOCKED), and its release succeeds. The claim is looked for while the
// waiter waits: a Lock call that gives up removes its claim.
//
// The waiter loses its turn to the client: it waits behind a killed
// dynamutex holder that the client, which started waiting earlier, takes
// over first, and the waiter's next read shows the client's record in
// place of the one it was waiting on.
func TestDynamutexClaimLeavesClientHolder(t *testing.T) {
	for _, kind := range []Kind{Java, Python} {
		t.Run(string(kind), func(t *testing.T) {
			it, dx, c := crossSetup(t, kind, "-a")
			taken := clientTakesOverFirst(t, it, c)

			// Past the client's takeover, a lease after the kill at most,
			// and then four heartbeats of the client's under the claim.
			wait := it.cmd(dx, "acquire")
			wait.WaitMS = leaseMS + 4*heartbeatMS
			done := make(chan Reply, 1)
			go func() {
				r, err := dx.Call(wait, 30*time.Second+time.Duration(wait.WaitMS)*time.Millisecond)
				if err != nil {
					r = Reply{Error: err.Error()}
				}
				done <- r
			}()
			claimed, beat := it.claimWatch(t, time.Duration(wait.WaitMS)*time.Millisecond)
			if r := <-taken; !r.OK {
				t.Fatalf("%s's takeover of the killed dynamutex holder: %+v", kind, r)
			}
			if r := <-done; r.OK || r.Class != "HeldError" || !strings.Contains(r.Error, "claimed by \""+dx.Owner) {
				t.Fatalf("dynamutex waiting on %s's lock: %+v, want a HeldError saying it claimed the next turn", kind, r)
			}
			if !claimed {
				t.Fatalf("no claim in %s's record while dynamutex waited", kind)
			}
			if !beat {
				t.Errorf("%s's version never changed while the claim stood: its heartbeats stopped", kind)
			}
			if kind == Python {
				if st := mustOK(t, c, Command{Op: "state", Key: "k"}); st.Status != "LOCKED" || len(st.Events) != 0 {
					t.Errorf("the Python holder reports %s %v after dynamutex's claim, want LOCKED", st.Status, st.Events)
				}
			}
			if r := call(t, c, it.cmd(c, "release")); !r.OK {
				t.Errorf("%s's release after dynamutex's claim: %+v", kind, r)
			}
		})
	}
}

// clientTakesOverFirst has a second dynamutex driver take it.key and die
// holding it, with the client c waiting for it from before the kill, and
// returns c's blocking acquire. It returns a second after the kill: the
// client, which saw the last version before the kill, takes the record
// over a lease after that, at least a second before a waiter that starts
// now could.
func clientTakesOverFirst(t *testing.T, it lockItem, c *Driver) <-chan Reply {
	t.Helper()
	holder := start(t, it.h, Dynamutex, "dynamutex-b")
	mustOK(t, holder, it.cmd(holder, "acquire"))
	taken := make(chan Reply, 1)
	go func() {
		r, err := c.Call(it.cmd(c, "acquire"), time.Minute)
		if err != nil {
			r = Reply{Error: err.Error()}
		}
		taken <- r
	}()
	w := it.watch(t)
	w.sawChange(t) // a heartbeat of the holder, with the client waiting
	holder.Kill()
	time.Sleep(time.Second)
	return taken
}

// claimWatch polls the record for up to d and reports whether it carried a
// claim, and whether the client's version changed while a claim stood.
func (it lockItem) claimWatch(t *testing.T, d time.Duration) (claimed, beat bool) {
	t.Helper()
	first := ""
	for end := time.Now().Add(d); time.Now().Before(end) && !beat; time.Sleep(20 * time.Millisecond) {
		item := it.raw(t)
		if _, ok := item["claim"].(*types.AttributeValueMemberM); !ok {
			continue
		}
		v := str(item, foreignVersion(it.kind))
		if !claimed {
			claimed, first = true, v
		} else if v != first {
			beat = true
		}
	}
	return claimed, beat
}
