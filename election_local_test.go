//go:build dynamodblocal

package dynamutex_test

import (
	"context"
	"testing"
	"time"

	"github.com/dynamutex/dynamutex"
	"github.com/dynamutex/dynamutex/internal/localdb"
)

// Against DynamoDB Local: a leader whose process dies (its requests stop
// reaching DynamoDB; its Session is never closed in time) is replaced by
// watching, and, with clock bounds, by clock, with per-lock leases and
// under session leases (the candidate revokes the leader's Session); an
// observer sees the old leader, the lapse or the change, and the new
// leader.
func TestElectionFailoverLocal(t *testing.T) {
	for _, tc := range []struct {
		name string
		opts []dynamutex.Option
	}{
		{"watching", nil},
		{"clock", []dynamutex.Option{dynamutex.WithClockBound(testBound)}},
		{"session watching", []dynamutex.Option{dynamutex.WithSessionLease()}},
		{"session clock", []dynamutex.Option{dynamutex.WithSessionLease(), dynamutex.WithClockBound(testBound)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			client := localdb.Client(localdb.Endpoint(t), localdb.Transport(), localdb.NoRetries)
			table := newTable(t, client)
			ctx := ctxTimeout(t, 30*time.Second)
			dying := newTap(client)
			a := newSession(t, dying, table, append([]dynamutex.Option{dynamutex.WithOwner("a")}, tc.opts...)...)
			b := newSession(t, client, table, append([]dynamutex.Option{dynamutex.WithOwner("b")}, tc.opts...)...)
			watcher := newTap(client)
			var watcherCounts sessionCounts // a session-leased watcher renews its own Session record
			watcher.setFault(watcherCounts.fault)
			w := newSession(t, watcher, table, tc.opts...)

			actx, err := a.NewElection("svc").Campaign(ctx, []byte("a"))
			if err != nil {
				t.Fatal(err)
			}
			octx, stop := context.WithCancel(ctx)
			events := observeInto(octx, w.NewElection("svc"))
			if ev := <-events; ev.Kind != dynamutex.LeaderElected || ev.Leader.Owner != "a" {
				t.Fatalf("first event = %+v, want a elected", ev)
			}
			dying.setFault(func(string, string, any) fault { return fault{block: true} }) // the process dies
			bctx, err := b.NewElection("svc").Campaign(ctx, []byte("b"))
			if err != nil {
				t.Fatal(err)
			}
			if actx.Err() == nil {
				t.Error("the dead leader's context is live after a new leader took over")
			}
			var saw []dynamutex.LeaderEvent
			for ev := range events {
				saw = append(saw, ev)
				if ev.Kind == dynamutex.LeaderElected {
					break
				}
			}
			last := saw[len(saw)-1]
			if last.Leader.Owner != "b" || last.Leader.Token != mustLease(t, bctx).Token() {
				t.Fatalf("observer saw %+v, want b elected last", saw)
			}
			if len(saw) > 2 || len(saw) == 2 && saw[0].Kind != dynamutex.LeaderNone {
				t.Fatalf("observer saw %+v between a and b, want at most one no-leader event", saw)
			}
			if n := watcherCounts.lockWrites.Load(); n != 0 {
				t.Errorf("the observer wrote %d times to a lock or election record", n)
			}
			stop()
			for range events {
			}
			dying.setFault(nil)
		})
	}
}
