package dynamutextest

import (
	"context"
	"reflect"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// item is one stored or requested DynamoDB item.
type item = map[string]types.AttributeValue

// Store is an in-memory DynamoDB holding any number of tables. It
// implements dynamutex.DynamoDBAPI, plus PutItem, DeleteItem and DeleteTable.
// Create it with New. It is safe for concurrent use; every request runs
// atomically under one lock, which makes every read strongly consistent.
//
// The options functions that the SDK methods accept (optFns) are ignored:
// retries, endpoints and the like have no meaning here.
type Store struct {
	clock func() time.Time

	mu     sync.Mutex
	tables map[string]*table
	// unprocessed is how many more keys BatchGetItem leaves unprocessed
	// (LeaveUnprocessed).
	unprocessed int
}

// config holds the settings that Options change.
type config struct {
	clock func() time.Time
}

// Option configures a Store. See WithClock.
type Option func(*config)

// WithClock sets the clock that ExpireTTL compares TTL attributes with.
// Default: time.Now, which testing/synctest fakes inside a bubble. A nil
// clock is ignored.
func WithClock(now func() time.Time) Option {
	return func(c *config) {
		if now != nil {
			c.clock = now
		}
	}
}

// New returns an empty Store. It starts no goroutines and never sleeps, so
// it works inside testing/synctest bubbles.
func New(opts ...Option) *Store {
	c := config{clock: time.Now}
	for _, o := range opts {
		if o != nil {
			o(&c)
		}
	}
	return &Store{clock: c.clock, tables: map[string]*table{}}
}

// serve runs one request of the operation whose input type is I, named as
// the SDK names it: I's name without "Input" (PutItemInput: PutItem). It
// refuses a context that is already done without touching any data, as the
// SDK does before it sends anything, then runs f under the Store's lock, on
// an empty input when in is nil, and wraps any error like the SDK's client
// does.
func serve[I, O any](ctx context.Context, s *Store, in *I, f func(*I) (*O, error)) (*O, error) {
	op := strings.TrimSuffix(reflect.TypeFor[I]().Name(), "Input")
	if err := ctx.Err(); err != nil {
		return nil, opError(op, err)
	}
	if in == nil {
		in = new(I)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	out, err := f(in)
	if err != nil {
		return nil, opError(op, err)
	}
	return out, nil
}

// lookup returns the table called name, or the error DynamoDB gives for a
// missing one. Called with s.mu held.
func (s *Store) lookup(name *string) (*table, error) {
	if name == nil {
		return nil, validation("TableName must not be null")
	}
	if err := checkTableName(*name); err != nil {
		return nil, err
	}
	t := s.tables[*name]
	if t == nil {
		return nil, tableNotFound(*name)
	}
	return t, nil
}
