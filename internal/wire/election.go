package wire

import (
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// Elections (Session.NewElection). An election is one lock record of the
// native layout whose partition-key value is ElectionKeyPrefix and the
// election's name; its data attribute carries the leader's envelope
// (docs/RECORD.md). User keys may not begin with the prefix, so that a lock
// never collides with an election.
const (
	// ElectionKeyPrefix begins the partition-key value of every election
	// record.
	ElectionKeyPrefix = "dynamutex-election:"
	// ElectionSortValue is the sort-key value of an election record in a
	// table with a sort key.
	ElectionSortValue = "election"
)

// ProclaimArgs are the values of one proclamation: a renewal of the
// leader's record that also writes new data.
type ProclaimArgs struct {
	ReplaceArgs        // Released must be false
	Token       uint64 // the leader's token: the write keeps it
	Data        []byte // the new envelope
}

// Proclaim builds the conditional write that renews the leader's record,
// as Replace does, and sets its data, if the record is still at one of
// a.Current and carries a.Token. It never touches the token, so observers
// never take a proclamation for a new leader. It classifies as OpRenew:
// to the lock protocol it is one.
func Proclaim(a ProclaimArgs) *dynamodb.UpdateItemInput {
	a.Released = false
	in := Replace(a.ReplaceArgs)
	expr := *in.UpdateExpression
	set, rest := expr, ""
	if i := strings.Index(expr, " REMOVE "); i >= 0 {
		set, rest = expr[:i], expr[i:]
	}
	expr = set + ", #d = :d" + rest
	in.UpdateExpression = &expr
	cond := "(" + *in.ConditionExpression + ") AND #t = :t"
	in.ConditionExpression = &cond
	in.ExpressionAttributeNames["#d"], in.ExpressionAttributeNames["#t"] = AttrData, AttrToken
	in.ExpressionAttributeValues[":d"] = &types.AttributeValueMemberB{Value: a.Data}
	in.ExpressionAttributeValues[":t"] = N(a.Token)
	return in
}

// LeasedProclaimArgs are the values of one proclamation of a leader that
// holds its election record under a session lease.
type LeasedProclaimArgs struct {
	Item    Item
	Session string   // the partition-key value of the leader's Session record
	Current []string // the lock versions the record may be at for it still to be the leader's
	Next    string   // the lock version the write sets: fresh at every proclamation
	SentMS  uint64   // the writer's wall clock at send (AttrSent)
	Token   uint64   // the leader's token: the write keeps it
	Data    []byte   // the new envelope
}

// LeasedProclaim builds the conditional write that sets the data of an
// election record held under a session lease, if the record still names
// a.Session, is at one of a.Current and carries a.Token. It renews
// nothing (the Session record's renewals keep the record), sets no TTL,
// as no write of a held record under a session lease does, and writes a
// fresh lock version, so that a retry recognises an earlier attempt that
// landed without a reply. It classifies as OpRenew: to the lock protocol
// it is one, a move of the holder's record from one version to the next.
// It fails with the record (ALL_OLD) otherwise.
func LeasedProclaim(a LeasedProclaimArgs) *dynamodb.UpdateItemInput {
	u := Native.newUpdate(Stamp{Sent: a.SentMS}, ValNext, a.Next, time.Time{})
	u.leased("", false)
	u.set("#d = :d")
	u.names["#d"], u.names["#t"], u.names["#ss"] = AttrData, AttrToken, AttrSession
	u.values[":d"] = &types.AttributeValueMemberB{Value: a.Data}
	u.values[":t"], u.values[":ss"] = N(a.Token), S(a.Session)
	return u.input(a.Item, u.atLockVersion(a.Current)+" AND #ss = :ss AND #t = :t")
}
