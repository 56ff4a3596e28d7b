package wire

import (
	"fmt"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// Attribute names of a lock record, besides the table's key attributes. They
// are fixed so that every Session reads every other Session's records.
const (
	AttrOwner    = "owner"    // S: the owner of the last acquisition, for people
	AttrVersion  = "version"  // S: a fresh random value at every write; exclusion rests on it
	AttrToken    = "token"    // N: the fencing token, one more at every acquisition
	AttrLease    = "lease_ms" // N: the lease the holder asks waiters to respect, in milliseconds
	AttrReleased = "released" // BOOL: the last holder released the lock; it is free
	AttrData     = "data"     // B: the data stored with the lock, absent when there is none
	// AttrSent is the writer's wall clock when it sent the write, in Unix
	// milliseconds: a hint for people and for callers deciding whether a
	// holder looks dead, never a proof.
	AttrSent = "sent_ms"
	// AttrDeadline is, in Unix milliseconds, when a holder that declared a
	// clock bound (WithClockBound) stops counting on its lease: its wall
	// clock at send, plus the lease, plus its bound. Other Sessions with a
	// bound may take the record over once their own clock, less their bound,
	// has passed it. An acquisition or renewal without a trusted bound, and
	// every release, removes it, so that an old deadline never outlives the
	// write that stood behind it.
	AttrDeadline = "deadline_ms"
	// AttrStamped is the version that the write which set AttrSent and
	// AttrDeadline wrote. Releases before these attributes existed change the
	// version without touching them, so they count only while AttrStamped
	// equals the record's version: a stale deadline left under a holder that
	// does not know about deadlines can never make that holder look dead.
	AttrStamped = "stamped_version"
	// AttrClaim is a map naming the waiter that claimed the next turn (its
	// fields are the Claim* names): while it stands, only that waiter's
	// acquire write passes. A claim decides who goes next, never whether two
	// may hold the lock, so a release that ignores it (the previous one)
	// costs fairness, not exclusion.
	AttrClaim = "claim"
	// AttrExpires holds the epoch second after which DynamoDB's TTL may
	// delete an idle record. CreateTable enables TTL on it. It is only for
	// clean-up: the library never decides a takeover by comparing it with a
	// clock.
	AttrExpires = "expires_at"
)

// Field names inside the claim map (AttrClaim).
const (
	ClaimVersion = "version"  // S: the claimant's acquisition version: its acquire write passes the gate
	ClaimOwner   = "owner"    // S: the claimant's owner, for people
	ClaimSince   = "since_ms" // N: the claimant's wall clock when its Lock call began, Unix ms: earlier wins
	ClaimBeat    = "beat"     // S: changes at every claim write: a claim unchanged for its lease is dead
	ClaimLease   = "lease_ms" // N: the claimant's lease, in milliseconds
)

// Attributes returns the names of every attribute of a lock record but the
// table's keys, which therefore cannot serve as key attribute names.
func Attributes() []string {
	return []string{AttrOwner, AttrVersion, AttrToken, AttrLease, AttrReleased, AttrData,
		AttrSent, AttrDeadline, AttrStamped, AttrClaim, AttrExpires, AttrSession, AttrLockVersion}
}

// TypeName is the DynamoDB type of an attribute value as DynamoDB writes it
// in messages and JSON (S, N, B, BOOL, NULL, SS, NS, BS, L, M), or its Go
// type for anything else.
func TypeName(v types.AttributeValue) string {
	switch v.(type) {
	case *types.AttributeValueMemberS:
		return "S"
	case *types.AttributeValueMemberN:
		return "N"
	case *types.AttributeValueMemberB:
		return "B"
	case *types.AttributeValueMemberBOOL:
		return "BOOL"
	case *types.AttributeValueMemberNULL:
		return "NULL"
	case *types.AttributeValueMemberSS:
		return "SS"
	case *types.AttributeValueMemberNS:
		return "NS"
	case *types.AttributeValueMemberBS:
		return "BS"
	case *types.AttributeValueMemberL:
		return "L"
	case *types.AttributeValueMemberM:
		return "M"
	}
	return fmt.Sprintf("%T", v)
}
