package dynamutex

import (
	"context"
	"errors"
	"math"
	"time"

	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go"
	"github.com/aws/smithy-go/middleware"

	"github.com/dynamutex/dynamutex/internal/wire"
)

// DynamoDBAPI is the part of the DynamoDB API the library calls.
// *dynamodb.Client from aws-sdk-go-v2 satisfies it; wrap one to add
// instrumentation or fault injection, or use the in-memory implementation of
// package dynamutextest in unit tests.
//
// Locking calls UpdateItem, and GetItem while a Lock waits. GetItem and
// Scan also serve Session.Inspect and Session.List, BatchGetItem serves a
// Semaphore's reads of its permits, TransactWriteItems serves
// Lease.GuardedWrite, and the table operations serve NewSession and
// CreateTable.
type DynamoDBAPI interface {
	UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error)
	GetItem(ctx context.Context, in *dynamodb.GetItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error)
	Scan(ctx context.Context, in *dynamodb.ScanInput, optFns ...func(*dynamodb.Options)) (*dynamodb.ScanOutput, error)
	BatchGetItem(ctx context.Context, in *dynamodb.BatchGetItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.BatchGetItemOutput, error)
	TransactWriteItems(ctx context.Context, in *dynamodb.TransactWriteItemsInput, optFns ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error)
	DescribeTable(ctx context.Context, in *dynamodb.DescribeTableInput, optFns ...func(*dynamodb.Options)) (*dynamodb.DescribeTableOutput, error)
	CreateTable(ctx context.Context, in *dynamodb.CreateTableInput, optFns ...func(*dynamodb.Options)) (*dynamodb.CreateTableOutput, error)
	UpdateTimeToLive(ctx context.Context, in *dynamodb.UpdateTimeToLiveInput, optFns ...func(*dynamodb.Options)) (*dynamodb.UpdateTimeToLiveOutput, error)
	DescribeTimeToLive(ctx context.Context, in *dynamodb.DescribeTimeToLiveInput, optFns ...func(*dynamodb.Options)) (*dynamodb.DescribeTimeToLiveOutput, error)
}

var _ DynamoDBAPI = (*dynamodb.Client)(nil)

// store sends the library's requests about the records of one table, as
// package wire builds them. Each write that takes or keeps a lock sets a
// fresh version chosen by the caller, so that a write whose reply was lost
// can be recognised afterwards in the ALL_OLD item of a failed retry.
type store struct {
	client DynamoDBAPI
	table  string
	keys   keyNames
	expiry time.Duration
	lease  time.Duration // the lease renewals stamp deadlines with
	clock  *clockCheck   // nil without WithClockBound
	// session is the partition-key value of the Session record under
	// WithSessionLease, "" otherwise: acquires hold their locks under it.
	session string
}

// lockID identifies one lock record.
type lockID struct {
	key, sort string
}

// item names id's record for package wire.
func (s *store) item(id lockID) wire.Item {
	return wire.Item{Table: s.table, PartitionKey: s.keys.partition, Key: id.key, SortKey: s.keys.sort, Sort: id.sort,
		Layout: s.layout()}
}

// layout is the layout of the records this store writes.
func (s *store) layout() wire.Layout {
	l, _ := s.keys.format.layout()
	return l
}

// versionOf is the version item carries in this store's layout, "" if none:
// what tells a write of ours in a returned item.
func (s *store) versionOf(item map[string]types.AttributeValue) string {
	l := s.layout()
	v, err := stringAttr(item, l.Version)
	if err != nil && l.Client == "" {
		// A record held or released under a session lease.
		v, _ = stringAttr(item, wire.AttrLockVersion)
	}
	return v
}

// cross reports whether rec is in another layout than this store writes,
// or in two: only a CrossTakeover may replace it.
func (s *store) cross(rec record) bool {
	return len(rec.watched) != 1 || rec.watched[0].Layout.Client != s.layout().Client
}

// takeableByClock reports whether a write of this store may take rec by
// its clock deadline now. A record in another format is taken only by
// watching: its deadline, if a Session of that format stamped one, is for
// that format's Sessions alone.
func (s *store) takeableByClock(rec record) bool {
	return !s.cross(rec) && s.clock.takeableByClock(rec)
}

// untilClockTakeover is how long until a write of this store may take rec
// by clock, or -1 if it never will (takeableByClock).
func (s *store) untilClockTakeover(rec record) time.Duration {
	if s.cross(rec) {
		return -1
	}
	return s.clock.untilClockTakeover(rec)
}

// acquireReq is one acquisition attempt.
type acquireReq struct {
	id      lockID
	owner   string
	version string // the version this attempt writes
	// takeover, when set, is a version this Session has watched unchanged for a
	// whole lease: the write may replace it.
	takeover string
	// staleClaim, when set, is the beat of a claim this Session has watched
	// unchanged for its lease: the write may pass it.
	staleClaim string
	lease      time.Duration
	data       []byte
	// foreign, when set, is a record in another layout than the Session
	// writes that it may take: released, or watched unchanged for its
	// lease. The write is then CrossTakeover, conditioned on its versions.
	foreign *record
	// dead lists the Sessions this Session has read as revoked or gone,
	// latest first: the write may take a record held under any of their
	// leases.
	dead []string
}

// conditionFailed carries the item a conditional write found instead of the
// one it expected (ReturnValuesOnConditionCheckFailure=ALL_OLD). item is nil
// when there was no item.
type conditionFailed struct {
	item map[string]types.AttributeValue
}

func (c *conditionFailed) Error() string { return "dynamutex: conditional check failed" }

// acquire makes one conditional write that takes the lock if the record is
// missing, released, or still at the takeover version (wire.Acquire). The
// token grows by one on every acquisition; a missing record is seeded from
// the clock in microseconds, so that a record removed by TTL does not
// restart the count. It returns the new token and how the lock came, or a
// *conditionFailed with the record that holds the lock.
func (s *store) acquire(ctx context.Context, r acquireReq) (uint64, AcquiredHow, error) {
	now := time.Now()
	st := s.clock.stampNow(r.lease)
	args := wire.AcquireArgs{
		Item: s.item(r.id), Owner: r.owner, Version: r.version, Lease: r.lease,
		Seed: now, Expires: now.Add(s.expiry), Stamp: st,
		Takeover: r.takeover, StaleClaim: r.staleClaim, Data: r.data, Session: s.session, Dead: r.dead,
	}
	in := wire.Acquire(args)
	if f := r.foreign; f != nil {
		args.Takeover, args.StaleClaim = "", ""
		in = wire.CrossTakeover(wire.CrossArgs{AcquireArgs: args, Watched: f.watched, Released: f.released})
	}
	out, err := s.update(ctx, in)
	if err != nil {
		return 0, 0, asConditionFailed(err)
	}
	return acquiredFrom(r, s.layout(), now, out.Attributes)
}

// acquiredFrom reads what a landed acquire replaced: the attributes it
// wrote, as they were before (UPDATED_OLD). The new token follows by the
// write's own arithmetic, the old token or else the seed, plus one; which
// of the write's conditions held follows from the old record, tested in
// the order that leaves the clock last, as the one condition whose inputs
// the reply does not carry.
func acquiredFrom(r acquireReq, l wire.Layout, seed time.Time, old map[string]types.AttributeValue) (uint64, AcquiredHow, error) {
	if len(old) == 0 && r.foreign == nil {
		return uint64(seed.UnixMicro()) + 1, AcquiredFree, nil
	}
	prev := uint64(seed.UnixMicro())
	if _, ok := old[attrToken]; ok {
		var err error
		if prev, err = tokenOf(old); err != nil {
			return 0, 0, &RecordError{Key: r.id.key, Attribute: attrToken, Problem: err.Error()}
		}
	}
	if prev == math.MaxUint64 {
		// The record now holds a token past uint64, which no Lease can carry.
		return 0, 0, &RecordError{Key: r.id.key, Attribute: attrToken, Problem: "has grown past the largest uint64"}
	}
	how := AcquiredTakeoverClock
	if f := r.foreign; f != nil && f.released {
		how = AcquiredReleased
	} else if f != nil {
		how = AcquiredTakeoverWatched
	} else if wasReleased(l, old) {
		how = AcquiredReleased
	} else if _, had := old[l.Version]; !had && len(r.dead) > 0 {
		// Neither released nor under a version: held under the lease of
		// a dead Session.
		how = AcquiredTakeoverWatched
	} else if v, _ := stringAttr(old, l.Version); r.takeover != "" && v == r.takeover {
		how = AcquiredTakeoverWatched
	}
	return prev + 1, how, nil
}

// wasReleased reports whether the old attributes of a landed acquire in
// layout l carried l's released mark: Java's by its presence, the others'
// as BOOL true.
func wasReleased(l wire.Layout, old map[string]types.AttributeValue) bool {
	v, ok := old[l.Released]
	if l.Client == wire.ClientJava {
		return ok
	}
	b, ok := v.(*types.AttributeValueMemberBOOL)
	return ok && b.Value
}

// update sends one write and checks the clock against its reply.
func (s *store) update(ctx context.Context, in *dynamodb.UpdateItemInput) (*dynamodb.UpdateItemOutput, error) {
	sent := time.Now()
	out, err := s.client.UpdateItem(ctx, in)
	var md middleware.Metadata
	if out != nil {
		md = out.ResultMetadata
	}
	s.clock.observe(sent, md, err)
	return out, err
}

// read fetches the lock attributes of id's record with one strongly
// consistent GetItem, leaving out the data, which a waiter does not need.
// It returns nil for a missing record.
func (s *store) read(ctx context.Context, id lockID) (map[string]types.AttributeValue, error) {
	out, err := s.get(ctx, wire.WaitRead(s.item(id)))
	if err != nil {
		return nil, err
	}
	return out.Item, nil
}

// get sends one read and checks the clock against its reply, as update
// does for writes.
func (s *store) get(ctx context.Context, in *dynamodb.GetItemInput) (*dynamodb.GetItemOutput, error) {
	sent := time.Now()
	out, err := s.client.GetItem(ctx, in)
	var md middleware.Metadata
	if out != nil {
		md = out.ResultMetadata
	}
	s.clock.observe(sent, md, err)
	return out, err
}

// replaceReq moves a record we hold to a new version: a renewal, or a
// release (released=true).
type replaceReq struct {
	id lockID
	// cur lists the versions the record may be at for it still to be ours:
	// the one we confirmed and, while a renewal is in doubt, the one that
	// renewal wrote.
	cur      []string
	next     string
	released bool
}

// replace makes one conditional write for r. It fails with a
// *conditionFailed when the record is at none of r.cur.
func (s *store) replace(ctx context.Context, r replaceReq) error {
	if r.released && s.session != "" && r.id.key != s.session {
		_, err := s.update(ctx, wire.LeasedRelease(wire.LeasedReleaseArgs{Item: s.item(r.id), Current: r.cur,
			Next: r.next, Expires: time.Now().Add(s.expiry), SentMS: s.clock.stampNow(0).Sent}))
		return asConditionFailed(err)
	}
	st := s.clock.stampNow(s.lease)
	_, err := s.update(ctx, wire.Replace(wire.ReplaceArgs{
		Item: s.item(r.id), Current: r.cur, Next: r.next, Released: r.released,
		Expires: time.Now().Add(s.expiry), Stamp: st,
	}))
	return asConditionFailed(err)
}

func asConditionFailed(err error) error {
	var ccf *types.ConditionalCheckFailedException
	if errors.As(err, &ccf) {
		return &conditionFailed{item: ccf.Item}
	}
	return err
}

// errorKind sorts the errors of a write by what the caller may do next.
type errorKind int

const (
	// kindFatal: the request was refused and will be refused again (bad
	// input, missing table, no permission). It did not change the record.
	kindFatal errorKind = iota
	// kindRefused: the request was refused for now (throttling, a
	// transaction conflict) and did not change the record. Retry.
	kindRefused
	// kindUnknown: no answer, or a server fault: the write may or may not
	// have been applied. Retry with the same version to find out.
	kindUnknown
)

func classify(err error) errorKind {
	var api smithy.APIError
	if !errors.As(err, &api) {
		return kindUnknown
	}
	switch api.ErrorCode() {
	case "ThrottlingException", "ProvisionedThroughputExceededException", "RequestLimitExceeded",
		"TransactionConflictException", "LimitExceededException":
		return kindRefused
	}
	if api.ErrorFault() == smithy.FaultClient {
		return kindFatal
	}
	// The SDK marks only DynamoDB's modelled errors as client faults. The
	// others, such as ValidationException or AccessDeniedException, come
	// with an unknown fault, and retrying them would only repeat the refusal
	// until the caller's context ends. A 4xx status says the request was
	// refused as it stands; the codes cover stores that have no HTTP layer.
	var re *awshttp.ResponseError
	if errors.As(err, &re) && re.HTTPStatusCode() >= 400 && re.HTTPStatusCode() < 500 {
		return kindFatal
	}
	switch api.ErrorCode() {
	case "ValidationException", "AccessDeniedException", "UnrecognizedClientException",
		"MissingAuthenticationTokenException", "InvalidSignatureException", "SerializationException":
		return kindFatal
	}
	return kindUnknown
}
