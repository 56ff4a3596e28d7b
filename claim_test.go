package dynamutex_test

import (
	"context"
	"errors"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/cenkalti/backoff/v4"

	"github.com/dynamutex/dynamutex"
	"github.com/dynamutex/dynamutex/internal/wire"
)

// Starvation mode against DynamoDB Local, at the test lease of 600 ms: a
// Lock call claims the next turn after claimAfter (150 ms) and re-asserts
// its claim every claimBeat (200 ms).
const (
	claimAfter = testLease / 4
	claimBeat  = testLease / 3
)

// testClaim is a claim as another process would have written it.
type testClaim struct {
	version, owner, beat string
	since                time.Time
	lease                time.Duration
}

// record is one lock record of the DynamoDB under test.
type record struct {
	c          testDB
	table, key string
}

// putClaim writes cl into key's record with the raw SDK, as a claimant
// would. It refuses to replace a claim, so that a test whose timing went
// wrong says so instead of proving nothing.
func putClaim(t *testing.T, r record, cl testClaim) {
	t.Helper()
	c, key := r.c, r.key
	in := claimUpdate(r.table, key, cl)
	in.ConditionExpression = aws.String("attribute_exists(#k) AND attribute_not_exists(#c)")
	in.ExpressionAttributeNames["#k"] = "key"
	if _, err := c.UpdateItem(context.Background(), in); err != nil {
		t.Fatalf("writing the claim of %q into %q: %v", cl.owner, key, err)
	}
}

// claimUpdate is the request that sets cl as key's claim, unconditionally:
// the library's claim write (package wire) without its condition.
func claimUpdate(table, key string, cl testClaim) *dynamodb.UpdateItemInput {
	in := wire.ClaimWrite(wire.ClaimArgs{
		Item:  wire.Item{Table: table, PartitionKey: dynamutex.DefaultPartitionKey, Key: key},
		Claim: wire.Claim{Version: cl.version, Owner: cl.owner, Beat: cl.beat, Since: cl.since, Lease: cl.lease},
	})
	in.ConditionExpression = nil
	in.ExpressionAttributeNames = map[string]string{"#c": in.ExpressionAttributeNames["#c"]}
	in.ExpressionAttributeValues = map[string]types.AttributeValue{":claim": in.ExpressionAttributeValues[":claim"]}
	return in
}

// claimField returns one string field of item's claim, or "" if the item
// has no claim.
func claimField(item map[string]types.AttributeValue, field string) string {
	m, ok := item["claim"].(*types.AttributeValueMemberM)
	if !ok {
		return ""
	}
	return attrS(m.Value, field)
}

// mustNoClaim checks that key's record carries no claim attribute at all.
func mustNoClaim(t *testing.T, r record, when string) {
	t.Helper()
	if item := getItem(t, r.c, r.table, r.key); item["claim"] != nil {
		t.Fatalf("%s: the record still carries the claim of %q (version %q)",
			when, claimField(item, "owner"), claimField(item, "version"))
	}
}

// claimWatch tells when a Session's Lock call has landed its first claim.
type claimWatch struct {
	claimed chan struct{}
}

func newClaimWatch() *claimWatch { return &claimWatch{claimed: make(chan struct{}, 8)} }

// Observe implements dynamutex.Observer.
func (w *claimWatch) Observe(ev dynamutex.Event) {
	if ev.Kind == dynamutex.EventClaimed {
		select {
		case w.claimed <- struct{}{}:
		default:
		}
	}
}

func (w *claimWatch) wait(t *testing.T, within time.Duration) {
	t.Helper()
	select {
	case <-w.claimed:
	case <-time.After(within):
		t.Fatalf("no EventClaimed within %v", within)
	}
}

// lockResult is what a Lock run in the background came to, and when.
type lockResult struct {
	ctx context.Context
	err error
	at  time.Time
}

// lockAsync runs m.Lock(ctx) on its own goroutine. The channel is buffered
// so that the goroutine ends even if the test stops listening.
func lockAsync(ctx context.Context, m *dynamutex.Mutex) <-chan lockResult {
	ch := make(chan lockResult, 1)
	go func() {
		lctx, err := m.Lock(ctx)
		ch <- lockResult{ctx: lctx, err: err, at: time.Now()}
	}()
	return ch
}

// mustGet waits for a background Lock and checks that it took the lock.
func mustGet(t *testing.T, ch <-chan lockResult, within time.Duration, who string) lockResult {
	t.Helper()
	select {
	case r := <-ch:
		if r.err != nil {
			t.Fatalf("%s: Lock = %v", who, r.err)
		}
		return r
	case <-time.After(within):
		t.Fatalf("%s: Lock did not return within %v", who, within)
	}
	return lockResult{}
}

// mustWait checks that a background Lock has not returned yet.
func mustWait(t *testing.T, ch <-chan lockResult, who, why string) {
	t.Helper()
	select {
	case r := <-ch:
		t.Fatalf("%s: Lock returned (err %v) %s", who, r.err, why)
	default:
	}
}

// inValue returns the S value of the placeholder name in an update.
func inValue(in any, name string) string {
	u, _ := in.(*dynamodb.UpdateItemInput)
	if u == nil {
		return ""
	}
	v, _ := u.ExpressionAttributeValues[name].(*types.AttributeValueMemberS)
	if v == nil {
		return ""
	}
	return v.Value
}

// claimBeatOf returns the beat a claim write sends.
func claimBeatOf(in any) string {
	u, _ := in.(*dynamodb.UpdateItemInput)
	if u == nil {
		return ""
	}
	c, _ := u.ExpressionAttributeValues[":claim"].(*types.AttributeValueMemberM)
	if c == nil {
		return ""
	}
	beat, _ := c.Value["beat"].(*types.AttributeValueMemberS)
	if beat == nil {
		return ""
	}
	return beat.Value
}

// lockedToken locks m and returns the lock's token.
func lockedToken(t *testing.T, ctx context.Context, m *dynamutex.Mutex) uint64 {
	t.Helper()
	lctx, err := m.Lock(ctx)
	if err != nil {
		t.Fatalf("Lock: %v", err)
	}
	return mustLease(t, lctx).Token()
}

// turnOver makes a waiter lose a turn, which it must before it claims
// one: once the waiter's first read has been sent, so that its first
// write's reply, with hm's token, is in, hm's holder unlocks and locks
// again at once. The waiter's reads are held (stall, on from before its
// Lock call) meanwhile, so it cannot take the released record; the held
// read fails at its attempt timeout and the next one shows the new token.
// It returns that token.
func turnOver(t *testing.T, ctx context.Context, hm *dynamutex.Mutex, w stalled) uint64 {
	t.Helper()
	for _, tr := range w.trs {
		waitFor(t, 2*time.Second, "the waiter's first read", func() bool { return tr.count("GetItem") >= 1 })
	}
	if err := hm.Unlock(ctx); err != nil {
		t.Fatal(err)
	}
	tok := lockedToken(t, ctx, hm)
	w.stall.on.Store(false)
	return tok
}

// stalled is waiters whose reads stall holds, and their taps.
type stalled struct {
	stall *readStall
	trs   []*tap
}

// stallFirst returns a fault that holds reads while stall is on and
// otherwise does what next does.
func stallFirst(stall *readStall, next func(op, key string, in any) fault) func(op, key string, in any) fault {
	return func(op, key string, in any) fault {
		if f := stall.fault(op, key, in); f.block {
			return f
		}
		return next(op, key, in)
	}
}

// A claim whose claimant is gone (it crashed and so never removed it)
// holds a released lock back from another Session only until that Session
// has watched the claim, at one beat, for the claim's lease; the acquire
// write that then passes it removes it.
func TestClaimCrashedClaimant(t *testing.T) {
	c, table, prev := setup(t, dynamutex.WithOwner("previous-holder"))
	ctx := ctxTimeout(t, 10*time.Second)
	const key = "crashed-claimant"
	pm := prev.NewMutex(key)
	tok := lockedToken(t, ctx, pm)
	if err := pm.Unlock(ctx); err != nil {
		t.Fatal(err)
	}
	putClaim(t, record{c, table, key}, testClaim{version: "crashed-version", owner: "crashed", beat: "crashed-beat",
		since: time.Now(), lease: testLease})

	wc, wtr := newClient(t)
	w := newSession(t, wc, table, dynamutex.WithOwner("waiter"))
	m := w.NewMutex(key)
	watched := time.Now() // the waiter's first sight of the claim comes after this
	_, err := m.TryLock(ctx)
	var he *dynamutex.HeldError
	if !errors.Is(err, dynamutex.ErrLocked) || !errors.As(err, &he) || he.ClaimedBy != "crashed" {
		t.Fatalf("TryLock of a released record with a fresh claim = %v, want a *HeldError claimed by %q", err, "crashed")
	}
	lctx, err := m.Lock(ctx)
	if err != nil {
		t.Fatalf("Lock behind a dead claim: %v", err)
	}
	waited := time.Since(watched)
	if waited < testLease {
		t.Fatalf("Lock passed the claim %v after first seeing it, before the claim's lease of %v", waited, testLease)
	}
	if waited > 3*testLease {
		t.Errorf("Lock took %v to pass a dead claim of lease %v", waited, testLease)
	}
	if got := mustLease(t, lctx).Token(); got != tok+1 {
		t.Errorf("token %d, want %d", got, tok+1)
	}
	item := getItem(t, c, table, key)
	if attrS(item, "owner") != "waiter" || attrBool(item, "released") {
		t.Errorf("record after the Lock: owner %q, released %v; want waiter, held", attrS(item, "owner"), attrBool(item, "released"))
	}
	mustNoClaim(t, record{c, table, key}, "after the acquire write that passed the dead claim")
	// The waiter is younger than the dead claim: it waited behind it rather
	// than taking it over.
	if n := wtr.count(opClaim); n != 0 {
		t.Errorf("the younger waiter sent %d claim writes, want 0", n)
	}
	if err := m.Unlock(ctx); err != nil {
		t.Fatal(err)
	}
}

// versionLog keeps the versions a Session's claim and acquire writes send.
type versionLog struct {
	mu               sync.Mutex
	claims, acquires []string
}

func (l *versionLog) fault(op, _ string, in any) fault {
	l.mu.Lock()
	defer l.mu.Unlock()
	switch op {
	case opClaim:
		l.claims = append(l.claims, inValue(in, ":me"))
	case opAcquire:
		l.acquires = append(l.acquires, inValue(in, ":v"))
	}
	return fault{}
}

func (l *versionLog) get() (claims, acquires []string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.claims...), append([]string(nil), l.acquires...)
}

// A claim standing with a later since than an older waiter's start is
// taken over by that waiter, once it has lost a turn: the claim's version
// becomes the waiter's, and that version is the one that takes the lock. A
// waiter younger than the claims never claims at all, though it lost the
// same turn, and comes after the older one.
func TestClaimOlderWaiterTakesOver(t *testing.T) {
	c, table, holder := setup(t, dynamutex.WithOwner("holder"))
	ctx := ctxTimeout(t, 10*time.Second)
	const key = "older-waiter"
	hm := holder.NewMutex(key)
	tok := lockedToken(t, ctx, hm)

	oc, otr := newClient(t)
	older := newSession(t, oc, table, dynamutex.WithOwner("older"))
	log := &versionLog{}
	stall := &readStall{}
	stall.on.Store(true)
	otr.setFault(stallFirst(stall, log.fault))
	yc, ytr := newClient(t)
	younger := newSession(t, yc, table, dynamutex.WithOwner("younger"))
	ytr.setFault(stall.fault)

	olderStart := time.Now()
	om, ym := older.NewMutex(key), younger.NewMutex(key)
	oldRes := lockAsync(ctx, om)
	// The standing claim began 50 ms after the older waiter, and before
	// the younger one starts.
	since := olderStart.Add(50 * time.Millisecond)
	time.Sleep(time.Until(since.Add(2 * time.Millisecond)))
	youngStart := time.Now()
	youngRes := lockAsync(ctx, ym)
	// Both waiters lose a turn, so either may claim the next; then the
	// standing claim appears, before either can read again.
	tok = turnOver(t, ctx, hm, stalled{stall, []*tap{otr, ytr}})
	putClaim(t, record{c, table, key}, testClaim{version: "standing-version", owner: "standing", beat: "standing-beat",
		since: since, lease: testLease})

	waitFor(t, 2*time.Second, "the older waiter to take the claim over", func() bool {
		return claimField(getItem(t, c, table, key), "owner") == "older"
	})
	// Give the younger waiter several reads past its own claimAfter.
	time.Sleep(time.Until(youngStart.Add(claimAfter + 3*claimAfter)))
	item := getItem(t, c, table, key)
	claims, _ := log.get()
	cv := claimField(item, "version")
	if len(claims) == 0 || cv != claims[0] || cv == "standing-version" {
		t.Fatalf("claim version %q, want the older waiter's %v", cv, claims)
	}
	if o := claimField(item, "owner"); o != "older" {
		t.Fatalf("claim owner %q, want older: the younger waiter took it", o)
	}
	if n := ytr.count(opClaim); n != 0 {
		t.Fatalf("the younger waiter sent %d claim writes behind older claims, want 0", n)
	}
	olderTakesFirst(t, ctx, queue{ms: [3]*dynamutex.Mutex{hm, om, ym}, oldRes: oldRes, youngRes: youngRes,
		log: log, cv: cv, tok: tok})
}

// queue is a holder and two waiters behind it, the older one with a claim.
type queue struct {
	ms               [3]*dynamutex.Mutex // the holder's, the older waiter's and the younger waiter's
	oldRes, youngRes <-chan lockResult   // the waiters' Lock calls
	log              *versionLog         // the older waiter's claim and acquire versions
	cv               string              // the older waiter's claim version
	tok              uint64              // the holder's token
}

// olderTakesFirst releases the holder and checks that the older waiter takes
// the lock with its claim's version, and the younger one only after it.
func olderTakesFirst(t *testing.T, ctx context.Context, q queue) {
	t.Helper()
	ms, oldRes, youngRes, log, cv, tok := q.ms, q.oldRes, q.youngRes, q.log, q.cv, q.tok
	if err := ms[0].Unlock(ctx); err != nil {
		t.Fatal(err)
	}
	o := mustGet(t, oldRes, 2*time.Second, "older")
	ol := mustLease(t, o.ctx)
	if ol.Token() != tok+1 {
		t.Errorf("older waiter's token %d, want %d", ol.Token(), tok+1)
	}
	_, acquires := log.get()
	for _, v := range acquires {
		if v != cv {
			t.Errorf("the older waiter's acquire wrote version %q, want its claim's %q", v, cv)
		}
	}
	mustWait(t, youngRes, "younger", "while the older waiter holds the lock")
	if err := ms[1].Unlock(ctx); err != nil {
		t.Fatal(err)
	}
	y := mustGet(t, youngRes, 2*time.Second, "younger")
	yl := mustLease(t, y.ctx)
	if yl.Token() != tok+2 {
		t.Errorf("younger waiter's token %d, want %d", yl.Token(), tok+2)
	}
	if err := ms[2].Unlock(ctx); err != nil {
		t.Fatal(err)
	}
}

// claimScene is a holder's Session that holds key, and a waiter's Session,
// with an Observer of its claims, on one fresh table. The waiter's reads are
// held until the scene's turnOver, which makes it lose a turn so that it
// may claim the next.
type claimScene struct {
	hc         testDB
	table, key string
	hm, wm     *dynamutex.Mutex
	tok        uint64 // the holder's token
	htr, wtr   *tap   // the holder's and the waiter's requests
	watch      *claimWatch
	stall      *readStall // holds the waiter's reads until turnOver
}

// turnOver has the holder unlock and lock again (turnOver, above) once the
// waiter's Lock call has started, and keeps the new token.
func (sc *claimScene) turnOver(t *testing.T, ctx context.Context) {
	t.Helper()
	sc.tok = turnOver(t, ctx, sc.hm, stalled{sc.stall, []*tap{sc.wtr}})
}

func newClaimScene(t *testing.T, ctx context.Context, key, waiterOwner string) *claimScene {
	t.Helper()
	hc, table, holder := setup(t, dynamutex.WithOwner("holder"))
	sc := &claimScene{hc: hc, htr: hc, table: table, key: key, watch: newClaimWatch()}
	sc.hm = holder.NewMutex(key)
	sc.tok = lockedToken(t, ctx, sc.hm)
	var wc testDB
	wc, sc.wtr = newClient(t)
	sc.stall = &readStall{}
	sc.stall.on.Store(true)
	sc.wtr.setFault(sc.stall.fault)
	sc.wm = newSession(t, wc, sc.table, dynamutex.WithOwner(waiterOwner), dynamutex.WithObserver(sc.watch)).NewMutex(key)
	return sc
}

// A holder that unlocks and locks again at once waits behind a waiter that
// claimed the next turn: the waiter takes the lock first, and the holder's
// re-lock, whose first write the claim refuses, returns only after the
// waiter unlocks.
func TestClaimReleaserWaitsBehindClaim(t *testing.T) {
	ctx := ctxTimeout(t, 10*time.Second)
	const key = "releaser-waits"
	sc := newClaimScene(t, ctx, key, "starving")
	waiter := lockAsync(ctx, sc.wm)
	sc.turnOver(t, ctx)
	hc, htr, table, hm, wm, tok, watch := sc.hc, sc.htr, sc.table, sc.hm, sc.wm, sc.tok, sc.watch
	watch.wait(t, 2*time.Second)
	if o := claimField(getItem(t, hc, table, key), "owner"); o != "starving" {
		t.Fatalf("after EventClaimed the record's claim is owned by %q, want starving", o)
	}

	before := htr.count(opAcquire)
	if err := hm.Unlock(ctx); err != nil {
		t.Fatal(err)
	}
	relock := lockAsync(ctx, hm)
	w := mustGet(t, waiter, 2*time.Second, "starving waiter")
	wtok := mustLease(t, w.ctx).Token()
	time.Sleep(claimAfter) // hold a while, so that the re-lock has every chance to jump the queue
	mustWait(t, relock, "holder's re-lock", "while the waiter holds the lock")
	unlocked := time.Now()
	if err := wm.Unlock(ctx); err != nil {
		t.Fatal(err)
	}
	h := mustGet(t, relock, 2*time.Second, "holder's re-lock")
	htok := mustLease(t, h.ctx).Token()
	if h.at.Before(unlocked) {
		t.Errorf("the re-lock returned %v before the waiter's Unlock", unlocked.Sub(h.at))
	}
	// Consecutive tokens: no acquisition of the holder's came between its
	// first lock and the waiter's, so none of its writes succeeded first.
	if wtok != tok+1 || htok != wtok+1 {
		t.Errorf("tokens: holder %d, waiter %d, holder again %d; want %d, %d, %d", tok, wtok, htok, tok, tok+1, tok+2)
	}
	if n := htr.count(opAcquire) - before; n < 2 {
		t.Errorf("the re-lock made %d acquire writes, want a refused one and the one that took the lock", n)
	}
	if err := hm.Unlock(ctx); err != nil {
		t.Fatal(err)
	}
}

// readStall, once on, holds every read of a Session until the read's
// context ends.
type readStall struct{ on atomic.Bool }

func (r *readStall) fault(op, _ string, _ any) fault {
	return fault{block: op == "GetItem" && r.on.Load()}
}

// claimLog keeps when each claim write of a Session was sent, and its
// beat, and loses the reply of the first one after DynamoDB applied it.
// Once stall is on, it also holds every read.
type claimLog struct {
	mu      sync.Mutex
	sent    []time.Time
	beats   []string
	stall   readStall
	dropped chan struct{} // closed when the first claim write's reply is lost
}

func newClaimLog() *claimLog { return &claimLog{dropped: make(chan struct{})} }

func (l *claimLog) fault(op, _ string, in any) fault {
	if f := l.stall.fault(op, "", in); f.block {
		return f
	}
	if op != opClaim {
		return fault{}
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.sent = append(l.sent, time.Now())
	l.beats = append(l.beats, claimBeatOf(in))
	if len(l.sent) == 1 {
		close(l.dropped)
		return fault{drop: true}
	}
	return fault{}
}

func (l *claimLog) get() ([]time.Time, []string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]time.Time(nil), l.sent...), append([]string(nil), l.beats...)
}

// constantReads makes a waiter read every 20 ms, so that a claim it did
// not know it had would be re-asserted at the very next read, 20 ms on,
// instead of a claim beat after the first.
func constantReads() dynamutex.Option {
	return dynamutex.WithBackoff(func() backoff.BackOff { return backoff.NewConstantBackOff(20 * time.Millisecond) })
}

// A claim write whose reply is lost has landed all the same. The waiter
// recognises its claim at its next read, re-asserting it only a claim beat
// after the lost write, and takes the lock when the holder releases; a
// waiter that gives up instead, its claim still in doubt, has the claim
// removed by the heartbeat loop.
func TestClaimLostReply(t *testing.T) {
	t.Run("taken", testClaimLostReplyTaken)
	t.Run("given up", testClaimLostReplyGivenUp)
}

func testClaimLostReplyTaken(t *testing.T) {
	c, table, holder := setup(t, dynamutex.WithOwner("holder"))
	ctx := ctxTimeout(t, 10*time.Second)
	const key = "lost-claim-reply"
	hm := holder.NewMutex(key)
	tok := lockedToken(t, ctx, hm)

	wc, wtr := newClient(t)
	log := newClaimLog()
	log.stall.on.Store(true)
	wtr.setFault(log.fault)
	waiter := lockAsync(ctx, newSession(t, wc, table, dynamutex.WithOwner("waiter"), constantReads()).NewMutex(key))
	tok = turnOver(t, ctx, hm, stalled{&log.stall, []*tap{wtr}})
	waitFor(t, 2*time.Second, "a claim write after the lost one", func() bool { return wtr.count(opClaim) >= 2 })
	sent, _ := log.get()
	if gap := sent[1].Sub(sent[0]); gap < claimBeat-20*time.Millisecond {
		t.Fatalf("the claim was re-asserted %v after the write whose reply was lost; "+
			"a waiter that recognised it waits a claim beat (%v)", gap, claimBeat)
	}
	item := getItem(t, c, table, key)
	_, beats := log.get()
	if o, b := claimField(item, "owner"), claimField(item, "beat"); o != "waiter" || !slices.Contains(beats, b) {
		t.Fatalf("claim owner %q beat %q, want the waiter's, at one of its beats %v", o, b, beats)
	}
	if err := hm.Unlock(ctx); err != nil {
		t.Fatal(err)
	}
	w := mustGet(t, waiter, 2*time.Second, "waiter")
	if got := mustLease(t, w.ctx).Token(); got != tok+1 {
		t.Errorf("waiter's token %d, want %d", got, tok+1)
	}
	mustNoClaim(t, record{c, table, key}, "after the claimant took the lock")
}

func testClaimLostReplyGivenUp(t *testing.T) {
	c, table, holder := setup(t, dynamutex.WithOwner("holder"))
	ctx := ctxTimeout(t, 10*time.Second)
	const key = "lost-claim-given-up"
	hm := holder.NewMutex(key)
	lockedToken(t, ctx, hm)

	wc, wtr := newClient(t)
	log := newClaimLog()
	log.stall.on.Store(true)
	// Reads stall from the lost claim write on, so the waiter never learns
	// that its claim landed: it gives up with the claim in doubt.
	wtr.setFault(func(op, key string, in any) fault {
		f := log.fault(op, key, in)
		if op == opClaim && f.drop {
			log.stall.on.Store(true)
		}
		return f
	})
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	waiter := lockAsync(wctx, newSession(t, wc, table, dynamutex.WithOwner("waiter"), constantReads()).NewMutex(key))
	turnOver(t, ctx, hm, stalled{&log.stall, []*tap{wtr}})
	select {
	case <-log.dropped:
	case <-time.After(2 * time.Second):
		t.Fatal("the waiter sent no claim write")
	}
	waitFor(t, time.Second, "the lost claim write to show in the record", func() bool {
		return claimField(getItem(t, c, table, key), "owner") == "waiter"
	})
	giveUpAndUnclaim(t, cancel, waiting{waiter, wtr}, func() bool {
		_, ok := getItem(t, c, table, key)["claim"]
		return !ok
	})
	if n := wtr.count(opClaim); n != 1 {
		t.Errorf("%d claim writes, want only the one whose reply was lost", n)
	}
	if attrS(getItem(t, c, table, key), "owner") != "holder" {
		t.Error("the unclaim changed the holder")
	}
	if err := hm.Unlock(ctx); err != nil {
		t.Fatal(err)
	}
}

// waiting is a waiter's Lock call in flight, and the tap of its client.
type waiting struct {
	res <-chan lockResult
	tr  *tap
}

// giveUpAndUnclaim cancels a waiter's Lock call and checks that it returns
// context.Canceled, that its claim goes (gone reports it) and that the
// waiter sent an unclaim.
func giveUpAndUnclaim(t *testing.T, cancel context.CancelFunc, w waiting, gone func() bool) {
	t.Helper()
	waiter, wtr := w.res, w.tr
	cancel()
	if r := <-waiter; !errors.Is(r.err, context.Canceled) {
		t.Fatalf("Lock = %v, want context.Canceled", r.err)
	}
	waitFor(t, time.Second, "the claim to be removed", gone)
	if n := wtr.count(opUnclaim); n < 1 {
		t.Errorf("%d unclaim writes, want at least 1", n)
	}
}

// A waiter whose claim landed and whose context then ends leaves no claim
// behind, once the heartbeat loop has removed it, so that another waiter
// takes the released lock at once, in one write.
func TestClaimGiveUpRemovesClaim(t *testing.T) {
	ctx := ctxTimeout(t, 10*time.Second)
	const key = "give-up"
	sc := newClaimScene(t, ctx, key, "quitter")
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	waiter := lockAsync(wctx, sc.wm)
	sc.turnOver(t, ctx)
	c, table, hm, tok, wtr, watch := sc.hc, sc.table, sc.hm, sc.tok, sc.wtr, sc.watch
	watch.wait(t, 2*time.Second)
	if o := claimField(getItem(t, c, table, key), "owner"); o != "quitter" {
		t.Fatalf("after EventClaimed the claim is owned by %q, want quitter", o)
	}
	giveUpAndUnclaim(t, cancel, waiting{waiter, wtr}, func() bool {
		_, ok := getItem(t, c, table, key)["claim"]
		return !ok
	})

	xc, xtr := newClient(t)
	xm := newSession(t, xc, table, dynamutex.WithOwner("next")).NewMutex(key)
	_, err := xm.TryLock(ctx)
	var he *dynamutex.HeldError
	if !errors.As(err, &he) || he.Owner != "holder" || he.ClaimedBy != "" {
		t.Fatalf("TryLock while the holder holds = %v, want held by holder with no claim", err)
	}
	if err := hm.Unlock(ctx); err != nil {
		t.Fatal(err)
	}
	before := xtr.count(opAcquire)
	lctx, err := xm.TryLock(ctx)
	if err != nil {
		t.Fatalf("TryLock of the released lock = %v; the claim of the waiter that gave up still stands?", err)
	}
	if n := xtr.count(opAcquire) - before; n != 1 {
		t.Errorf("%d acquire writes, want 1", n)
	}
	if got := mustLease(t, lctx).Token(); got != tok+1 {
		t.Errorf("token %d, want %d", got, tok+1)
	}
	if err := xm.Unlock(ctx); err != nil {
		t.Fatal(err)
	}
}

// The previous release knows nothing of claims: its acquire takes a
// released record that a waiter of this release has claimed, so fairness
// is lost. Exclusion holds all the same: the claimant sees the record held
// by the old holder, takes nothing while that holder renews, and takes the
// lock only after the old holder's release, at the next token; the old
// holder's version is then dead.
func TestClaimPrevReleaseIgnoresClaim(t *testing.T) {
	c, _ := newClient(t)
	e := &compatEnv{t: t, db: c, table: newTable(t, c)}
	ctx := ctxTimeout(t, 10*time.Second)
	const key = "prev-release-claim"
	hm := e.session("new-holder").NewMutex(key)
	tok := lockedToken(t, ctx, hm)

	wc, wtr := newClient(t)
	stall := &readStall{}
	stall.on.Store(true)
	wtr.setFault(stall.fault)
	watch := newClaimWatch()
	wm := newSession(t, wc, e.table, dynamutex.WithOwner("claimant"), dynamutex.WithObserver(watch)).NewMutex(key)
	waiter := lockAsync(ctx, wm)
	tok = turnOver(t, ctx, hm, stalled{stall, []*tap{wtr}})
	watch.wait(t, 2*time.Second)
	// Stall the claimant's reads, so that it cannot take the released
	// record before the previous release does.
	stall.on.Store(true)
	stalledAt := wtr.count("GetItem")
	waitFor(t, time.Second, "a stalled read of the claimant", func() bool { return wtr.count("GetItem") > stalledAt })
	acquires := wtr.count(opAcquire)
	if err := hm.Unlock(ctx); err != nil {
		t.Fatal(err)
	}
	var he *dynamutex.HeldError
	if _, err := e.session("new-other").NewMutex(key).TryLock(ctx); !errors.As(err, &he) || he.ClaimedBy != "claimant" {
		t.Fatalf("this release's TryLock of the claimed, released record = %v, want held, claimed by claimant", err)
	}
	out := e.mustReplay("acquire", compatFill{key: key, version: "prev-v0"})
	if got := compatToken(t, out.Attributes); got != tok+1 {
		t.Fatalf("the previous release's acquire got token %d, want %d", got, tok+1)
	}
	if r := mustOldDecode(t, "after the previous release's acquire", e.get(key)); r.owner != compatOwner || r.released {
		t.Fatalf("the previous release reads %+v, want its own, held", r)
	}
	if o := claimField(e.get(key), "owner"); o != "claimant" {
		t.Fatalf("the claim after the previous release's acquire is owned by %q, want claimant, left in place", o)
	}
	stall.on.Store(false)
	last := oldHolderRenews(t, e, key, waiting{waiter, wtr})
	if n := wtr.count(opAcquire); n != acquires {
		t.Fatalf("the claimant made %d acquire writes while the old holder held the lock, want 0", n-acquires)
	}
	released := time.Now()
	e.mustReplay("release", compatFill{key: key, cur: last, next: "prev-released"})
	w := mustGet(t, waiter, 2*time.Second, "claimant")
	if w.at.Before(released) {
		t.Fatalf("the claimant's Lock returned before the old holder's release")
	}
	if got := mustLease(t, w.ctx).Token(); got != tok+2 {
		t.Errorf("the claimant's token %d, want %d", got, tok+2)
	}
	mustNoClaim(t, record{c, e.table, key}, "after the claimant took the lock")
	_, err := e.replay("renew", compatFill{key: key, cur: last, next: "prev-zombie"})
	compatConditionFailed(t, "the old holder's renewal after the claimant took the lock", err)
	if err := wm.Unlock(ctx); err != nil {
		t.Fatal(err)
	}
}

// oldHolderRenews keeps the previous release's holder alive, renewing it
// every heartbeat for longer than a lease, and checks that the claimant,
// which reads the record held with its own claim still on it, waits
// throughout. It returns the old holder's last version.
func oldHolderRenews(t *testing.T, e *compatEnv, key string, w waiting) string {
	t.Helper()
	waiter, wtr := w.res, w.tr
	reads := wtr.count("GetItem")
	cur := "prev-v0"
	for i := 1; time.Duration(i)*testHeartbeat <= testLease+2*testHeartbeat; i++ {
		time.Sleep(testHeartbeat)
		next := "prev-v" + strconv.Itoa(i)
		e.mustReplay("renew", compatFill{key: key, cur: cur, next: next})
		cur = next
		mustWait(t, waiter, "claimant", "while the previous release's holder renews")
	}
	if n := wtr.count("GetItem") - reads; n < 3 {
		t.Fatalf("the claimant read %d times while the old holder held the lock; the test proves nothing", n)
	}
	return cur
}

// A waiter held back by a live claim sleeps its backoff between reads even
// once it has watched the record's version for a whole lease: that moment
// has passed, so it may not cut the sleep to nothing, or the waiter would
// read in a tight loop for as long as the claim stands.
func TestClaimBlockedWaiterDoesNotSpin(t *testing.T) {
	hc, table, holder := setup(t)
	ctx := ctxTimeout(t, 30*time.Second)
	hm := holder.NewMutex("claimed")
	lockedToken(t, ctx, hm)
	if err := hm.Unlock(ctx); err != nil {
		t.Fatal(err)
	}
	claimant := testClaim{version: "foreign", owner: "live claimant", beat: "b0", since: time.Now(), lease: testLease}
	putClaim(t, record{hc, table, "claimed"}, claimant)
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() { // the live claimant re-asserts its claim, a new beat each time
		defer close(done)
		for i := 1; ; i++ {
			select {
			case <-stop:
				return
			case <-time.After(claimBeat):
			}
			claimant.beat = "b" + strconv.Itoa(i)
			putClaimOver(hc, table, "claimed", claimant)
		}
	}()
	defer func() { close(stop); <-done }()

	wc, wtr := newClient(t)
	waiter := newSession(t, wc, table)
	const wait = 2 * time.Second
	wctx, cancel := context.WithTimeout(ctx, wait)
	defer cancel()
	if _, err := waiter.NewMutex("claimed").Lock(wctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("waiter's Lock = %v, want DeadlineExceeded behind a live claim", err)
	}
	if reads, hi := wtr.count("GetItem"), maxAttempts(wait, testLease); reads > hi {
		t.Errorf("the waiter made %d reads in %v behind a live claim, want at most %d (its backoff)", reads, wait, hi)
	}
}

// putClaimOver writes cl into key's record whatever claim stands: a live
// claimant re-asserting.
func putClaimOver(c testDB, table, key string, cl testClaim) {
	_, _ = c.UpdateItem(context.Background(), claimUpdate(table, key, cl))
}
