package wire

import (
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// Session leases (WithSessionLease). A Session that opts in keeps one
// Session record in the lock table and renews that record alone, once per
// heartbeat period, however many locks it holds. Each lock record it holds
// names the Session record (AttrSession) instead of carrying a version that
// changes at every renewal.
//
// The Session record is a record of the native layout with no token: its
// owner, version, lease, released mark, clock stamp and expiry have their
// usual meaning. Its version changes at every renewal; a Session record
// whose version was watched unchanged for its lease, or whose deadline has
// passed, is revoked by a write that marks it released, conditioned on what
// was watched. A revoked Session never renews again (its renewal is
// conditioned on its version), so that every lock it holds is lost at once,
// and a lock record whose Session record is released or gone may be taken
// at once by anyone who has read that.
const (
	// AttrSession names, in a lock record held under a session lease, the
	// partition-key value of the Session record whose lease keeps it.
	AttrSession = "session"
	// AttrLockVersion is the version of a lock record held under a session
	// lease: fresh at its acquire and its release, and, for an election
	// record, at each Proclaim (LeasedProclaim); unchanged otherwise.
	// It has a name of its own, and such a record has no AttrVersion, so
	// that a release before session leases, whose every write that takes
	// a lock is conditioned on AttrVersion, refuses the record as damaged
	// rather than watch a version that never changes and take it over.
	AttrLockVersion = "lock_version"
	// SessionKeyPrefix begins the partition-key value of every Session
	// record: user keys may not begin with it, so that a Session record
	// never collides with a lock.
	SessionKeyPrefix = "dynamutex-session:"
	// SessionSortValue is the sort-key value of a Session record in a
	// table with a sort key.
	SessionSortValue = "session"
)

// MaxDead is how many dead Sessions one acquire may name (AcquireArgs.Dead).
const MaxDead = 16

// deadClause is the part of an acquire condition that lets the write take
// a record held under the lease of any of the Sessions dead, which the
// writer has read as released or gone: such a Session can never renew
// again, so its locks are free. The record must have no AttrVersion, which
// a per-lock writer (of this release or the previous one) sets when it
// takes the record: then that writer holds it, whatever AttrSession says.
func (u *update) deadClause(dead []string) string {
	u.names["#ss"] = AttrSession
	ps := make([]string, len(dead))
	for i, d := range dead {
		ps[i] = ":ds" + strconv.Itoa(i)
		u.values[ps[i]] = S(d)
	}
	return "(attribute_not_exists(#v) AND #ss IN (" + strings.Join(ps, ", ") + "))"
}

// leased turns u, a native acquire or release, into one of a record held
// under the session lease of session: the new version goes to
// AttrLockVersion, AttrVersion is removed, and no TTL runs while the
// record is held, since nothing refreshes it (a release sets one).
func (u *update) leased(session string, release bool) {
	for i, c := range u.sets {
		if c == "#v = "+u.vp {
			u.sets[i] = "#lv = " + u.vp
		}
	}
	u.names["#lv"] = AttrLockVersion
	u.remove("#v")
	if session != "" {
		u.names["#ss"], u.values[":ss"] = AttrSession, S(session)
		u.set("#ss = :ss")
	}
	if !release {
		u.names["#e"] = AttrExpires
		u.sets = removeClause(u.sets, "#e = :e")
		delete(u.values, ":e")
		u.remove("#e")
	}
	// The lock record has no deadline of its own: its holder's is the
	// Session record's.
	if removed := removeClause(u.sets, "#dl = "+ValDeadline); len(removed) != len(u.sets) {
		u.sets = removed
		delete(u.values, ValDeadline)
		u.remove("#dl")
	}
}

func removeClause(sets []string, clause string) []string {
	out := sets[:0]
	for _, c := range sets {
		if c != clause {
			out = append(out, c)
		}
	}
	return out
}

// LeasedReleaseArgs are the values of the release of a lock record held
// under a session lease.
type LeasedReleaseArgs struct {
	Item    Item
	Current []string // the lock versions the record may be at for it still to be the writer's
	Next    string   // the lock version the release writes
	Expires time.Time
	SentMS  uint64 // the writer's wall clock at send (AttrSent)
}

// LeasedRelease builds the release of a lock record held under a session
// lease: it marks the record released at a fresh lock version, with a TTL,
// if it is still at one of a.Current. It fails with the record (ALL_OLD)
// otherwise.
func LeasedRelease(a LeasedReleaseArgs) *dynamodb.UpdateItemInput {
	u := Native.newUpdate(Stamp{Sent: a.SentMS}, ValNext, a.Next, a.Expires)
	u.leased("", true)
	u.set(releaseClause)
	u.names["#r"], u.values[":true"] = AttrReleased, boolean(true)
	return u.input(a.Item, u.atLockVersion(a.Current))
}

// atLockVersion is the condition that a record held under a session lease
// is still at one of the lock versions current: it carries no version
// (a per-lock writer that took it would have written one), and its lock
// version is one of them.
func (u *update) atLockVersion(current []string) string {
	conds := make([]string, len(current))
	for i, v := range current {
		p := ValCurrent + strings.Repeat("x", i)
		conds[i] = "#lv = " + p
		u.values[p] = S(v)
	}
	return "attribute_not_exists(#v) AND (" + strings.Join(conds, " OR ") + ")"
}

// SessionCreateArgs are the values of the write that creates a Session
// record.
type SessionCreateArgs struct {
	Item    Item // the Session record; Layout is ignored (always Native)
	Owner   string
	Version string
	Lease   time.Duration
	Expires time.Time
	Stamp   Stamp
}

// SessionCreate builds the write that creates a Session record, if no
// record has that key. A retry whose first attempt landed unheard fails
// with the record (ALL_OLD), which carries a.Version.
func SessionCreate(a SessionCreateArgs) *dynamodb.UpdateItemInput {
	u := Native.newUpdate(a.Stamp, ValNext, a.Version, a.Expires)
	u.names["#o"], u.names["#l"], u.names["#r"], u.names["#pk"] = AttrOwner, AttrLease, AttrReleased, a.Item.PartitionKey
	u.values[":o"], u.values[":l"], u.values[":f"] = S(a.Owner), N(uint64(a.Lease/time.Millisecond)), boolean(false)
	u.set("#o = :o", "#l = :l", createClause)
	return u.input(a.Item, "attribute_not_exists(#pk)")
}

// RevokeArgs are the values of the write that revokes a Session record.
type RevokeArgs struct {
	Item Item
	// Watched is the version the writer has watched unchanged for the
	// Session's lease, or "".
	Watched string
	// Before, when Watched is "", is the writer's clock less its bound,
	// Unix ms: the write revokes a record whose deadline is before it.
	Before  uint64
	Next    string // the version the revocation writes
	SentMS  uint64
	Expires time.Time
}

// Revoke builds the write that revokes a Session record: it marks the
// record released at a fresh version, if the record is still at the
// version watched, or past its deadline under that version. Its holder's
// next renewal fails, and every lock record naming the Session may be
// taken at once. It fails with the record (ALL_OLD) otherwise.
func Revoke(a RevokeArgs) *dynamodb.UpdateItemInput {
	u := Native.newUpdate(Stamp{Sent: a.SentMS}, ValNext, a.Next, a.Expires)
	u.set(releaseClause)
	u.names["#r"], u.values[":true"] = AttrReleased, boolean(true)
	cond := "#v = " + ValTakeover
	if a.Watched != "" {
		u.values[ValTakeover] = S(a.Watched)
	} else {
		cond = "#dl < " + ValBefore + " AND #sv = #v"
		u.values[ValBefore] = N(a.Before)
	}
	u.values[":f"] = boolean(false)
	return u.input(a.Item, "#r = :f AND "+cond)
}

// SessionGuard builds the ConditionCheck that holds while the Session
// record of it is not released: a GuardedWrite of a lock held under a
// session lease carries it beside the lock record's guard, so that a
// holder whose Session was revoked cannot write, even before anyone has
// taken its lock.
func SessionGuard(it Item) types.TransactWriteItem {
	return types.TransactWriteItem{ConditionCheck: &types.ConditionCheck{
		TableName:                           aws.String(it.Table),
		Key:                                 it.KeyMap(),
		ConditionExpression:                 aws.String("#r = :f"),
		ExpressionAttributeNames:            map[string]string{"#r": AttrReleased},
		ExpressionAttributeValues:           map[string]types.AttributeValue{":f": boolean(false)},
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
	}}
}
