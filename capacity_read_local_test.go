//go:build dynamodblocal

package dynamutex_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/dynamutex/dynamutex"
)

// A waiting read's capacity units, which only DynamoDB reports.

// readCapacity asks for the capacity of every GetItem and adds it up.
type readCapacity struct {
	testDB
	mu            sync.Mutex
	reads         int
	units, oneMax float64
}

func (r *readCapacity) GetItem(ctx context.Context, in *dynamodb.GetItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error) {
	withCap := *in
	withCap.ReturnConsumedCapacity = types.ReturnConsumedCapacityTotal
	out, err := r.testDB.GetItem(ctx, &withCap, optFns...)
	if err == nil && out.ConsumedCapacity != nil {
		u := aws.ToFloat64(out.ConsumedCapacity.CapacityUnits)
		r.mu.Lock()
		r.reads++
		r.units += u
		r.oneMax = max(r.oneMax, u)
		r.mu.Unlock()
	}
	return out, err
}

// A waiter's read is one strongly consistent read of an item under 4 KB: one
// read unit, a fifth of the price of the failed conditional write that a
// poll used to be, with 1.5 KB of data in the record as without.
func TestWaitingReadCapacity(t *testing.T) {
	_, table, holder := setup(t)
	ctx := ctxTimeout(t, 30*time.Second)
	wc, _ := newClient(t)
	rc := &readCapacity{testDB: wc}
	waiter := newSession(t, rc, table)
	for _, data := range []int{0, 1500} {
		key := "capacity-" + string(rune('a'+data%7))
		hm := holder.NewMutex(key, dynamutex.WithData(make([]byte, data)))
		if _, err := hm.Lock(ctx); err != nil {
			t.Fatal(err)
		}
		wctx, cancel := context.WithTimeout(ctx, time.Second)
		_, err := waiter.NewMutex(key).Lock(wctx)
		cancel()
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("waiter's Lock = %v, want the deadline while the holder renews", err)
		}
		if rc.reads < 2 || rc.units != float64(rc.reads) || rc.oneMax != 1 {
			t.Errorf("%d bytes of data: %d reads cost %.1f units (at most %.1f each), want 1 each", data, rc.reads, rc.units, rc.oneMax)
		}
		t.Logf("%d bytes of data: %d waiting reads, %.1f read units", data, rc.reads, rc.units)
		rc.reads, rc.units, rc.oneMax = 0, 0, 0
		if err := hm.Unlock(ctx); err != nil {
			t.Fatal(err)
		}
	}
}
