package wire

import (
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// Value placeholders that observers of the wire read back from a request
// (the chaos transport follows each lease's chain of writes by them).
const (
	ValVersion  = ":v"      // S: the version an acquire writes
	ValNext     = ":nv"     // S: the version a renewal or release writes
	ValCurrent  = ":cur"    // S: the (first) version a renewal or release replaces; more are :cur1, :cur2...
	ValTakeover = ":old"    // S: the version an acquire may take over, watched unchanged for a lease
	ValSent     = ":s"      // N: the writer's wall clock at send, Unix ms (AttrSent)
	ValDeadline = ":dl"     // N: the deadline the write stamps, Unix ms (AttrDeadline)
	ValBefore   = ":before" // N: an acquire takes over records whose deadline is before this, Unix ms
	ValSeed     = ":seed"   // N: the token a missing record starts from, less one (Unix µs)
)

// The marks in the update expressions that the classifier tells the writes
// apart by, shared with the builders below so that one cannot change
// without the other.
const (
	tokenClause   = "#t = if_not_exists(#t, :seed) + :one" // only an acquire seeds the token
	nextClause    = "#v = " + ValNext                      // a renewal or release writes ValNext
	releaseClause = "#r = :true"                           // and only a release marks the record released
	// A release of a record held under a session lease, and a Proclaim
	// of an election record held so, write its lock version instead, and
	// only a Session record's creation, of the writes without a token,
	// marks a record not released.
	leasedNextClause = "#lv = " + ValNext
	createClause     = "#r = :f"
	claimUpdate      = "SET #c = :claim"
	unclaimUpdate    = "REMOVE #c"
)

// Item names one lock record: its table and its key.
type Item struct {
	Table        string
	PartitionKey string // the name of the table's partition-key attribute
	Key          string // the partition-key value
	SortKey      string // the name of the table's sort-key attribute; "" for a table without one
	Sort         string // the sort-key value
	// Layout is the attribute layout the writes of a Session use; the zero
	// Layout is Native.
	Layout Layout
}

// layout is the item's layout, Native for the zero one.
func (it Item) layout() Layout { return it.Layout.orNative() }

// KeyMap returns the record's key as DynamoDB takes it.
func (it Item) KeyMap() map[string]types.AttributeValue {
	k := map[string]types.AttributeValue{it.PartitionKey: S(it.Key)}
	if it.SortKey != "" {
		k[it.SortKey] = S(it.Sort)
	}
	return k
}

// Stamp is the clock part of an acquire or renewal: the writer's wall clock
// at send and, while a clock bound is trusted, the deadline other Sessions
// may take the record over after, and the clock reading below which an
// acquire may do so.
type Stamp struct {
	Sent     uint64 // Unix ms
	Deadline uint64 // Unix ms; 0: no deadline
	Before   uint64 // Unix ms: an acquire takes over records whose deadline is before this
}

// N is a number attribute value.
func N(v uint64) types.AttributeValue {
	return &types.AttributeValueMemberN{Value: strconv.FormatUint(v, 10)}
}

// S is a string attribute value.
func S(v string) types.AttributeValue { return &types.AttributeValueMemberS{Value: v} }

func boolean(v bool) types.AttributeValue { return &types.AttributeValueMemberBOOL{Value: v} }

// update is the shape every acquire and replace shares: a new version, a
// fresh expiry and the clock stamp (AttrSent, AttrStamped, and AttrDeadline
// while a bound is trusted, removed otherwise).
type update struct {
	sets, removes []string
	names         map[string]string
	values        map[string]types.AttributeValue
	vp            string // the new version's placeholder
}

// newUpdate starts a write of version in layout l, whose placeholder is
// vp: ValVersion for an acquisition, ValNext for a renewal or release.
func (l Layout) newUpdate(st Stamp, vp, version string, expires time.Time) *update {
	u := &update{
		names:  map[string]string{"#v": l.Version, "#s": AttrSent, "#sv": AttrStamped, "#dl": AttrDeadline},
		values: map[string]types.AttributeValue{ValSent: N(st.Sent), vp: S(version)},
		vp:     vp,
	}
	u.set("#v = " + vp)
	if l.Expires != "" {
		u.names["#e"], u.values[":e"] = l.Expires, N(uint64(expires.Unix()))
		u.set("#e = :e")
	}
	u.set("#s = "+ValSent, "#sv = "+vp)
	if st.Deadline != 0 {
		u.set("#dl = " + ValDeadline)
		u.values[ValDeadline] = N(st.Deadline)
	} else {
		u.remove("#dl")
	}
	return u
}

func (u *update) set(clauses ...string)  { u.sets = append(u.sets, clauses...) }
func (u *update) remove(names ...string) { u.removes = append(u.removes, names...) }

// input builds the UpdateItem request of u on it, conditional on cond.
func (u *update) input(it Item, cond string) *dynamodb.UpdateItemInput {
	expr := "SET " + strings.Join(u.sets, ", ")
	if len(u.removes) > 0 {
		expr += " REMOVE " + strings.Join(u.removes, ", ")
	}
	return &dynamodb.UpdateItemInput{
		TableName:                           aws.String(it.Table),
		Key:                                 it.KeyMap(),
		UpdateExpression:                    aws.String(expr),
		ConditionExpression:                 aws.String(cond),
		ExpressionAttributeNames:            u.names,
		ExpressionAttributeValues:           u.values,
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
	}
}

// AcquireArgs are the values of one acquire write.
type AcquireArgs struct {
	Item    Item
	Owner   string
	Version string        // the version this attempt writes
	Lease   time.Duration // stored in whole milliseconds
	// Seed is the clock reading, in Unix microseconds, that seeds the token
	// of a missing record, so that a record removed by TTL does not restart
	// the count.
	Seed    time.Time
	Expires time.Time // stored in epoch seconds (AttrExpires)
	Stamp   Stamp
	// Takeover, when set, is a version the writer has watched unchanged for
	// a whole lease: the write may replace it.
	Takeover string
	// StaleClaim, when set, is the beat of a claim the writer has watched
	// unchanged for its lease: the write may pass it.
	StaleClaim string
	Data       []byte // nil or empty: the write removes the record's data
	// Session, when set, is the partition-key value of the writer's Session
	// record: the write holds the lock under that Session's lease
	// (session.go), and a deadline in Stamp only lets it take records by
	// clock, without being stamped.
	Session string
	// Dead lists up to MaxDead Sessions the writer has read as revoked or
	// gone: the write may take a record held under the lease of any of
	// them.
	Dead []string
}

// Acquire builds the conditional write that takes the lock if the record is
// missing, released, still at a.Takeover, or (with a deadline in a.Stamp)
// past a deadline stamped under its current version; and no claim but the
// writer's own, or a stale one, stands. The token grows by one; the write
// removes the claim. It returns the written attributes as they were before
// (UPDATED_OLD), which tell how the lock came (no record, a released one, a
// takeover) and, one added, the new token; on a condition failure it
// returns the record that holds the lock (ALL_OLD).
func Acquire(a AcquireArgs) *dynamodb.UpdateItemInput {
	l := a.Item.layout()
	u := l.newUpdate(a.Stamp, ValVersion, a.Version, a.Expires)
	u.holdRecord(a)
	u.names["#pk"] = a.Item.PartitionKey
	u.values[":true"] = l.releasedValue()
	cond := "attribute_not_exists(#pk) OR #r = :true"
	if l.Client == ClientPython {
		// Python's own client never writes the mark, so it counts only
		// under a version this library wrote.
		cond = "attribute_not_exists(#pk) OR (#r = :true AND #sv = #v)"
	}
	if a.Takeover != "" {
		cond += " OR #v = " + ValTakeover
		u.values[ValTakeover] = S(a.Takeover)
	}
	if a.Stamp.Deadline != 0 {
		// The deadline counts only under the version its write made: a
		// holder of an earlier release renews without touching it.
		cond += " OR (#dl < " + ValBefore + " AND #sv = #v)"
		u.values[ValBefore] = N(a.Stamp.Before)
	}
	if len(a.Dead) > 0 {
		cond += " OR " + u.deadClause(a.Dead[:min(len(a.Dead), MaxDead)])
	}
	// A claim stands in the way of everyone but its claimant, whose write
	// removes it, as does a write that passes a stale one.
	cond = "(" + cond + ") AND (" + u.claimGate(a.StaleClaim) + ")"
	// A record that carries another layout's version may have a live
	// holder that writes that layout, whatever this layout's attributes
	// say: only CrossTakeover, conditioned on that version, may replace it.
	cond += u.othersAbsent(l, []Layout{l})
	u.remove("#c")
	if a.Session != "" {
		u.leased(a.Session, false)
	}
	in := u.input(a.Item, cond)
	in.ReturnValues = types.ReturnValueUpdatedOld
	return in
}

// holdRecord sets what every write that takes a lock stores: the owner,
// the lease, released false, the token one more than before (or than the
// seed, on a record without one), and the data, or no data.
func (u *update) holdRecord(a AcquireArgs) {
	l := a.Item.layout()
	u.names["#o"], u.names["#t"], u.names["#l"], u.names["#r"], u.names["#d"] =
		l.Owner, AttrToken, l.Lease, l.Released, AttrData
	u.values[":o"] = S(a.Owner)
	u.values[":l"] = l.LeaseValue(a.Lease)
	u.values[ValSeed] = N(uint64(a.Seed.UnixMicro()))
	u.values[":one"] = N(1)
	u.set("#o = :o", "#l = :l")
	if l.Client == ClientJava {
		u.remove("#r") // Java reads the mark's presence as released
	} else {
		u.set("#r = :f")
		u.values[":f"] = boolean(false)
	}
	u.set(tokenClause)
	if len(a.Data) > 0 {
		u.set("#d = :d")
		u.values[":d"] = &types.AttributeValueMemberB{Value: a.Data}
	} else {
		u.remove("#d")
	}
}

// claimGate is the part of every acquire condition that lets the write of
// u's version pass only when no claim stands, the claim is its own, or the
// claim is stale (its beat is stale).
func (u *update) claimGate(stale string) string {
	u.names["#c"], u.names["#cv"] = AttrClaim, ClaimVersion
	gate := "attribute_not_exists(#c) OR #c.#cv = " + u.vp
	if stale != "" {
		gate += " OR #c.#cb = :cstale"
		u.names["#cb"], u.values[":cstale"] = ClaimBeat, S(stale)
	}
	return gate
}

// ReplaceArgs are the values of one renewal or release.
type ReplaceArgs struct {
	Item Item
	// Current lists the versions the record may be at for it still to be
	// the writer's: the one it confirmed and, while a renewal is in doubt,
	// the one that renewal wrote.
	Current  []string
	Next     string // the version the write makes
	Released bool   // a release rather than a renewal
	Expires  time.Time
	Stamp    Stamp // Before is unused; a release drops Deadline
}

// Replace builds the conditional write that moves a record the writer holds
// to a.Next: a renewal, or a release. It fails its condition, returning the
// record (ALL_OLD), when the record is at none of a.Current.
func Replace(a ReplaceArgs) *dynamodb.UpdateItemInput {
	l := a.Item.layout()
	st := a.Stamp
	if a.Released {
		st.Deadline = 0 // a released record is free to all; nothing to time
	}
	u := l.newUpdate(st, ValNext, a.Next, a.Expires)
	cond := ""
	for i, v := range a.Current {
		name := ValCurrent
		if i > 0 {
			name += strconv.Itoa(i)
			cond += " OR "
		}
		cond += "#v = " + name
		u.values[name] = S(v)
	}
	if a.Released {
		u.set(releaseClause)
		u.names["#r"] = l.Released
		u.values[":true"] = l.releasedValue()
		if l.Client == ClientPython {
			u.set("#l = :l")
			u.names["#l"], u.values[":l"] = l.Lease, l.LeaseValue(ReleasedLease)
		}
	}
	return u.input(a.Item, cond)
}

// Claim is the claim map of a record (AttrClaim).
type Claim struct {
	Version string // the claimant's acquisition version
	Owner   string
	Since   time.Time // the claimant's wall clock when its Lock call began, stored in Unix ms
	Beat    string    // fresh at every claim write
	Lease   time.Duration
}

// ClaimArgs are the values of one claim write.
type ClaimArgs struct {
	Item  Item
	Claim Claim
	Stale string // the beat of a claim watched unchanged for its lease, or ""
}

// ClaimWrite builds the write that sets a.Claim as the record's claim if the
// record exists and has none, if the claim is already the claimant's, if
// the standing one began later, or if the standing one is stale (its beat
// is a.Stale). It fails with the record (ALL_OLD) otherwise.
func ClaimWrite(a ClaimArgs) *dynamodb.UpdateItemInput {
	c := a.Claim
	since := N(uint64(c.Since.UnixMilli()))
	names := map[string]string{"#pk": a.Item.PartitionKey, "#c": AttrClaim, "#cv": ClaimVersion, "#cs": ClaimSince}
	values := map[string]types.AttributeValue{
		":claim": &types.AttributeValueMemberM{Value: map[string]types.AttributeValue{
			ClaimVersion: S(c.Version), ClaimOwner: S(c.Owner), ClaimBeat: S(c.Beat),
			ClaimSince: since, ClaimLease: N(uint64(c.Lease / time.Millisecond)),
		}},
		":me":    S(c.Version),
		":since": since,
	}
	cond := "attribute_exists(#pk) AND (attribute_not_exists(#c) OR #c.#cv = :me OR #c.#cs > :since"
	if a.Stale != "" {
		cond += " OR #c.#cb = :cstale"
		names["#cb"], values[":cstale"] = ClaimBeat, S(a.Stale)
	}
	cond += ")"
	return &dynamodb.UpdateItemInput{
		TableName:                           aws.String(a.Item.Table),
		Key:                                 a.Item.KeyMap(),
		UpdateExpression:                    aws.String(claimUpdate),
		ConditionExpression:                 aws.String(cond),
		ExpressionAttributeNames:            names,
		ExpressionAttributeValues:           values,
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
	}
}

// Unclaim builds the write that removes the claim of version from it, if
// that claim still stands. It asks for no item on failure: a claim that is
// gone needs no more work.
func Unclaim(it Item, version string) *dynamodb.UpdateItemInput {
	return &dynamodb.UpdateItemInput{
		TableName:                 aws.String(it.Table),
		Key:                       it.KeyMap(),
		UpdateExpression:          aws.String(unclaimUpdate),
		ConditionExpression:       aws.String("#c.#cv = :me"),
		ExpressionAttributeNames:  map[string]string{"#c": AttrClaim, "#cv": ClaimVersion},
		ExpressionAttributeValues: map[string]types.AttributeValue{":me": S(version)},
	}
}

// GuardArgs name the acquisition a guard stands for.
type GuardArgs struct {
	Item  Item
	Token uint64
	Owner string
}

// Guard builds the ConditionCheck that holds while the record still carries
// a.Token and a.Owner and is not released. It names the token, not the
// version, so that renewals never make it fail; on failure it returns the
// record (ALL_OLD) in the cancellation reason.
func Guard(a GuardArgs) types.TransactWriteItem {
	l := a.Item.layout()
	cond := "#t = :t AND #o = :o AND #r = :f"
	values := map[string]types.AttributeValue{":t": N(a.Token), ":o": S(a.Owner), ":f": boolean(false)}
	if l.Client == ClientJava {
		cond = "#t = :t AND #o = :o AND attribute_not_exists(#r)"
		delete(values, ":f")
	}
	return types.TransactWriteItem{ConditionCheck: &types.ConditionCheck{
		TableName:                           aws.String(a.Item.Table),
		Key:                                 a.Item.KeyMap(),
		ConditionExpression:                 aws.String(cond),
		ExpressionAttributeNames:            map[string]string{"#t": AttrToken, "#o": l.Owner, "#r": l.Released},
		ExpressionAttributeValues:           values,
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
	}}
}

// WaitRead builds a waiter's read: the lock attributes of the record, and
// those another lock client writes in their place (foreign.go), with
// one strongly consistent GetItem, leaving out the data, which a waiter
// does not need.
func WaitRead(it Item) *dynamodb.GetItemInput {
	return &dynamodb.GetItemInput{
		TableName:      aws.String(it.Table),
		Key:            it.KeyMap(),
		ConsistentRead: aws.Bool(true),
		ProjectionExpression: aws.String("#o, #v, #t, #l, #r, #s, #dl, #sv, #c, #ss, #lv, " +
			"#jo, #jl, #jv, #jr, #po, #pl, #pv, #pe"),
		ExpressionAttributeNames: map[string]string{"#o": AttrOwner, "#v": AttrVersion, "#t": AttrToken,
			"#l": AttrLease, "#r": AttrReleased, "#s": AttrSent, "#dl": AttrDeadline, "#sv": AttrStamped,
			"#c": AttrClaim, "#ss": AttrSession, "#lv": AttrLockVersion,
			"#jo": JavaOwner, "#jl": JavaLease, "#jv": JavaVersion, "#jr": JavaReleased,
			"#po": PythonOwner, "#pl": PythonLease, "#pv": PythonVersion, "#pe": PythonExpiry},
	}
}

// Read builds the read of the whole record, with one strongly consistent
// GetItem.
func Read(it Item) *dynamodb.GetItemInput {
	return &dynamodb.GetItemInput{TableName: aws.String(it.Table), Key: it.KeyMap(), ConsistentRead: aws.Bool(true)}
}

// Scan builds one strongly consistent page of the scan of table from start
// (nil for the first page).
func Scan(table string, start map[string]types.AttributeValue) *dynamodb.ScanInput {
	return &dynamodb.ScanInput{TableName: aws.String(table), ConsistentRead: aws.Bool(true), ExclusiveStartKey: start}
}

// Op is which of the library's writes an UpdateItem request is.
type Op string

// The library's writes, as Classify tells them apart.
const (
	OpAcquire Op = "acquire"
	OpRenew   Op = "renew"
	OpRelease Op = "release"
	OpClaim   Op = "claim"   // a waiter claims the next turn, or re-asserts its claim
	OpUnclaim Op = "unclaim" // a Lock call that gave up removes its claim
	// OpSession creates a Session record (WithSessionLease). Its renewals
	// are OpRenew, and its revocation, or its end at Close, OpRelease, on
	// its key (SessionKeyPrefix).
	OpSession Op = "session"
	OpOther   Op = "other" // none of the library's writes
)

// ClassifyUpdate tells which of the library's writes an UpdateItem request
// is from its update expression, which names every value the write sets.
// The writes of the previous release (testdata/prevrelease) classify the
// same way: they carry the same marks.
func ClassifyUpdate(update string) Op {
	switch {
	case update == claimUpdate:
		return OpClaim
	case update == unclaimUpdate:
		return OpUnclaim
	case strings.Contains(update, tokenClause):
		return OpAcquire
	case strings.Contains(update, leasedNextClause) && strings.Contains(update, releaseClause):
		return OpRelease
	case strings.Contains(update, nextClause) && strings.Contains(update, createClause):
		return OpSession
	case strings.Contains(update, nextClause) && strings.Contains(update, releaseClause):
		return OpRelease
	case strings.Contains(update, nextClause), strings.Contains(update, leasedNextClause):
		// A write that moves a record held under a session lease to a
		// new lock version without releasing it is a Proclaim.
		return OpRenew
	}
	return OpOther
}

// Classify is ClassifyUpdate for an SDK input.
func Classify(in *dynamodb.UpdateItemInput) Op {
	return ClassifyUpdate(aws.ToString(in.UpdateExpression))
}
