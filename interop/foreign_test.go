package interop

import (
	"context"
	"errors"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/dynamutex/dynamutex"
)

// These tests run a dynamutex Session against locks the real Java and Python
// clients hold: it names the client instead of calling the record corrupt,
// never takes a heartbeating holder's lock, takes a dead or paused holder's
// lock one of its leases after it started watching, takes a Java
// keep-release at once, and its takeover fences the old holder out.

// foreignVersion is the attribute of kind's record version number.
func foreignVersion(kind Kind) string {
	if kind == Python {
		return "record_version_number"
	}
	return "recordVersionNumber"
}

// session opens a dynamutex Session on the item's table, in its client's
// layout, closed when the test ends.
func (it lockItem) session(t *testing.T, owner string) *dynamutex.Session {
	t.Helper()
	opts := []dynamutex.Option{dynamutex.WithOwner(owner), dynamutex.WithLeaseDuration(leaseMS * time.Millisecond)}
	if it.kind == Python {
		opts = append(opts, dynamutex.WithPartitionKey(PythonPartitionKey), dynamutex.WithSortKey(PythonSortKey))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	s, err := dynamutex.NewSession(ctx, it.h.DB, it.table, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := s.Close(ctx); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return s
}

// mutex is the dynamutex Mutex of key in kind's layout.
func mutex(s *dynamutex.Session, kind Kind, key string) *dynamutex.Mutex {
	if kind == Python {
		return s.NewMutex(key, dynamutex.WithSortKeyValue(PythonDefaultSort))
	}
	return s.NewMutex(key)
}

// foreignCmd is lockCmd for a holder whose safe period (Python) is far
// beyond its lease, so that after a pause its heartbeat is sent, rather than
// skipped as in danger, and meets whatever the table holds then.
func foreignCmd(op, tbl, key string) Command {
	c := lockCmd(op, tbl, key)
	c.SafeMS = 100 * leaseMS
	return c
}

// wantOurs checks that the table holds dynamutex's record of the item,
// written by owner at token, with nothing of its client's left.
func (it lockItem) wantOurs(t *testing.T, owner string, token uint64) {
	t.Helper()
	item := it.raw(t)
	n, _ := item["token"].(*types.AttributeValueMemberN)
	if str(item, "owner") != owner || n == nil || n.Value != strconv.FormatUint(token, 10) || str(item, "version") == "" {
		t.Errorf("the table holds %v, want dynamutex's record by %s at token %d", item, owner, token)
	}
	if _, ok := item[foreignVersion(it.kind)]; ok {
		t.Errorf("the table still holds %s's %s: %v", it.kind, foreignVersion(it.kind), item)
	}
}

// A dynamutex Session meets a lock the client holds: TryLock names the
// client, a LockWithin bounded to several leases never takes the lock of a
// holder that keeps heartbeating, and after kill -9 of the holder a Lock
// takes it over, no sooner than one lease after the holder's last version
// landed (versionWatch).
func TestDynamutexWaitsOnForeignHolder(t *testing.T) {
	for _, kind := range []Kind{Java, Python} {
		t.Run(string(kind), func(t *testing.T) { waitOnForeign(t, kind) })
	}
}

func waitOnForeign(t *testing.T, kind Kind) {
	h := setup(t)
	tbl := createTable(t, h, kind)
	a := start(t, h, kind, string(kind)+"-a")
	held := mustOK(t, a, foreignCmd("acquire", tbl, "k"))
	it := lockItem{h, kind, tbl, "k"}
	s := it.session(t, "dynamutex-a")
	m := mutex(s, kind, "k")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	var he *dynamutex.HeldError
	_, err := m.TryLock(ctx)
	if !errors.As(err, &he) || he.Client != string(kind) || he.Owner != held.Owner ||
		he.Lease != leaseMS*time.Millisecond || errors.Is(err, dynamutex.ErrCorruptRecord) {
		t.Fatalf("TryLock of a lock %s holds: %v, want a HeldError naming %s", a.Owner, err, kind)
	}
	// The live case: the holder heartbeats every 500 ms; a waiter watching
	// for three of its leases must never see one version for a whole lease.
	_, err = m.LockWithin(ctx, 3*leaseMS*time.Millisecond)
	if !errors.As(err, &he) || he.Client != string(kind) {
		t.Fatalf("LockWithin against a live %s holder: %v, want a HeldError naming %s", kind, err, kind)
	}
	if r := call(t, a, Command{Op: "get", Table: tbl, Key: "k", LeaseMS: leaseMS, HeartbeatMS: heartbeatMS}); !r.OK ||
		r.Owner != a.Owner || r.RVN == held.RVN {
		t.Fatalf("after dynamutex's wait the client reports %+v; want it still holding, its version renewed", r)
	}

	w := it.watch(t)
	w.sawChange(t)
	killed := time.Now()
	a.Kill()
	lctx, err := m.Lock(ctx)
	if err != nil {
		t.Fatalf("Lock after the %s holder was killed: %v", kind, err)
	}
	took := time.Since(killed)
	t.Logf("%s: dynamutex took the killed holder's lock %v after the kill (lease %d ms)", kind, took.Round(time.Millisecond), leaseMS)
	checkTakeover(t, w, "", time.Now())
	l, _ := dynamutex.LeaseFrom(lctx)
	it.wantOurs(t, "dynamutex-a", l.Token())
	if err := m.Unlock(ctx); err != nil {
		t.Errorf("Unlock: %v", err)
	}
}

// A Java lock released with deleteLock=false stays in the table marked
// isReleased; dynamutex takes it at once with one TryLock. Java's waiter
// then cannot read dynamutex's record: liveness for Java, not exclusion.
func TestDynamutexTakesJavaKeepRelease(t *testing.T) {
	h := setup(t)
	tbl := createTable(t, h, Java)
	a := start(t, h, Java, "java-a")
	mustOK(t, a, lockCmd("acquire", tbl, "k"))
	mustOK(t, a, Command{Op: "release", Table: tbl, Key: "k", LeaseMS: leaseMS, HeartbeatMS: heartbeatMS, Keep: true})
	it := lockItem{h, Java, tbl, "k"}
	s := it.session(t, "dynamutex-a")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	lctx, err := s.NewMutex("k").TryLock(ctx)
	if err != nil {
		t.Fatalf("TryLock of a keep-released Java lock: %v", err)
	}
	l, _ := dynamutex.LeaseFrom(lctx)
	it.wantOurs(t, "dynamutex-a", l.Token())
	if _, ok := it.raw(t)["isReleased"]; ok {
		t.Errorf("isReleased survived the take")
	}
	if r := call(t, a, lockCmd("try", tbl, "k")); r.OK {
		t.Errorf("Java took a key dynamutex holds: %+v", r)
	}
	it.wantOurs(t, "dynamutex-a", l.Token())
}

// A holder paused with SIGSTOP for longer than its lease is taken over by
// dynamutex; once resumed, it learns it lost the lock (Python: its heartbeat
// fails its condition, LOCK_STOLEN; Java: its conditional release fails),
// and the record stays dynamutex's, whose lock context stays live.
func TestDynamutexFencesPausedForeignHolder(t *testing.T) {
	for _, kind := range []Kind{Java, Python} {
		t.Run(string(kind), func(t *testing.T) { fencePaused(t, kind) })
	}
}

func fencePaused(t *testing.T, kind Kind) {
	h := setup(t)
	tbl := createTable(t, h, kind)
	a := start(t, h, kind, string(kind)+"-a")
	mustOK(t, a, foreignCmd("acquire", tbl, "k"))
	it := lockItem{h, kind, tbl, "k"}
	s := it.session(t, "dynamutex-a")
	m := mutex(s, kind, "k")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	w := it.watch(t)
	w.sawChange(t)
	if err := a.Stop(); err != nil {
		t.Fatal(err)
	}
	resumed := false
	defer func() {
		if !resumed {
			_ = a.Continue()
		}
	}()
	lctx, err := m.Lock(ctx)
	if err != nil {
		t.Fatalf("Lock while the %s holder is stopped: %v", kind, err)
	}
	checkTakeover(t, w, "", time.Now())
	l, _ := dynamutex.LeaseFrom(lctx)
	if err := a.Continue(); err != nil {
		t.Fatal(err)
	}
	resumed = true
	// Several of the client's heartbeat periods, for a heartbeat to run.
	mustOK(t, a, Command{Op: "sleep", MS: 4 * heartbeatMS})
	switch kind {
	case Python:
		r := mustOK(t, a, Command{Op: "state", Key: "k"})
		if r.Status != "INVALID" || !slices.Contains(r.Events, "LOCK_STOLEN") {
			t.Errorf("the resumed Python holder reports %q %v, want INVALID after LOCK_STOLEN: its heartbeat must fail", r.Status, r.Events)
		}
	case Java:
		r := call(t, a, Command{Op: "release", Table: tbl, Key: "k", LeaseMS: leaseMS, HeartbeatMS: heartbeatMS})
		if r.OK || r.Class != "NotReleased" {
			t.Errorf("the resumed Java holder's release: %+v, want NotReleased: its conditional write must fail", r)
		}
	}
	it.wantOurs(t, "dynamutex-a", l.Token())
	if lctx.Err() != nil {
		t.Errorf("dynamutex's lock context ended after the old holder resumed: %v", context.Cause(lctx))
	}
	if err := m.Unlock(ctx); err != nil {
		t.Errorf("Unlock: %v", err)
	}
}
