package dynamutex_test

import (
	"errors"
	"testing"
	"time"

	"github.com/dynamutex/dynamutex"
)

// A table shared by the previous release and Sessions with session leases,
// both ways. The previous release refuses a lock held under a session
// lease: its decoder names the missing version, and its acquire, whose
// every clause needs a version, a released mark or no record, fails. It
// takes such a record once released, with the next token. The other way,
// a Session with a session lease waits on the previous release's live
// holder and takes its dead one over after watching it for its lease.
func TestCompatSessionLease(t *testing.T) {
	compatEach(t, func(e *compatEnv) {
		ctx := ctxTimeout(e.t, time.Minute)
		s := e.session("new", dynamutex.WithSessionLease())
		m := s.NewMutex("leased")
		lctx, err := m.Lock(ctx)
		if err != nil {
			e.t.Fatal(err)
		}
		tok := mustLease(e.t, lctx).Token()
		if _, bad := compatOldDecode(e.get("leased")); bad != "version" {
			e.t.Errorf("the previous release's decoder refuses attribute %q of a session-leased record, want version", bad)
		}
		_, err = e.replay("acquire", compatFill{key: "leased", version: "prev-leased"})
		compatConditionFailed(e.t, "the previous release's acquire on a session-leased lock", err)
		_, err = e.replay("acquire_takeover", compatFill{key: "leased", version: "prev-leased", old: "anything"})
		compatConditionFailed(e.t, "the previous release's takeover of a session-leased lock", err)
		if err := m.Unlock(ctx); err != nil {
			e.t.Fatal(err)
		}
		out := e.mustReplay("acquire", compatFill{key: "leased", version: "prev-leased"})
		if got := compatToken(e.t, out.Attributes); got != tok+1 {
			e.t.Errorf("the previous release's acquire of a released session-leased record got token %d, want %d", got, tok+1)
		}
		// Its record still names the Session it was released by; the
		// version it wrote rules, so it is that release's until watched.
		info, err := s.Inspect(ctx, "leased")
		if err != nil || info.Owner != compatOwner || info.Released || info.Session != "" {
			e.t.Errorf("Inspect = %+v, %v; want the previous release's held record, under no Session", info, err)
		}
		start := time.Now()
		if n := e.updates(func() { lctx, err = m.Lock(ctx) }); err != nil || n != 2 {
			e.t.Fatalf("Lock behind the previous release's dead holder = %v in %d writes, want success in 2", err, n)
		}
		if waited := time.Since(start); waited < compatLease {
			e.t.Errorf("took the previous release's record after %v, before its lease of %v", waited, compatLease)
		}
		if got := mustLease(e.t, lctx).Token(); got != tok+2 {
			e.t.Errorf("token %d after taking the previous release's record, want %d", got, tok+2)
		}
		if err := m.Unlock(ctx); err != nil {
			e.t.Fatal(err)
		}
	})
}

// A Session's own errors: a session lease in another format, and a key
// that names Session records.
func TestSessionLeaseBadInput(t *testing.T) {
	tr, table, _ := setup(t)
	ctx := ctxTimeout(t, 10*time.Second)
	for _, f := range []dynamutex.Format{dynamutex.FormatJava, dynamutex.FormatPython} {
		_, err := dynamutex.NewSession(ctx, tr, table, dynamutex.WithSessionLease(), dynamutex.WithFormat(f))
		var oe *dynamutex.OptionError
		if !errors.As(err, &oe) {
			t.Errorf("WithSessionLease with %v: %v, want an *OptionError", f, err)
		}
	}
	s := newSession(t, tr, table)
	before := tr.total()
	if _, err := s.NewMutex("dynamutex-session:x").TryLock(ctx); !errors.Is(err, dynamutex.ErrInvalidKey) {
		t.Errorf("TryLock on a Session record's key: %v, want ErrInvalidKey", err)
	}
	if n := tr.total() - before; n != 0 {
		t.Errorf("bad input sent %d requests", n)
	}
}
