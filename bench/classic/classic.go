// Package classic is a benchmark baseline: a small Go rendering of the lock
// protocol shared by the Java AmazonDynamoDBLockClient, cirello-io/dynamolock
// and python_dynamodb_lock, so that dynamutex can be measured against it on
// the same DynamoDB. It is faithful in requests and timing, not in features:
// no callbacks, no danger checker, no retry timeout, no sort key, no data.
// It lives in its own module and the library never imports it.
//
// The protocol, request by request:
//
//   - Acquire: a consistent GetItem. No item: a PutItem conditional on the
//     item not existing. An item: remember its record version number (rvn)
//     and the local time it was first seen, sleep the fixed refresh period
//     and read again. Once the same rvn has been seen unchanged for longer
//     than the lease duration stored in the item, a PutItem conditional on
//     that rvn takes the lock over. A failed condition means another client
//     won the race: sleep and start again.
//   - Heartbeat: one UpdateItem per held lock per period, setting a new rvn,
//     conditional on the old one.
//   - Release: a DeleteItem conditional on the rvn.
package classic

import (
	"context"
	"errors"
	"strconv"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/google/uuid"
)

// Attribute names. The partition key is "key", as in the Java client's
// default; the others are python_dynamodb_lock's.
const (
	AttrKey     = "key"
	attrOwner   = "owner_name"
	attrLease   = "lease_duration" // milliseconds
	attrRVN     = "record_version_number"
	attrExpires = "expiry_time" // epoch seconds, for DynamoDB's TTL only
)

// Defaults of the classic clients: Java's 20 s lease and 5 s heartbeat, and
// the 1 s refresh period of the Java client and dynamolock.
const (
	DefaultLeaseDuration   = 20 * time.Second
	DefaultHeartbeatPeriod = 5 * time.Second
	DefaultRefreshPeriod   = time.Second
	defaultExpiry          = time.Hour
)

// ErrLockStolen is returned by Release when the item no longer carries this
// holder's rvn: it was taken over, or deleted by someone else.
var ErrLockStolen = errors.New("classic: lock stolen")

// API is the part of the DynamoDB client the protocol uses.
type API interface {
	GetItem(context.Context, *dynamodb.GetItemInput, ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error)
	PutItem(context.Context, *dynamodb.PutItemInput, ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error)
	UpdateItem(context.Context, *dynamodb.UpdateItemInput, ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error)
	DeleteItem(context.Context, *dynamodb.DeleteItemInput, ...func(*dynamodb.Options)) (*dynamodb.DeleteItemOutput, error)
}

// Options holds the timing settings; zero fields take the defaults.
type Options struct {
	Owner           string
	LeaseDuration   time.Duration
	HeartbeatPeriod time.Duration
	// RefreshPeriod is the fixed sleep between acquisition attempts. The
	// classic clients do not jitter it.
	RefreshPeriod time.Duration
}

// Client acquires locks in one table, whose partition key is AttrKey (S).
type Client struct {
	db    API
	table string
	opt   Options
}

// New returns a Client.
func New(db API, table string, opt Options) *Client {
	if opt.Owner == "" {
		opt.Owner = "classic-" + uuid.NewString()
	}
	if opt.LeaseDuration <= 0 {
		opt.LeaseDuration = DefaultLeaseDuration
	}
	if opt.HeartbeatPeriod <= 0 {
		opt.HeartbeatPeriod = DefaultHeartbeatPeriod
	}
	if opt.RefreshPeriod <= 0 {
		opt.RefreshPeriod = DefaultRefreshPeriod
	}
	return &Client{db: db, table: table, opt: opt}
}

// Lock is a held lock. Its heartbeat goroutine runs until Release.
type Lock struct {
	c    *Client
	key  string
	stop chan struct{}
	done chan struct{}

	mu       sync.Mutex
	rvn      string
	stolen   bool
	released bool
}

// Acquire blocks until the lock on key is held or ctx ends.
func (c *Client) Acquire(ctx context.Context, key string) (*Lock, error) {
	rvn := uuid.NewString() // one per call, as in the classic clients
	var seenRVN string
	var seenAt time.Time
	for {
		out, err := c.db.GetItem(ctx, &dynamodb.GetItemInput{
			TableName: &c.table, Key: c.keyOf(key), ConsistentRead: aws.Bool(true),
		})
		if err != nil {
			return nil, err
		}
		attempt, old := false, "" // old: the rvn a takeover is conditional on
		if out.Item == nil {
			attempt = true
		} else {
			cur := str(out.Item[attrRVN])
			lease, _ := strconv.ParseInt(num(out.Item[attrLease]), 10, 64)
			switch {
			case cur != seenRVN:
				// A new rvn is a sign of life: its lease starts now, on our clock.
				seenRVN, seenAt = cur, time.Now()
			case time.Since(seenAt) > time.Duration(lease)*time.Millisecond:
				attempt, old = true, seenRVN
			}
		}
		if attempt {
			err = c.put(ctx, key, rvn, old)
			if err == nil {
				return c.hold(key, rvn), nil
			}
			if !conditionFailed(err) {
				return nil, err
			}
		}
		// A fixed delay after each attempt, as the Java client and dynamolock
		// sleep (python_dynamodb_lock keeps a fixed rate instead; at request
		// times of milliseconds the two are the same).
		t := time.NewTimer(c.opt.RefreshPeriod)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return nil, context.Cause(ctx)
		}
	}
}

// put writes a new item: one that must not exist yet when old is empty,
// else one that replaces the item only while it still carries rvn old.
func (c *Client) put(ctx context.Context, key, rvn, old string) error {
	item := c.keyOf(key)
	item[attrOwner] = &types.AttributeValueMemberS{Value: c.opt.Owner}
	item[attrLease] = &types.AttributeValueMemberN{Value: strconv.FormatInt(c.opt.LeaseDuration.Milliseconds(), 10)}
	item[attrRVN] = &types.AttributeValueMemberS{Value: rvn}
	item[attrExpires] = expiresAt()
	in := &dynamodb.PutItemInput{
		TableName: &c.table, Item: item,
		ConditionExpression:      aws.String("attribute_not_exists(#pk)"),
		ExpressionAttributeNames: map[string]string{"#pk": AttrKey},
	}
	if old != "" {
		in.ConditionExpression = aws.String("attribute_exists(#pk) AND #rvn = :old")
		in.ExpressionAttributeNames["#rvn"] = attrRVN
		in.ExpressionAttributeValues = map[string]types.AttributeValue{":old": &types.AttributeValueMemberS{Value: old}}
	}
	_, err := c.db.PutItem(ctx, in)
	return err
}

func (c *Client) hold(key, rvn string) *Lock {
	l := &Lock{c: c, key: key, rvn: rvn, stop: make(chan struct{}), done: make(chan struct{})}
	go l.heartbeat()
	return l
}

// heartbeat renews the lease once per period until Release or a theft.
// Each request is bounded by one period so that Release, which waits for
// this goroutine, cannot hang on a dead connection.
func (l *Lock) heartbeat() {
	defer close(l.done)
	t := time.NewTicker(l.c.opt.HeartbeatPeriod)
	defer t.Stop()
	for {
		select {
		case <-l.stop:
			return
		case <-t.C:
		}
		l.mu.Lock()
		old, next := l.rvn, uuid.NewString()
		l.mu.Unlock()
		ctx, cancel := context.WithTimeout(context.Background(), l.c.opt.HeartbeatPeriod)
		_, err := l.c.db.UpdateItem(ctx, &dynamodb.UpdateItemInput{
			TableName: &l.c.table, Key: l.c.keyOf(l.key),
			UpdateExpression:         aws.String("SET #rvn = :new, #et = :et"),
			ConditionExpression:      aws.String("attribute_exists(#pk) AND #rvn = :old"),
			ExpressionAttributeNames: map[string]string{"#pk": AttrKey, "#rvn": attrRVN, "#et": attrExpires},
			ExpressionAttributeValues: map[string]types.AttributeValue{
				":new": &types.AttributeValueMemberS{Value: next},
				":old": &types.AttributeValueMemberS{Value: old},
				":et":  expiresAt(),
			},
		})
		cancel()
		l.mu.Lock()
		switch {
		case err == nil:
			l.rvn = next
		case conditionFailed(err):
			l.stolen = true
		}
		// Other errors are retried at the next tick, as the classic clients do.
		stolen := l.stolen
		l.mu.Unlock()
		if stolen {
			return
		}
	}
}

// Release stops the heartbeat, waiting for a renewal in flight so that the
// rvn it deletes on is current, then deletes the item.
func (l *Lock) Release(ctx context.Context) error {
	l.mu.Lock()
	if l.released {
		l.mu.Unlock()
		return errors.New("classic: lock already released")
	}
	l.released = true
	l.mu.Unlock()
	close(l.stop)
	<-l.done
	l.mu.Lock()
	rvn, stolen := l.rvn, l.stolen
	l.mu.Unlock()
	if stolen {
		return ErrLockStolen
	}
	_, err := l.c.db.DeleteItem(ctx, &dynamodb.DeleteItemInput{
		TableName: &l.c.table, Key: l.c.keyOf(l.key),
		ConditionExpression:       aws.String("attribute_exists(#pk) AND #rvn = :rvn"),
		ExpressionAttributeNames:  map[string]string{"#pk": AttrKey, "#rvn": attrRVN},
		ExpressionAttributeValues: map[string]types.AttributeValue{":rvn": &types.AttributeValueMemberS{Value: rvn}},
	})
	if conditionFailed(err) {
		return ErrLockStolen
	}
	return err
}

func (c *Client) keyOf(key string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{AttrKey: &types.AttributeValueMemberS{Value: key}}
}

func expiresAt() types.AttributeValue {
	return &types.AttributeValueMemberN{Value: strconv.FormatInt(time.Now().Add(defaultExpiry).Unix(), 10)}
}

func conditionFailed(err error) bool {
	var cf *types.ConditionalCheckFailedException
	return errors.As(err, &cf)
}

func str(v types.AttributeValue) string {
	s, _ := v.(*types.AttributeValueMemberS)
	if s == nil {
		return ""
	}
	return s.Value
}

func num(v types.AttributeValue) string {
	n, _ := v.(*types.AttributeValueMemberN)
	if n == nil {
		return ""
	}
	return n.Value
}
