package dynamutex_test

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/dynamutex/dynamutex"
	"github.com/dynamutex/dynamutex/internal/wire"
)

// electionKey is the partition-key value of the election record of name.
func electionKey(name string) string { return wire.ElectionKeyPrefix + name }

// leasedRecord checks that item is an election record held under a session
// lease, and returns its Session and lock version.
func leasedRecord(t *testing.T, item map[string]types.AttributeValue) (session, lockVersion string) {
	t.Helper()
	session, lockVersion = attrS(item, wire.AttrSession), attrS(item, wire.AttrLockVersion)
	_, hasVersion := item[wire.AttrVersion]
	_, hasExpiry := item[wire.AttrExpires]
	if !isSessionKey(session) || lockVersion == "" || hasVersion || hasExpiry {
		t.Fatalf("election record %v: want a Session, a lock version, and no version or TTL", item)
	}
	return session, lockVersion
}

// Under a session lease, Campaign, Proclaim and Resign are one write each
// on the election's record: the Campaign holds it under the Session's
// lease, the Proclaim moves its lock version and keeps its token and
// Session, and the Resign after it releases it. Leader and Inspect read
// it as any election record; a second term goes the same way.
func TestElectionSessionLeaseCampaignProclaimResign(t *testing.T) {
	c, table, s := setup(t, dynamutex.WithSessionLease(), dynamutex.WithOwner("alice"))
	var n sessionCounts
	c.setFault(n.fault)
	ctx := ctxTimeout(t, time.Minute)
	e := s.NewElection("jobs")
	for term := range 2 {
		writes := n.lockWrites.Load()
		lctx, err := e.Campaign(ctx, []byte("host-a:8080"))
		if err != nil {
			t.Fatal(err)
		}
		tok := mustLease(t, lctx).Token()
		session, v0 := leasedRecord(t, getItem(t, c, table, electionKey("jobs")))
		if err := e.Proclaim(ctx, []byte("host-a:9090")); err != nil {
			t.Fatal(err)
		}
		item := getItem(t, c, table, electionKey("jobs"))
		session1, v1 := leasedRecord(t, item)
		if nv, ok := item["token"].(*types.AttributeValueMemberN); session1 != session || v1 == v0 || !ok ||
			nv.Value != strconv.FormatUint(tok, 10) {
			t.Fatalf("term %d: record after Proclaim %v: want Session %s, a lock version other than %s, token %d", term, item, session, v0, tok)
		}
		got, err := e.Leader(ctx)
		if err != nil || string(got.Value) != "host-a:9090" || got.Token != tok || got.Seq != 1 || got.Owner != "alice" {
			t.Fatalf("term %d: Leader after Proclaim = %+v, %v; want host-a:9090, token %d, seq 1", term, got, err, tok)
		}
		li, err := s.Inspect(ctx, electionKey("jobs"))
		if err != nil || li.Session != session || li.SessionEnded || li.Election != "jobs" || li.Leader == nil ||
			string(li.Leader.Value) != "host-a:9090" || li.Leader.Seq != 1 || li.Free() {
			t.Fatalf("term %d: Inspect = %+v (leader %+v), %v; want held under Session %s", term, li, li.Leader, err, session)
		}
		if err := e.Resign(ctx); err != nil {
			t.Fatalf("term %d: Resign after a Proclaim: %v", term, err)
		}
		if w := n.lockWrites.Load() - writes; w != 3 {
			t.Errorf("term %d: Campaign, Proclaim and Resign sent %d writes to the election record, want 3", term, w)
		}
		if cause := context.Cause(lctx); !errors.Is(cause, dynamutex.ErrResigned) {
			t.Errorf("term %d: Campaign context cause after Resign = %v, want ErrResigned", term, cause)
		}
		if _, err := e.Leader(ctx); !errors.Is(err, dynamutex.ErrNoLeader) {
			t.Fatalf("term %d: Leader after Resign = %v, want ErrNoLeader", term, err)
		}
		if err := e.Proclaim(ctx, nil); !errors.Is(err, dynamutex.ErrNotLeader) {
			t.Fatalf("term %d: Proclaim after Resign = %v, want ErrNotLeader", term, err)
		}
	}
}

// A Proclaim under a session lease whose reply is lost is recognised by
// its retry, which finds the lock version it wrote: two writes, one
// proclamation. One whose outcome is still unknown when its context ends
// leaves the record releasable: Resign conditions on both lock versions.
func TestElectionSessionLeaseProclaimReplyLost(t *testing.T) {
	c, _, s := setup(t, dynamutex.WithSessionLease())
	ctx := ctxTimeout(t, time.Minute)
	e := s.NewElection("lost")
	if _, err := e.Campaign(ctx, []byte("a")); err != nil {
		t.Fatal(err)
	}
	var proclaims atomic.Int32
	var blockAfter atomic.Int32
	blockAfter.Store(1 << 30)
	c.setFault(func(op, key string, _ any) fault {
		if op != opRenew || isSessionKey(key) {
			return fault{}
		}
		n := proclaims.Add(1)
		return fault{drop: n == 1 || n == blockAfter.Load(), block: n > blockAfter.Load()}
	})
	if err := e.Proclaim(ctx, []byte("b")); err != nil {
		t.Fatalf("Proclaim whose first reply was lost = %v", err)
	}
	if n := proclaims.Load(); n != 2 {
		t.Errorf("Proclaim whose first reply was lost sent %d writes, want 2", n)
	}
	if info, err := e.Leader(ctx); err != nil || string(info.Value) != "b" || info.Seq != 1 {
		t.Fatalf("Leader = %+v, %v; want b, seq 1", info, err)
	}

	// The next Proclaim lands unheard, then its retries hang until its
	// context ends.
	blockAfter.Store(proclaims.Load() + 1)
	pctx, cancel := context.WithTimeout(ctx, 5*testLease)
	err := e.Proclaim(pctx, []byte("c"))
	cancel()
	if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "outcome unknown") {
		t.Fatalf("Proclaim in doubt = %v, want its outcome unknown", err)
	}
	if info, err := e.Leader(ctx); err != nil || string(info.Value) != "c" || info.Seq != 2 {
		t.Fatalf("Leader after the Proclaim in doubt = %+v, %v; want c, seq 2 (it landed)", info, err)
	}
	c.setFault(nil)
	if err := e.Resign(ctx); err != nil {
		t.Fatalf("Resign after a Proclaim in doubt = %v", err)
	}
	if _, err := e.Leader(ctx); !errors.Is(err, dynamutex.ErrNoLeader) {
		t.Fatalf("Leader after Resign = %v, want ErrNoLeader", err)
	}
}
