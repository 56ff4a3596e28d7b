package dynamutex_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/dynamutex/dynamutex"
)

// recorder is an Observer that keeps every event.
type recorder struct {
	mu     sync.Mutex
	events []dynamutex.Event
}

func (r *recorder) Observe(ev dynamutex.Event) {
	r.mu.Lock()
	r.events = append(r.events, ev)
	r.mu.Unlock()
}

// find returns the events of kind for key.
func (r *recorder) find(kind dynamutex.EventKind, key string) []dynamutex.Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []dynamutex.Event
	for _, ev := range r.events {
		if ev.Kind == kind && ev.Key == key {
			out = append(out, ev)
		}
	}
	return out
}

func (r *recorder) waitFor(t *testing.T, kind dynamutex.EventKind, key string) dynamutex.Event {
	t.Helper()
	waitFor(t, 10*time.Second, kind.String()+" event for "+key, func() bool { return len(r.find(kind, key)) > 0 })
	return r.find(kind, key)[0]
}

// syncBuffer collects log output written from many goroutines.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// records returns the JSON log records written so far.
func (b *syncBuffer) records(t *testing.T) []map[string]any {
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []map[string]any
	sc := bufio.NewScanner(bytes.NewReader(b.buf.Bytes()))
	for sc.Scan() {
		var r map[string]any
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatalf("log line %q: %v", sc.Text(), err)
		}
		out = append(out, r)
	}
	return out
}

// One lock goes through acquired, renewed, a failed and a late renewal and
// released; another through danger and loss. Each step gives one Observer
// event with the fields its kind promises, and one log record with the
// table, owner, key and token.
func TestLifecycleEvents(t *testing.T) {
	c, tr := newClient(t)
	table := newTable(t, c)
	rec := &recorder{}
	logs := &syncBuffer{}
	logger := slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	s := newSession(t, c, table, dynamutex.WithObserver(rec), dynamutex.WithLogger(logger), dynamutex.WithOwner("watched"))
	r := &lifecycle{c: c, tr: tr, table: table, rec: rec, s: s, ctx: ctxTimeout(t, 30*time.Second)}

	token := r.calm(t)
	token2 := r.doomed(t)

	want := map[string]uint64{
		"dynamutex: acquired":        token,
		"dynamutex: renewed late":    token,
		"dynamutex: released":        token,
		"dynamutex: lease in danger": token2,
		"dynamutex: lock lost":       token2,
	}
	for _, r := range logs.records(t) {
		msg, _ := r["msg"].(string)
		tok, ok := want[msg]
		if !ok {
			continue
		}
		if r["table"] != table || r["owner"] != "watched" || r["token"] != float64(tok) || r["key"] == "" {
			t.Errorf("log record %v lacks the table, owner, key or token %d", r, tok)
		}
		delete(want, msg)
	}
	for msg := range want {
		t.Errorf("no log record %q", msg)
	}
}

// lifecycle is the observed Session of TestLifecycleEvents, with its
// table, transport and Observer.
type lifecycle struct {
	c     *tap
	tr    *tap
	table string
	rec   *recorder
	s     *dynamutex.Session
	ctx   context.Context
}

// calm takes the first lock through acquired, renewed, a failed and a late
// renewal and released, and returns its token.
func (r *lifecycle) calm(t *testing.T) uint64 {
	m := r.s.NewMutex("calm")
	lctx, err := m.Lock(r.ctx)
	if err != nil {
		t.Fatal(err)
	}
	token := mustLease(t, lctx).Token()
	acq := r.rec.waitFor(t, dynamutex.EventAcquired, "calm")
	if acq.Token != token || acq.Attempts != 1 || acq.Latency <= 0 || acq.Wait < acq.Latency {
		t.Errorf("acquired event = %+v, want token %d, 1 attempt, 0 < latency <= wait", acq, token)
	}
	ren := r.rec.waitFor(t, dynamutex.EventRenewed, "calm")
	if ren.Token != token || ren.Attempts < 1 || ren.Latency <= 0 || ren.Wait <= 0 {
		t.Errorf("renewed event = %+v", ren)
	}
	r.failOneRenewal(t, token)
	if err := m.Unlock(r.ctx); err != nil {
		t.Fatal(err)
	}
	if rel := r.rec.waitFor(t, dynamutex.EventReleased, "calm"); rel.Token != token || rel.Latency <= 0 {
		t.Errorf("released event = %+v", rel)
	}
	return token
}

func (r *lifecycle) failOneRenewal(t *testing.T, token uint64) {
	// One renewal attempt refused with a server error: a failure, then a
	// renewal that needed two attempts, which is late.
	var once sync.Once
	r.tr.setFault(func(op, key string, in any) fault {
		f := fault{}
		if op == opRenew && key == "calm" {
			once.Do(func() { f = fault{status: 500} })
		}
		return f
	})
	failed := r.rec.waitFor(t, dynamutex.EventRenewalFailed, "calm")
	if failed.Err == nil || failed.Token != token {
		t.Errorf("renewal-failed event = %+v, want an error", failed)
	}
	waitFor(t, 10*time.Second, "a late renewal", func() bool {
		for _, ev := range r.rec.find(dynamutex.EventRenewed, "calm") {
			if ev.Late && ev.Attempts == 2 {
				return true
			}
		}
		return false
	})
	r.tr.setFault(nil)
}

// doomed takes the second lock through danger and loss, and returns its
// token.
func (r *lifecycle) doomed(t *testing.T) uint64 {
	// The second lock's renewals stop: danger. Then another owner's record
	// replaces it and renewals resume: lost.
	m2 := r.s.NewMutex("doomed")
	l2ctx, err := m2.Lock(r.ctx)
	if err != nil {
		t.Fatal(err)
	}
	token2 := mustLease(t, l2ctx).Token()
	r.tr.setFault(func(op, key string, in any) fault { return fault{block: op == opRenew && key == "doomed"} })
	danger := r.rec.waitFor(t, dynamutex.EventInDanger, "doomed")
	if !errors.Is(danger.Err, dynamutex.ErrLeaseInDanger) || danger.Token != token2 {
		t.Errorf("in-danger event = %+v", danger)
	}
	putItem(t, r.c, r.table, heldRecord("doomed", "thief", token2+1, time.Minute))
	r.tr.setFault(nil)
	lost := r.rec.waitFor(t, dynamutex.EventLost, "doomed")
	var le *dynamutex.LostError
	if !errors.As(lost.Err, &le) || le.Owner != "thief" || lost.Token != token2 {
		t.Errorf("lost event = %+v, want a *LostError naming the thief", lost)
	}
	if err := m2.Unlock(r.ctx); !errors.Is(err, dynamutex.ErrLockLost) {
		t.Errorf("Unlock of the lost lock = %v", err)
	}
	return token2
}

func TestEventKindString(t *testing.T) {
	for k, want := range map[dynamutex.EventKind]string{
		dynamutex.EventAcquired: "acquired", dynamutex.EventRenewed: "renewed",
		dynamutex.EventRenewalFailed: "renewal failed", dynamutex.EventInDanger: "in danger",
		dynamutex.EventLost: "lost", dynamutex.EventReleased: "released",
		dynamutex.EventKind(99): "EventKind(" + strconv.Itoa(99) + ")",
	} {
		if got := k.String(); got != want {
			t.Errorf("EventKind(%d).String() = %q, want %q", int(k), got, want)
		}
	}
}

// An Unlock whose release request is refused still gives the lock up, and
// says so with EventReleased carrying the error, so that an Observer that
// counts the locks held does not count this one forever.
func TestReleaseFailedEvent(t *testing.T) {
	rec := &recorder{}
	c, _, s := setup(t, dynamutex.WithObserver(rec))
	ctx := ctxTimeout(t, 10*time.Second)
	m := s.NewMutex("refused")
	if _, err := m.Lock(ctx); err != nil {
		t.Fatal(err)
	}
	c.setFault(func(op, _ string, _ any) fault {
		return fault{status: 403, errCode: "AccessDeniedException"}
	})
	err := m.Unlock(ctx)
	if err == nil {
		t.Fatal("Unlock with its release refused succeeded")
	}
	rel := rec.find(dynamutex.EventReleased, "refused")
	if len(rel) != 1 || !errors.Is(rel[0].Err, err) {
		t.Fatalf("released events = %+v, want one carrying %v", rel, err)
	}
	if n := c.count(opRelease); n != 1 {
		t.Errorf("%d release requests, want 1 (the refusal is final)", n)
	}
}
