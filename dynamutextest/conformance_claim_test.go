package dynamutextest_test

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/dynamutex/dynamutex"
	"github.com/dynamutex/dynamutex/internal/wire"
)

// The cases below send the requests of the library's starvation mode, as
// package wire builds them for the library: the claim write, the acquire
// write with its claim gate, and the unclaim. The claim is a map and the conditions reach into it, so they
// rest on how DynamoDB treats nested paths that are missing or run through
// something other than a map; the Store must treat them the same.

func TestConformanceClaimRequests(t *testing.T) {
	runConformance(t, []conformanceCase{
		{"ClaimWriteConditions", caseClaimWrite},
		{"ClaimWriteReplacesWholeMap", caseClaimReplaces},
		{"ClaimSinceComparedAsNumbers", caseClaimSinceNumeric},
		{"ClaimWriteMissingRecord", caseClaimMissingRecord},
		{"ClaimWritePassesStaleBeat", caseClaimStale},
		{"AcquireGate", caseAcquireGate},
		{"AcquireGateStaleClaim", caseAcquireGateStale},
		{"AcquireGateHeldRecord", caseAcquireGateHeld},
		{"AcquireGateClockTakeover", caseAcquireGateClock},
		{"Unclaim", caseUnclaim},
		{"ClaimPathsOnDamagedClaims", caseClaimPaths},
		{"ClaimPathStaticErrors", caseClaimPathErrors},
		{"LibrarySendsTheseShapes", caseLibraryClaimShapes},
	})
}

// claimMap is the claim attribute that version writes: owner and lease are
// fixed, beat changes at every write, since orders claims (earlier wins).
func claimMap(version, beat, since string) types.AttributeValue {
	return M(item{"version": S(version), "owner": S("owner-" + version), "beat": S(beat),
		"since_ms": N(since), "lease_ms": N("600")})
}

// withClaim returns rec with claim c; a nil c removes the claim.
func withClaim(rec item, c types.AttributeValue) item {
	out := item{}
	for k, v := range rec {
		out[k] = v
	}
	if c == nil {
		delete(out, "claim")
	} else {
		out["claim"] = c
	}
	return out
}

// claimWrite is one claim write of the library (wire.ClaimWrite): version
// claims the next turn of key "k" with beat, having waited since; stale,
// if set, is the beat of a claim it may pass.
type claimWrite struct {
	table, version, beat, since, stale string
}

func (w claimWrite) request() *update {
	since, err := strconv.ParseInt(w.since, 10, 64)
	if err != nil {
		panic(err)
	}
	return &update{in: wire.ClaimWrite(wire.ClaimArgs{Item: lockItem(w.table, "k"), Stale: w.stale, Claim: wire.Claim{
		Version: w.version, Owner: "owner-" + w.version, Beat: w.beat, Since: time.UnixMilli(since),
		Lease: 600 * time.Millisecond,
	}})}
}

// claimWriteOK sends w, which must land, and checks that the record is rec
// with w's claim; it returns that record.
func claimWriteOK(t *testing.T, c api, w claimWrite, rec item) item {
	t.Helper()
	got, err := w.request().send(c)
	mustOK(t, err)
	wantItem(t, "Attributes without ReturnValues", got, nil)
	rec = withClaim(rec, claimMap(w.version, w.beat, w.since))
	wantItem(t, "record after the claim write of "+w.version, get(t, c, w.table, item{"key": S("k")}), rec)
	return rec
}

// claimWriteRefused sends w, which must fail with rec, unchanged, as
// ALL_OLD.
func claimWriteRefused(t *testing.T, c api, w claimWrite, rec item) {
	t.Helper()
	_, err := w.request().send(c)
	wantConditionFailed(t, err, "UpdateItem", rec)
	wantItem(t, "record after the refused claim write of "+w.version, get(t, c, w.table, item{"key": S("k")}), rec)
}

// A held record without a claim takes the first; then only the claimant
// (re-asserting), or a strictly older waiter, replaces it.
func caseClaimWrite(t *testing.T, c api) {
	table := lockTable(t, c)
	rec := record("k", "v0", "7", false)
	put(t, c, table, rec)
	rec = claimWriteOK(t, c, claimWrite{table: table, version: "A", beat: "a1", since: "1000"}, rec)
	claimWriteRefused(t, c, claimWrite{table: table, version: "B", beat: "b1", since: "2000"}, rec)
	claimWriteRefused(t, c, claimWrite{table: table, version: "B", beat: "b1", since: "1000"}, rec) // a tie is no older
	rec = claimWriteOK(t, c, claimWrite{table: table, version: "A", beat: "a2", since: "1000"}, rec)
	rec = claimWriteOK(t, c, claimWrite{table: table, version: "C", beat: "c1", since: "500"}, rec)
	claimWriteRefused(t, c, claimWrite{table: table, version: "A", beat: "a3", since: "1000"}, rec)
}

// SET #c = :claim replaces the map: a field that a foreign or later writer
// put in the old claim does not survive.
func caseClaimReplaces(t *testing.T, c api) {
	table := lockTable(t, c)
	rec := record("k", "v0", "7", true)
	old := claimMap("A", "a1", "1000").(*types.AttributeValueMemberM).Value
	old["extra"] = S("x")
	put(t, c, table, withClaim(rec, M(old)))
	claimWriteOK(t, c, claimWrite{table: table, version: "A", beat: "a2", since: "1000"}, rec)
}

// since_ms compares as a number: 99999999999 is less than 100000000000,
// though it sorts after it as text, and 1000 is more than 999.
func caseClaimSinceNumeric(t *testing.T, c api) {
	table := lockTable(t, c)
	rec := withClaim(record("k", "v0", "7", false), claimMap("A", "a1", "99999999999"))
	put(t, c, table, rec)
	claimWriteRefused(t, c, claimWrite{table: table, version: "B", beat: "b1", since: "100000000000"}, rec)
	rec = claimWriteOK(t, c, claimWrite{table: table, version: "B", beat: "b1", since: "99999999998"}, rec)

	put(t, c, table, withClaim(rec, claimMap("A", "a1", "1000")))
	claimWriteOK(t, c, claimWrite{table: table, version: "B", beat: "b2", since: "999"}, rec)
}

// A claim write never creates a record: attribute_exists(#pk) fails on a
// missing item, which comes back without an item.
func caseClaimMissingRecord(t *testing.T, c api) {
	table := lockTable(t, c)
	_, err := claimWrite{table: table, version: "A", beat: "a1", since: "1000"}.request().send(c)
	wantConditionFailed(t, err, "UpdateItem", nil)
	if got := get(t, c, table, item{"key": S("k")}); got != nil {
		t.Errorf("a refused claim write created %s", show(got))
	}
}

// A younger waiter passes a claim whose beat it watched unchanged, and only
// at that beat.
func caseClaimStale(t *testing.T, c api) {
	table := lockTable(t, c)
	rec := withClaim(record("k", "v0", "7", true), claimMap("A", "a1", "1000"))
	put(t, c, table, rec)
	claimWriteRefused(t, c, claimWrite{table: table, version: "B", beat: "b1", since: "2000", stale: "a0"}, rec)
	rec = claimWriteOK(t, c, claimWrite{table: table, version: "B", beat: "b1", since: "2000", stale: "a1"}, rec)
	claimWriteRefused(t, c, claimWrite{table: table, version: "D", beat: "d1", since: "3000", stale: "a1"}, rec)
}

func acquireOK(t *testing.T, c api, a acquisition, token string) {
	t.Helper()
	prev := get(t, c, a.table, item{"key": S("k")})
	got, err := a.request().send(c)
	mustOK(t, err)
	wantItem(t, "UPDATED_OLD of the acquire of "+a.version, got, replaced(prev))
	wantItem(t, "record after the acquire of "+a.version, get(t, c, a.table, item{"key": S("k")}), a.acquired(token))
}

func acquireRefused(t *testing.T, c api, a acquisition, rec item) {
	t.Helper()
	_, err := a.request().send(c)
	wantConditionFailed(t, err, "UpdateItem", rec)
	wantItem(t, "record after the refused acquire of "+a.version, get(t, c, a.table, item{"key": S("k")}), rec)
}

// Without a claim the gate is open to all (and REMOVE #c of nothing is no
// error); with one, a released record goes to the claimant only, whose
// write removes the claim. A missing record has no claim.
func caseAcquireGate(t *testing.T, c api) {
	table := lockTable(t, c)
	put(t, c, table, record("k", "v0", "7", true))
	acquireOK(t, c, acquisition{table: table, version: "Y", data: "payload"}, "8")

	rec := withClaim(record("k", "v0", "7", true), claimMap("X", "x1", "1000"))
	put(t, c, table, rec)
	acquireRefused(t, c, acquisition{table: table, version: "Y"}, rec)
	acquireOK(t, c, acquisition{table: table, version: "X"}, "8")

	_, err := c.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: aws.String(table), Key: item{"key": S("k")}})
	mustOK(t, err)
	acquireOK(t, c, acquisition{table: table, version: "Z"}, "1732540000000001")
}

// A stale claim is passed at its beat only, and the write removes it.
func caseAcquireGateStale(t *testing.T, c api) {
	table := lockTable(t, c)
	rec := withClaim(record("k", "v0", "7", true), claimMap("X", "x1", "1000"))
	put(t, c, table, rec)
	acquireRefused(t, c, acquisition{table: table, version: "Y", stale: "x0"}, rec)
	acquireOK(t, c, acquisition{table: table, version: "Y", stale: "x1"}, "8")
}

// The gate adds to the earlier condition, never replaces it: the claimant
// of a held record still needs the takeover, and the takeover still needs
// the gate.
func caseAcquireGateHeld(t *testing.T, c api) {
	table := lockTable(t, c)
	rec := withClaim(record("k", "v0", "7", false), claimMap("X", "x1", "1000"))
	put(t, c, table, rec)
	acquireRefused(t, c, acquisition{table: table, version: "X"}, rec)
	acquireRefused(t, c, acquisition{table: table, version: "Y", takeover: "v0"}, rec)
	acquireOK(t, c, acquisition{table: table, version: "X", takeover: "v0"}, "8")
}

// The deadline clause, parenthesized inside the first half, combines with
// the gate the same way.
func caseAcquireGateClock(t *testing.T, c api) {
	table := lockTable(t, c)
	rec := withClaim(record("k", "v0", "7", false), claimMap("X", "x1", "1000"))
	rec["deadline_ms"], rec["stamped_version"], rec["sent_ms"] = N("1732539999999"), S("v0"), N("1732539999389")
	put(t, c, table, rec)
	acquireRefused(t, c, acquisition{table: table, version: "Y", deadline: true}, rec)
	acquireOK(t, c, acquisition{table: table, version: "X", deadline: true, data: "d"}, "8")

	rec["stamped_version"] = S("an-earlier-version") // the deadline no longer counts
	put(t, c, table, rec)
	acquireRefused(t, c, acquisition{table: table, version: "X", deadline: true}, rec)
}

// unclaim is the library's unclaim (wire.Unclaim), which asks for no item
// on failure; allOld asks for it, to pin what DynamoDB would send.
func unclaim(table, version string, allOld bool) *update {
	u := &update{in: wire.Unclaim(lockItem(table, "k"), version)}
	if allOld {
		u.allOldOnFailure()
	}
	return u
}

// An unclaim removes only its own claim. It fails, leaving the item as it
// was, on an item without a claim, with another's claim, or with a claim
// that is not a map, and on a missing item, which it does not create.
func caseUnclaim(t *testing.T, c api) {
	table := lockTable(t, c)
	key := item{"key": S("k")}
	for _, rec := range []item{
		record("k", "v0", "7", true),
		withClaim(record("k", "v0", "7", true), claimMap("Y", "y1", "1000")),
		withClaim(record("k", "v0", "7", true), S("X")),
		withClaim(record("k", "v0", "7", true), M(item{"beat": S("x1")})),
	} {
		put(t, c, table, rec)
		_, err := unclaim(table, "X", true).send(c)
		wantConditionFailed(t, err, "UpdateItem", rec)
		_, err = unclaim(table, "X", false).send(c)
		wantConditionFailed(t, err, "UpdateItem", nil)
		wantItem(t, "record after refused unclaims", get(t, c, table, key), rec)
	}

	rec := record("k", "v0", "7", false)
	put(t, c, table, withClaim(rec, claimMap("X", "x1", "1000")))
	got, err := unclaim(table, "X", false).send(c)
	mustOK(t, err)
	wantItem(t, "Attributes without ReturnValues", got, nil)
	wantItem(t, "record after the unclaim", get(t, c, table, key), rec)

	_, err = c.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: aws.String(table), Key: key})
	mustOK(t, err)
	_, err = unclaim(table, "X", true).send(c)
	wantConditionFailed(t, err, "UpdateItem", nil)
	if got := get(t, c, table, key); got != nil {
		t.Errorf("a refused unclaim created %s", show(got))
	}
}

// claimNames and claimValues are the placeholders the path cases draw
// from; each condition gets those it uses, as DynamoDB refuses unused ones.
var (
	claimNames  = map[string]string{"#c": "claim", "#cv": "version", "#cs": "since_ms", "#cb": "beat"}
	claimValues = item{":me": S("X"), ":since": N("2000"), ":cstale": S("x1"), ":full": claimMap("X", "x1", "1000"),
		":partial": M(item{"version": S("X")}), ":empty": M(item{}), ":big": N("99999999999999")}
	placeholder = regexp.MustCompile(`[#:][A-Za-z0-9_]+`)
)

// holdsOn reports whether expr holds for ck's item, with the placeholders
// it uses taken from claimNames and claimValues.
func holdsOn(ck checker, expr string) bool {
	ck.t.Helper()
	var names []string
	vals := item{}
	for _, p := range placeholder.FindAllString(expr, -1) {
		if n, ok := claimNames[p]; ok {
			names = append(names, p, n)
		} else if v, ok := claimValues[p]; ok {
			vals[p] = v
		}
	}
	return ck.holds(expr, vals, names...)
}

// claimShapes are the claims a record may hold, most of them damaged: the
// path cases evaluate every condition on each.
var claimShapes = []struct {
	name  string
	claim types.AttributeValue // nil: no claim
}{
	{"none", nil},
	{"full", claimMap("X", "x1", "1000")},
	{"partial", M(item{"version": S("X")})},
	{"empty", M(item{})},
	{"string", S("X")},
	{"list", L(claimMap("X", "x1", "1000"))},
	{"since-as-string", M(item{"version": S("Y"), "beat": S("x1"), "since_ms": S("1000")})},
}

// claimPathCases give, for each condition, whether it holds on each of
// claimShapes in order. A path that is missing, or runs through a value
// that is not a map, compares false with =, <, IN and the rest, and true
// with <>; a map compares equal only to the same map.
var claimPathCases = []struct {
	expr string
	want [7]bool
}{
	{"#c.#cv = :me", [7]bool{false, true, true, false, false, false, false}},
	{"#c.#cs < :since", [7]bool{false, true, false, false, false, false, false}},
	{"#c.#cs > :since", [7]bool{}},
	{"NOT #c.#cs < :since", [7]bool{true, false, true, true, true, true, true}},
	{"#c.#cs <> :since", [7]bool{true, true, true, true, true, true, true}},
	{"#c.#cs < :big", [7]bool{false, true, false, false, false, false, false}},
	{"#c.#cv IN (:me, :cstale)", [7]bool{false, true, true, false, false, false, false}},
	{"#c.#cb = :cstale", [7]bool{false, true, false, false, false, false, true}},
	{"attribute_exists(#c.#cs)", [7]bool{false, true, false, false, false, false, true}},
	{"attribute_not_exists(#c.#cv)", [7]bool{true, false, false, true, true, true, false}},
	{"attribute_not_exists(#c) OR #c.#cv = :me OR #c.#cs > :since", [7]bool{true, true, true, false, false, false, false}},
	{"attribute_not_exists(#c) OR #c.#cv = :me OR #c.#cb = :cstale", [7]bool{true, true, true, false, false, false, true}},
	{"#c = :full", [7]bool{false, true, false, false, false, false, false}},
	{"#c = :partial", [7]bool{false, false, true, false, false, false, false}},
	{"#c = :empty", [7]bool{false, false, false, true, false, false, false}},
	{"#c <> :full", [7]bool{true, false, true, true, true, true, true}},
	{"#c.#cs = :empty", [7]bool{}},
	{"#c.#cs <> :empty", [7]bool{true, true, true, true, true, true, true}},
	{"#c.#cv = :partial", [7]bool{}},
	{"#c[0].#cv = :me", [7]bool{false, false, false, false, false, true, false}},
}

// The claim conditions on claims that are missing, partial, empty or of
// another type: none is an error, each is true or false as on DynamoDB.
func caseClaimPaths(t *testing.T, c api) {
	table := lockTable(t, c)
	for i, sh := range claimShapes {
		key := item{"key": S("k-" + sh.name)}
		rec := withClaim(record("k-"+sh.name, "v0", "7", true), sh.claim)
		put(t, c, table, rec)
		ck := checker{t: t, c: c, table: table, key: key}
		for _, tc := range claimPathCases {
			if got := holdsOn(ck, tc.expr); got != tc.want[i] {
				t.Errorf("claim %s: %q = %v, want %v", sh.name, tc.expr, got, tc.want[i])
			}
		}
	}
}

// Refused whatever the item holds: an ordering comparison with a map, and,
// on an item without a claim, a nested SET or REMOVE under it. The library
// therefore writes the claim whole and removes it whole.
func caseClaimPathErrors(t *testing.T, c api) {
	table := lockTable(t, c)
	put(t, c, table, record("k", "v0", "7", true))
	key := item{"key": S("k")}
	_, err := newUpdate(table, key, "SET scratch = :me").cond("#c.#cs > :empty").
		names("#c", "claim", "#cs", "since_ms").values(item{":me": S("X"), ":empty": M(item{})}).send(c)
	wantValidation(t, err, "UpdateItem", "Incorrect operand type for operator or function", "operator or function: >")
	_, err = newUpdate(table, key, "SET #c.#cb = :b").names("#c", "claim", "#cb", "beat").values(item{":b": S("x2")}).send(c)
	wantValidation(t, err, "UpdateItem", "The document path provided in the update expression is invalid for update")
	_, err = newUpdate(table, key, "REMOVE #c.#cb").names("#c", "claim", "#cb", "beat").send(c)
	wantValidation(t, err, "UpdateItem", "The document path provided in the update expression is invalid for update")
	wantItem(t, "record after refused updates", get(t, c, table, key), record("k", "v0", "7", true))
}

// recorder keeps every UpdateItem the library sends through it, once its
// reply is in.
type recorder struct {
	api
	mu  sync.Mutex
	ins []*dynamodb.UpdateItemInput
}

func (r *recorder) UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error) {
	out, err := r.api.UpdateItem(ctx, in, optFns...)
	r.mu.Lock()
	r.ins = append(r.ins, in)
	r.mu.Unlock()
	return out, err
}

// count returns how many of the recorded writes package wire classifies
// as op.
func (r *recorder) count(op wire.Op) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, in := range r.ins {
		if wire.Classify(in) == op {
			n++
		}
	}
	return n
}

// loseTurn makes the waiter whose writes rec records lose a turn, which
// it must before it claims one: once its first acquire write since before
// acquire writes has its reply, the holder (mh) unlocks and locks again
// at once. The waiter's first read comes a quarter of a second (less the
// jitter) after that write, long after the re-lock.
func loseTurn(t *testing.T, rec *recorder, before int, mh *dynamutex.Mutex) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); rec.count(wire.OpAcquire) == before; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the waiter made no acquire write")
		}
	}
	mustOK(t, mh.Unlock(ctx))
	_, err := mh.Lock(ctx)
	mustOK(t, err)
}

// shapes returns the distinct shapes of the recorded writes that package
// wire classifies as op.
func (r *recorder) shapes(op wire.Op) []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	seen := map[string]bool{}
	for _, in := range r.ins {
		if wire.Classify(in) == op {
			seen[shapeOf(in)] = true
		}
	}
	return slices.Sorted(maps.Keys(seen))
}

// shapeOf is everything of a request but its values: the expressions, the
// names, which values it binds, and what it asks back.
func shapeOf(in *dynamodb.UpdateItemInput) string {
	var names []string
	for k, v := range in.ExpressionAttributeNames {
		names = append(names, k+"="+v)
	}
	slices.Sort(names)
	return fmt.Sprintf("update %q condition %q names %v values %v returns %q/%q", aws.ToString(in.UpdateExpression),
		aws.ToString(in.ConditionExpression), names, slices.Sorted(maps.Keys(in.ExpressionAttributeValues)),
		in.ReturnValues, in.ReturnValuesOnConditionCheckFailure)
}

// waitForClaim polls key "k" until its claim is present (want) or gone.
func waitForClaim(t *testing.T, c api, table string, want bool) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if _, ok := get(t, c, table, item{"key": S("job")})["claim"]; ok == want {
			return
		}
	}
	t.Fatalf("the claim never became present=%v", want)
}

// The requests above are the library's: a waiter that starves behind a
// holder that re-locks claims, acquires through the gate and releases, and a waiter that
// gives up with a claim has it removed, each with the one shape that
// package wire builds for it, so the library sends nothing wire does not
// build.
func caseLibraryClaimShapes(t *testing.T, c api) {
	table := tableName(t, c)
	rec := &recorder{api: c}
	holder := librarySession(t, c, table, dynamutex.WithOwner("holder"))
	waiter := librarySession(t, rec, table, dynamutex.WithOwner("waiter"))
	mh, mw := holder.NewMutex("job"), waiter.NewMutex("job")
	_, err := mh.Lock(ctx)
	mustOK(t, err)
	done := make(chan error, 1)
	go func() {
		_, err := mw.Lock(ctx)
		done <- err
	}()
	loseTurn(t, rec, 0, mh)
	waitForClaim(t, c, table, true)
	mustOK(t, mh.Unlock(ctx))
	mustOK(t, <-done)
	mustOK(t, mw.Unlock(ctx))

	_, err = mh.Lock(ctx)
	mustOK(t, err)
	gctx, giveUp := context.WithCancel(ctx)
	defer giveUp()
	acquires := rec.count(wire.OpAcquire)
	go func() {
		_, err := mw.Lock(gctx)
		done <- err
	}()
	loseTurn(t, rec, acquires, mh)
	waitForClaim(t, c, table, true)
	giveUp()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("Lock behind a live holder, cancelled: %v, want context.Canceled", err)
	}
	waitForClaim(t, c, table, false) // the heartbeat loop's unclaim

	wantShapes(t, "claim writes", rec.shapes(wire.OpClaim), claimWrite{table: table, version: "v", since: "1"}.request())
	wantShapes(t, "acquire writes", rec.shapes(wire.OpAcquire), acquisition{table: table, version: "v"}.request())
	wantShapes(t, "releases", rec.shapes(wire.OpRelease), renewRequest(table, "v", true, "v0"))
	wantShapes(t, "unclaims", rec.shapes(wire.OpUnclaim), unclaim(table, "v", false))
}

func wantShapes(t *testing.T, what string, got []string, want *update) {
	t.Helper()
	w := shapeOf(want.in)
	if len(got) != 1 || got[0] != w {
		t.Errorf("the library's %s have shapes\n  %s\nwant only\n  %s", what, strings.Join(got, "\n  "), w)
	}
}
