package interop

import (
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// A dynamutex waiter that has waited past its starvation threshold claims
// the next turn by writing a claim attribute into the holder's record.
// On a Java or Python holder's record that write must leave the holder
// alone: its heartbeats go on (its version keeps changing), it still reads
// itself as holder (Python's state LOCKED), and its release succeeds.
func TestDynamutexClaimLeavesClientHolder(t *testing.T) {
	for _, kind := range []Kind{Java, Python} {
		t.Run(string(kind), func(t *testing.T) {
			it, dx, c := crossSetup(t, kind, "-a")
			mustOK(t, c, it.cmd(c, "acquire"))

			// Three heartbeats of the holder: past the threshold (a quarter
			// of the lease), far short of a lease without a heartbeat.
			wait := it.cmd(dx, "acquire")
			wait.WaitMS = 3 * heartbeatMS
			if r := call(t, dx, wait); r.OK || r.Class != "HeldError" || !strings.Contains(r.Error, "claimed by \""+dx.Owner) {
				t.Fatalf("dynamutex waiting on %s's lock: %+v, want a HeldError saying it claimed the next turn", kind, r)
			}
			item := it.raw(t)
			if _, ok := item["claim"].(*types.AttributeValueMemberM); !ok {
				t.Fatalf("no claim in %s's record after the wait: %v", kind, item)
			}
			before := str(item, foreignVersion(kind))
			mustOK(t, c, Command{Op: "sleep", MS: 2 * heartbeatMS})
			if after := str(it.raw(t), foreignVersion(kind)); after == before || after == "" {
				t.Errorf("%s's version stayed %q after the claim: its heartbeats stopped", kind, after)
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
