package dynamutex_test

import (
	"context"
	"errors"
	"maps"
	"net/http"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/dynamutex/dynamutex"
	"github.com/dynamutex/dynamutex/dynamutextest"
	"github.com/dynamutex/dynamutex/internal/localdb"
)

// testDB is the DynamoDB a test talks to: the calls the library makes, and
// the writes tests set records up with. A testDB and a
// *dynamutextest.Store both satisfy it.
type testDB interface {
	dynamutex.DynamoDBAPI
	PutItem(ctx context.Context, in *dynamodb.PutItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error)
	DeleteItem(ctx context.Context, in *dynamodb.DeleteItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.DeleteItemOutput, error)
}

// memory is the in-memory store the tests share when no DynamoDB Local is
// set; every test makes tables of its own in it.
var memory = dynamutextest.New()

// backend returns the DynamoDB under test: DynamoDB Local when
// AWS_ENDPOINT_URL_DYNAMODB is set (and always in a dynamodblocal build,
// which fails without it), the in-memory store otherwise. The conformance suite
// of dynamutextest is what makes the two interchangeable here.
func backend(tb testing.TB) testDB {
	tb.Helper()
	if ep := localdb.Optional(tb); ep != "" {
		return localdb.Client(ep, localdb.Transport(), localdb.NoRetries)
	}
	return memory
}

// onLocal reports whether the tests run against DynamoDB Local.
func onLocal(tb testing.TB) bool {
	tb.Helper()
	return localdb.Optional(tb) != ""
}

// fault decides what happens to one request. The zero value sends it.
type fault struct {
	block   bool // hold the request until its context ends
	drop    bool // send it, then lose the reply
	status  int  // answer with this HTTP status without sending it
	errCode string
	delay   time.Duration
}

// tap stands between the library and the DynamoDB under test: it counts
// requests by operation and injects faults, the same way on the in-memory
// store and on DynamoDB Local, since it works on the SDK's requests rather
// than on HTTP.
type tap struct {
	db testDB

	mu     sync.Mutex
	counts map[string]int // by kind of request: opAcquire, "GetItem", ...
	calls  map[string]int // by SDK operation: "UpdateItem", "GetItem", ...
	inject func(op, key string, in any) fault
}

var _ testDB = (*tap)(nil)

// newClient returns a tapped client of the DynamoDB under test, twice: as
// the client to hand the library and as the tap to count and break its
// requests with.
func newClient(tb testing.TB) (*tap, *tap) {
	tb.Helper()
	t := newTap(backend(tb))
	return t, t
}

func newTap(db testDB) *tap {
	return &tap{db: db, counts: map[string]int{}, calls: map[string]int{}}
}

func (t *tap) setFault(f func(op, key string, in any) fault) {
	t.mu.Lock()
	t.inject = f
	t.mu.Unlock()
}

// count returns how many requests of op were sent so far.
func (t *tap) count(op string) int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.counts[op]
}

func (t *tap) total() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	n := 0
	for _, c := range t.counts {
		n += c
	}
	return n
}

// byOperation returns a copy of the counts of requests by SDK operation.
func (t *tap) byOperation() map[string]int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return maps.Clone(t.calls)
}

// note counts one request of the SDK operation name and returns the fault
// to apply to it.
func (t *tap) note(name, op, key string, in any) fault {
	t.mu.Lock()
	t.counts[op]++
	t.calls[name]++
	inject := t.inject
	t.mu.Unlock()
	if inject == nil {
		return fault{}
	}
	return inject(op, key, in)
}

// tapped sends one request through t.
func tapped[I, O any](ctx context.Context, t *tap, in *I, send func(context.Context, *I) (*O, error)) (*O, error) {
	name := strings.TrimSuffix(reflect.TypeFor[I]().Name(), "Input") // PutItemInput: PutItem, as the SDK names it
	op := name
	if u, ok := any(in).(*dynamodb.UpdateItemInput); ok {
		op = classifyUpdate(aws.ToString(u.UpdateExpression))
	}
	f := t.note(name, op, lockKeyOf(in), in)
	if f.delay > 0 {
		select {
		case <-time.After(f.delay):
		case <-ctx.Done():
			return nil, opError(name, ctx.Err())
		}
	}
	switch {
	case f.block:
		<-ctx.Done()
		return nil, opError(name, ctx.Err())
	case f.status != 0:
		return nil, opError(name, injectedReply(f))
	}
	out, err := send(ctx, in)
	if err == nil && f.drop {
		return nil, opError(name, errors.New("injected: reply lost after the request was applied"))
	}
	return out, err
}

// opError wraps err as the SDK's client wraps a failed operation.
func opError(name string, err error) error {
	return &smithy.OperationError{ServiceID: "DynamoDB", OperationName: name, Err: err}
}

// injectedReply is the error the SDK makes of an error reply with f's
// status and code: DynamoDB's modelled type where the SDK has one, a
// generic API error otherwise, inside the HTTP response error.
func injectedReply(f fault) error {
	const msg = "injected"
	var api error
	switch f.errCode {
	case "", "InternalServerError":
		api = &types.InternalServerError{Message: aws.String(msg)}
	case "ProvisionedThroughputExceededException":
		api = &types.ProvisionedThroughputExceededException{Message: aws.String(msg)}
	case "ThrottlingException":
		api = &types.ThrottlingException{Message: aws.String(msg)}
	default:
		api = &smithy.GenericAPIError{Code: f.errCode, Message: msg}
	}
	resp := &smithyhttp.Response{Response: &http.Response{StatusCode: f.status, Header: http.Header{}}}
	return &awshttp.ResponseError{ResponseError: &smithyhttp.ResponseError{Response: resp, Err: api}, RequestID: msg}
}

// lockKeyOf returns the partition key a request names, "" for none.
func lockKeyOf(in any) string {
	var key map[string]types.AttributeValue
	switch in := in.(type) {
	case *dynamodb.UpdateItemInput:
		key = in.Key
	case *dynamodb.GetItemInput:
		key = in.Key
	case *dynamodb.DeleteItemInput:
		key = in.Key
	}
	if s, ok := key[dynamutex.DefaultPartitionKey].(*types.AttributeValueMemberS); ok {
		return s.Value
	}
	for _, v := range key {
		if s, ok := v.(*types.AttributeValueMemberS); ok {
			return s.Value
		}
	}
	return ""
}

func (t *tap) UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error) {
	return tapped(ctx, t, in, func(ctx context.Context, in *dynamodb.UpdateItemInput) (*dynamodb.UpdateItemOutput, error) {
		return t.db.UpdateItem(ctx, in, optFns...)
	})
}

func (t *tap) GetItem(ctx context.Context, in *dynamodb.GetItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error) {
	return tapped(ctx, t, in, func(ctx context.Context, in *dynamodb.GetItemInput) (*dynamodb.GetItemOutput, error) {
		return t.db.GetItem(ctx, in, optFns...)
	})
}

func (t *tap) BatchGetItem(ctx context.Context, in *dynamodb.BatchGetItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.BatchGetItemOutput, error) {
	return tapped(ctx, t, in, func(ctx context.Context, in *dynamodb.BatchGetItemInput) (*dynamodb.BatchGetItemOutput, error) {
		return t.db.BatchGetItem(ctx, in, optFns...)
	})
}

func (t *tap) Scan(ctx context.Context, in *dynamodb.ScanInput, optFns ...func(*dynamodb.Options)) (*dynamodb.ScanOutput, error) {
	return tapped(ctx, t, in, func(ctx context.Context, in *dynamodb.ScanInput) (*dynamodb.ScanOutput, error) {
		return t.db.Scan(ctx, in, optFns...)
	})
}

func (t *tap) TransactWriteItems(ctx context.Context, in *dynamodb.TransactWriteItemsInput, optFns ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error) {
	return tapped(ctx, t, in, func(ctx context.Context, in *dynamodb.TransactWriteItemsInput) (*dynamodb.TransactWriteItemsOutput, error) {
		return t.db.TransactWriteItems(ctx, in, optFns...)
	})
}

func (t *tap) DescribeTable(ctx context.Context, in *dynamodb.DescribeTableInput, optFns ...func(*dynamodb.Options)) (*dynamodb.DescribeTableOutput, error) {
	return tapped(ctx, t, in, func(ctx context.Context, in *dynamodb.DescribeTableInput) (*dynamodb.DescribeTableOutput, error) {
		return t.db.DescribeTable(ctx, in, optFns...)
	})
}

func (t *tap) CreateTable(ctx context.Context, in *dynamodb.CreateTableInput, optFns ...func(*dynamodb.Options)) (*dynamodb.CreateTableOutput, error) {
	return tapped(ctx, t, in, func(ctx context.Context, in *dynamodb.CreateTableInput) (*dynamodb.CreateTableOutput, error) {
		return t.db.CreateTable(ctx, in, optFns...)
	})
}

func (t *tap) UpdateTimeToLive(ctx context.Context, in *dynamodb.UpdateTimeToLiveInput, optFns ...func(*dynamodb.Options)) (*dynamodb.UpdateTimeToLiveOutput, error) {
	return tapped(ctx, t, in, func(ctx context.Context, in *dynamodb.UpdateTimeToLiveInput) (*dynamodb.UpdateTimeToLiveOutput, error) {
		return t.db.UpdateTimeToLive(ctx, in, optFns...)
	})
}

func (t *tap) DescribeTimeToLive(ctx context.Context, in *dynamodb.DescribeTimeToLiveInput, optFns ...func(*dynamodb.Options)) (*dynamodb.DescribeTimeToLiveOutput, error) {
	return tapped(ctx, t, in, func(ctx context.Context, in *dynamodb.DescribeTimeToLiveInput) (*dynamodb.DescribeTimeToLiveOutput, error) {
		return t.db.DescribeTimeToLive(ctx, in, optFns...)
	})
}

func (t *tap) PutItem(ctx context.Context, in *dynamodb.PutItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error) {
	return tapped(ctx, t, in, func(ctx context.Context, in *dynamodb.PutItemInput) (*dynamodb.PutItemOutput, error) {
		return t.db.PutItem(ctx, in, optFns...)
	})
}

func (t *tap) DeleteItem(ctx context.Context, in *dynamodb.DeleteItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.DeleteItemOutput, error) {
	return tapped(ctx, t, in, func(ctx context.Context, in *dynamodb.DeleteItemInput) (*dynamodb.DeleteItemOutput, error) {
		return t.db.DeleteItem(ctx, in, optFns...)
	})
}
