package dynamutex_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/dynamutex/dynamutex"
	"github.com/dynamutex/dynamutex/internal/wallclock"
)

// The frozen copy of the previous release's decoder agrees with that
// decoder's own verdicts on every probe, among them items that carry this
// release's new attributes, which it ignores.
func TestPrevReleaseDecoderVerdicts(t *testing.T) {
	raw, err := os.ReadFile("testdata/prevrelease/decoder.json")
	if err != nil {
		t.Fatal(err)
	}
	var verdicts []struct {
		Name      string         `json:"name"`
		Item      map[string]any `json:"item"`
		OK        bool           `json:"ok"`
		Attribute string         `json:"attribute"`
		Owner     string         `json:"owner"`
		Version   string         `json:"version"`
		Token     uint64         `json:"token"`
		LeaseMS   uint64         `json:"lease_ms"`
		Released  bool           `json:"released"`
		Data      string         `json:"data"`
	}
	if err := json.Unmarshal(raw, &verdicts); err != nil {
		t.Fatal(err)
	}
	if len(verdicts) < 20 {
		t.Fatalf("decoder.json has %d verdicts, want the full probe set", len(verdicts))
	}
	for _, v := range verdicts {
		r, bad := compatOldDecode(compatWireItem(t, v.Item))
		if bad != v.Attribute || (bad == "") != v.OK {
			t.Errorf("%s: frozen decoder refuses %q, the previous release refused %q (ok %v)", v.Name, bad, v.Attribute, v.OK)
			continue
		}
		want := fmt.Sprint(v.Owner, v.Version, v.Token, v.LeaseMS, v.Released, v.Data)
		if got := fmt.Sprint(r.owner, r.version, r.token, r.leaseMS, r.released, string(r.data)); v.OK && got != want {
			t.Errorf("%s: frozen decoder read %s, the previous release read %s", v.Name, got, want)
		}
	}
}

// compatConditionFailed checks that err is a failed condition and returns
// the ALL_OLD item that came with it.
func compatConditionFailed(t *testing.T, what string, err error) map[string]types.AttributeValue {
	t.Helper()
	var ccf *types.ConditionalCheckFailedException
	if !errors.As(err, &ccf) {
		t.Fatalf("%s: err = %v, want a failed condition", what, err)
	}
	if len(ccf.Item) == 0 {
		t.Fatalf("%s: the failed condition came without the ALL_OLD item", what)
	}
	return ccf.Item
}

func compatToken(t *testing.T, item map[string]types.AttributeValue) uint64 {
	t.Helper()
	v, ok := item["token"].(*types.AttributeValueMemberN)
	if !ok {
		t.Fatalf("token is %#v, want an N", item["token"])
	}
	n, err := strconv.ParseUint(v.Value, 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// compatStamp returns the raw deadline_ms of item and checks that its stamp
// is intact (stamped_version is the version), or stale.
func compatStamp(t *testing.T, what string, item map[string]types.AttributeValue, intact bool) string {
	t.Helper()
	dl, ok := item["deadline_ms"].(*types.AttributeValueMemberN)
	if !ok {
		t.Fatalf("%s: deadline_ms is %#v, want an N", what, item["deadline_ms"])
	}
	if _, ok := item["sent_ms"].(*types.AttributeValueMemberN); !ok {
		t.Fatalf("%s: sent_ms is %#v, want an N", what, item["sent_ms"])
	}
	if got := attrS(item, "stamped_version") == attrS(item, "version"); got != intact {
		t.Fatalf("%s: stamped_version %q, version %q: intact = %v, want %v",
			what, attrS(item, "stamped_version"), attrS(item, "version"), got, intact)
	}
	return dl.Value
}

// Records the previous release wrote (no send time, no deadline) decode as
// they did: owner, token, lease, released and data, with no LastWrite and no
// Deadline.
func TestCompatOldRecordsDecode(t *testing.T) {
	compatEach(t, func(e *compatEnv) {
		ctx := ctxTimeout(e.t, time.Minute)
		s := e.session("new", dynamutex.WithClockBound(compatBound))
		for i, name := range []string{"held", "renewed", "released", "held_data", "released_data", "taken_over"} {
			tok := uint64(1000 + i)
			e.putOld(name, name, tok)
			info, err := s.Inspect(ctx, name)
			if err != nil {
				e.t.Fatalf("Inspect of the old %s record: %v", name, err)
			}
			released := strings.HasPrefix(name, "released")
			data := ""
			if strings.HasSuffix(name, "_data") {
				data = compatData
			}
			if info.Owner != compatOwner || info.Token != tok || info.Lease != compatLease ||
				info.Released != released || string(info.Data) != data {
				e.t.Errorf("%s: Inspect = owner %q token %d lease %v released %v data %q, want %q %d %v %v %q",
					name, info.Owner, info.Token, info.Lease, info.Released, info.Data, compatOwner, tok, compatLease, released, data)
			}
			if !info.LastWrite.IsZero() || !info.Deadline.IsZero() {
				e.t.Errorf("%s: LastWrite %v, Deadline %v, want both zero", name, info.LastWrite, info.Deadline)
			}
			// A first look at a held record: free only if released.
			if info.Free() != released {
				e.t.Errorf("%s: Free() = %v, want %v", name, info.Free(), released)
			}
		}
	})
}

// A released record of the previous release is taken by this one in one
// request, with the next token, and stays readable by the previous release.
func TestCompatOldReleasedRecordLock(t *testing.T) {
	compatEach(t, func(e *compatEnv) {
		ctx := ctxTimeout(e.t, time.Minute)
		s := e.session("new", dynamutex.WithClockBound(compatBound))
		for i, name := range []string{"released", "released_data"} {
			tok := uint64(2000 + i)
			e.putOld(name, name, tok)
			m := s.NewMutex(name)
			var lctx context.Context
			var err error
			if n := e.updates(func() { lctx, err = m.Lock(ctx) }); err != nil || n != 1 {
				e.t.Fatalf("%s: Lock = %v in %d requests, want success in 1", name, err, n)
			}
			if got := mustLease(e.t, lctx).Token(); got != tok+1 {
				e.t.Errorf("%s: token %d, want %d", name, got, tok+1)
			}
			r := mustOldDecode(e.t, name+" after this release's acquire", e.get(name))
			if r.owner != "new" || r.token != tok+1 || r.released {
				e.t.Errorf("%s: the previous release reads %+v, want owner new, token %d, held", name, r, tok+1)
			}
			if err := m.Unlock(ctx); err != nil {
				e.t.Fatal(err)
			}
			if r := mustOldDecode(e.t, name+" after this release's release", e.get(name)); !r.released || r.token != tok+1 {
				e.t.Errorf("%s: the previous release reads %+v after Unlock, want released, token %d", name, r, tok+1)
			}
		}
	})
}

// compatObserver counts the times a Session stopped trusting its clock.
type compatObserver struct{ untrusted atomic.Int64 }

func (o *compatObserver) Observe(ev dynamutex.Event) {
	if ev.Kind == dynamutex.EventClockUntrusted {
		o.untrusted.Add(1)
	}
}

// mustHeld checks that a TryLock of key made one request and was refused,
// the record held by owner with token.
func (e *compatEnv) mustHeld(s *dynamutex.Session, key, owner string, token uint64) {
	e.t.Helper()
	ctx := ctxTimeout(e.t, time.Minute)
	var err error
	n := e.updates(func() { _, err = s.NewMutex(key).TryLock(ctx) })
	var he *dynamutex.HeldError
	if !errors.Is(err, dynamutex.ErrLocked) || !errors.As(err, &he) {
		e.t.Fatalf("%s: TryLock = %v, want ErrLocked: the record has no valid deadline", key, err)
	}
	if n != 1 || he.Owner != owner || he.Token != token || !he.LastWrite.IsZero() {
		e.t.Errorf("%s: %d requests, held by %q token %d, LastWrite %v; want 1 request, %q, token %d, no LastWrite",
			key, n, he.Owner, he.Token, he.LastWrite, owner, token)
	}
}

// mustTake checks that a TryLock of key takes it in one request, with token.
func (e *compatEnv) mustTake(s *dynamutex.Session, key string, token uint64) {
	e.t.Helper()
	ctx := ctxTimeout(e.t, time.Minute)
	var lctx context.Context
	var err error
	if n := e.updates(func() { lctx, err = s.NewMutex(key).TryLock(ctx) }); err != nil || n != 1 {
		e.t.Fatalf("%s: TryLock = %v in %d requests, want success in 1", key, err, n)
	}
	if got := mustLease(e.t, lctx).Token(); got != token {
		e.t.Errorf("%s: token %d, want %d", key, got, token)
	}
}

// A held record of the previous release has no deadline, so no clock takes
// it over, however far ahead; the same Session takes a dead holder of this
// release over by clock at once, which shows its clock is trusted and past.
// Observation for a lease still takes the old records over.
func TestCompatOldHeldRecordNoClockTakeover(t *testing.T) {
	compatEach(t, func(e *compatEnv) {
		ctx := ctxTimeout(e.t, time.Minute)
		dead := e.session("new-dead", dynamutex.WithClockBound(compatBound))
		lctx, err := dead.NewMutex("control").Lock(ctx)
		if err != nil {
			e.t.Fatal(err)
		}
		ctok := mustLease(e.t, lctx).Token()
		if err := dead.Close(ctx); err != nil {
			e.t.Fatal(err)
		}
		held := []string{"held", "renewed", "held_data", "taken_over"}
		for i, name := range held {
			e.putOld(name, name, uint64(3000+i))
		}
		e.shiftClock()
		obs := &compatObserver{}
		s := e.session("new", dynamutex.WithClockBound(compatBound), dynamutex.WithObserver(obs))
		for i, name := range held {
			e.mustHeld(s, name, compatOwner, uint64(3000+i))
		}
		e.mustTake(s, "control", ctok+1)
		if n := obs.untrusted.Load(); n != 0 {
			e.t.Fatalf("the Session distrusted its clock %d times; the test proves nothing", n)
		}
		for i, name := range held {
			waitFor(e.t, 10*time.Second, name+" watched unchanged for a lease", func() bool {
				info, err := s.Inspect(ctx, name)
				return err == nil && info.Free()
			})
			e.mustTake(s, name, uint64(3000+i+1))
		}
	})
}

// The previous release's requests, replayed against records this release
// wrote, behave as that release expects: its acquire fails on a live record
// and the ALL_OLD item reads as its own; it takes a released record, and a
// dead holder's version it watched for a lease, and not a version it saw
// before a renewal.
func TestCompatPrevReleaseRequestsOnNewRecords(t *testing.T) {
	compatEach(t, func(e *compatEnv) {
		s := e.session("new", dynamutex.WithClockBound(compatBound))
		e.oldOnLive(s)
		e.oldOnReleased(s)
		dead := e.session("new-dead", dynamutex.WithClockBound(compatBound))
		ctx := ctxTimeout(e.t, time.Minute)
		lctx, err := dead.NewMutex("dead").Lock(ctx)
		if err != nil {
			e.t.Fatal(err)
		}
		tok := mustLease(e.t, lctx).Token()
		if err := dead.Close(ctx); err != nil {
			e.t.Fatal(err)
		}
		v := attrS(e.get("dead"), "version")
		out := e.mustReplay("acquire_takeover", compatFill{key: "dead", version: "prev-dead", old: v})
		if got := compatToken(e.t, out.Attributes); got != tok+1 {
			e.t.Errorf("the previous release's takeover got token %d, want %d", got, tok+1)
		}
	})
}

// oldOnLive replays the previous release's acquire against a record this
// release holds and renews.
func (e *compatEnv) oldOnLive(s *dynamutex.Session) {
	t := e.t
	ctx := ctxTimeout(t, time.Minute)
	lctx, err := s.NewMutex("live").Lock(ctx)
	if err != nil {
		t.Fatal(err)
	}
	tok := mustLease(t, lctx).Token()
	first := attrS(e.get("live"), "version")
	waitFor(t, 10*time.Second, "a renewal of the live lock", func() bool { return attrS(e.get("live"), "version") != first })
	raw := e.get("live")
	compatStamp(t, "live", raw, true)
	r := mustOldDecode(t, "a held, renewed record of this release", raw)
	if r.owner != "new" || r.token != tok || r.released || r.leaseMS != uint64(testLease/time.Millisecond) {
		t.Errorf("the previous release reads %+v, want owner new, token %d, held, lease %v", r, tok, testLease)
	}
	_, err = e.replay("acquire", compatFill{key: "live", version: "prev-live"})
	r = mustOldDecode(t, "ALL_OLD of a live record", compatConditionFailed(t, "acquire on a live record", err))
	if r.owner != "new" || r.token != tok || r.released {
		t.Errorf("ALL_OLD reads %+v, want owner new, token %d, held", r, tok)
	}
	// A waiter of the previous release that saw the version before a
	// renewal does not take the lock.
	_, err = e.replay("acquire_takeover", compatFill{key: "live", version: "prev-live", old: first})
	compatConditionFailed(t, "takeover of a renewed version", err)
	if got := attrS(e.get("live"), "owner"); got != "new" {
		t.Errorf("live record owned by %q after the previous release's refused writes, want new", got)
	}
}

// oldOnReleased replays the previous release's acquire, renew and release
// on a record this release released with data.
func (e *compatEnv) oldOnReleased(s *dynamutex.Session) {
	t := e.t
	ctx := ctxTimeout(t, time.Minute)
	m := s.NewMutex("data", dynamutex.WithData([]byte("new data")))
	lctx, err := m.Lock(ctx)
	if err != nil {
		t.Fatal(err)
	}
	tok := mustLease(t, lctx).Token()
	if err := m.Unlock(ctx); err != nil {
		t.Fatal(err)
	}
	if r := mustOldDecode(t, "a released record of this release", e.get("data")); !r.released ||
		string(r.data) != "new data" || r.token != tok {
		t.Errorf("the previous release reads %+v, want released, data, token %d", r, tok)
	}
	out := e.mustReplay("acquire", compatFill{key: "data", version: "prev-data"})
	if got := compatToken(t, out.Attributes); got != tok+1 {
		t.Errorf("the previous release's acquire got token %d, want %d", got, tok+1)
	}
	raw := e.get("data")
	if r := mustOldDecode(t, "after the previous release's acquire", raw); r.owner != compatOwner || r.released || r.data != nil {
		t.Errorf("the previous release reads %+v, want its own, held, no data", r)
	}
	// The send time this release left behind belongs to another version:
	// it is not shown as the previous release's.
	if _, ok := raw["sent_ms"]; !ok {
		t.Fatal("sent_ms is gone; the check below would prove nothing")
	}
	info, err := s.Inspect(ctx, "data")
	if err != nil || info.Owner != compatOwner || info.Token != tok+1 || !info.LastWrite.IsZero() || !info.Deadline.IsZero() {
		t.Errorf("Inspect = %+v, %v; want the previous release's record, token %d, no LastWrite, no Deadline", info, err, tok+1)
	}
	e.mustReplay("renew", compatFill{key: "data", cur: "prev-data", next: "prev-data-2"})
	e.mustReplay("release", compatFill{key: "data", cur: "prev-data-2", next: "prev-data-3"})
	if r := mustOldDecode(t, "after the previous release's release", e.get("data")); !r.released || r.token != tok+1 {
		t.Errorf("the previous release reads %+v, want released, token %d", r, tok+1)
	}
	e.mustTake(s, "data", tok+2)
}

// Mutual exclusion in a shared table: when a write of the previous release
// lands on a record that still carries this release's deadline, the stamp
// no longer belongs to the version, so no Session takes the record over by
// clock, however long past the deadline is. The same dead holder's record
// with its stamp intact is taken over by the same Session, clock and bound
// at once, so the refusals are the stale stamp's doing and nothing else's.
func TestCompatSharedTableStaleDeadline(t *testing.T) {
	compatEach(t, func(e *compatEnv) {
		intact, stale := e.staleRecords()
		e.shiftClock()
		obs := &compatObserver{}
		s := e.session("new", dynamutex.WithClockBound(compatBound), dynamutex.WithObserver(obs))
		for k, want := range stale {
			ms, _ := strconv.ParseInt(want.deadline, 10, 64)
			if !time.UnixMilli(ms).Before(wallclock.Now().Add(-compatAhead / 2)) {
				e.t.Fatalf("%s: the deadline left behind is not long past", k)
			}
			e.mustHeld(s, k, want.owner, want.token)
			if got := attrS(e.get(k), "owner"); got != want.owner {
				e.t.Errorf("%s: owned by %q after the refused TryLock, want %q", k, got, want.owner)
			}
		}
		e.inspectStale(stale)
		e.mustTake(s, "intact", intact+1)
		if n := obs.untrusted.Load(); n != 0 {
			e.t.Fatalf("the Session distrusted its clock %d times; the test proves nothing", n)
		}
	})
}

// compatStale is a record whose deadline a write of the previous release
// left behind, and who holds it.
type compatStale struct {
	owner    string
	token    uint64
	deadline string // deadline_ms, as this release stamped it
}

// staleRecords has a holder of this release, with a bound, lock four keys
// and die. The previous release then writes three of them: two taken over
// by its waiter, as it would after watching them for a lease, one of those
// renewed once, and one renewed by it directly. It returns the token of
// the untouched key, "intact", and the three others.
func (e *compatEnv) staleRecords() (uint64, map[string]compatStale) {
	ctx := ctxTimeout(e.t, time.Minute)
	dead := e.session("new-dead", dynamutex.WithClockBound(compatBound))
	keys := []string{"intact", "old-takeover", "old-takeover-renewed", "old-renew"}
	tokens, versions := map[string]uint64{}, map[string]string{}
	stale := map[string]compatStale{}
	for _, k := range keys {
		lctx, err := dead.NewMutex(k).Lock(ctx)
		if err != nil {
			e.t.Fatal(err)
		}
		tokens[k] = mustLease(e.t, lctx).Token()
	}
	if err := dead.Close(ctx); err != nil {
		e.t.Fatal(err)
	}
	for _, k := range keys {
		raw := e.get(k)
		stale[k] = compatStale{owner: compatOwner, token: tokens[k] + 1, deadline: compatStamp(e.t, k, raw, true)}
		versions[k] = attrS(raw, "version")
	}
	delete(stale, "intact")
	stale["old-renew"] = compatStale{owner: "new-dead", token: tokens["old-renew"], deadline: stale["old-renew"].deadline}
	e.mustReplay("acquire_takeover", compatFill{key: "old-takeover", version: "prev-1", old: versions["old-takeover"]})
	e.mustReplay("acquire_takeover", compatFill{key: "old-takeover-renewed", version: "prev-2", old: versions["old-takeover-renewed"]})
	e.mustReplay("renew", compatFill{key: "old-takeover-renewed", cur: "prev-2", next: "prev-3"})
	e.mustReplay("renew", compatFill{key: "old-renew", cur: versions["old-renew"], next: "prev-4"})
	for k, want := range stale {
		if got := compatStamp(e.t, k, e.get(k), false); got != want.deadline {
			e.t.Fatalf("%s: deadline_ms %s, want the one left behind, %s", k, got, want.deadline)
		}
	}
	return tokens["intact"], stale
}

// inspectStale checks, from a Session that has observed nothing yet, that
// the stale records show no deadline and are not free, while the intact one
// shows its deadline and is free.
func (e *compatEnv) inspectStale(stale map[string]compatStale) {
	ctx := ctxTimeout(e.t, time.Minute)
	fresh := e.session("inspector", dynamutex.WithClockBound(compatBound))
	for k := range stale {
		info, err := fresh.Inspect(ctx, k)
		if err != nil || !info.Deadline.IsZero() || !info.LastWrite.IsZero() || info.Free() {
			e.t.Errorf("%s: Inspect = %+v, %v; want no Deadline, no LastWrite, not free", k, info, err)
		}
	}
	info, err := fresh.Inspect(ctx, "intact")
	if err != nil || info.Deadline.IsZero() || !info.Free() {
		e.t.Errorf("intact: Inspect = %+v, %v; want its Deadline, free by clock", info, err)
	}
}
