package dynamutex_test

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/dynamutex/dynamutex"
	"github.com/dynamutex/dynamutex/dynamutextest"
)

// TestDefaultParallelismFitsSDKPool keeps the heartbeat loop's default limit
// within the idle pool of the SDK's default client: an SDK that keeps fewer
// idle connections would have renewals dial new ones every period.
func TestDefaultParallelismFitsSDKPool(t *testing.T) {
	if dynamutex.DefaultParallelism > awshttp.DefaultHTTPTransportMaxIdleConnsPerHost {
		t.Fatalf("DefaultParallelism %d is more than the %d idle connections per host the SDK's default client keeps",
			dynamutex.DefaultParallelism, awshttp.DefaultHTTPTransportMaxIdleConnsPerHost)
	}
}

// inFlightDB delays every UpdateItem and keeps the most that were in
// flight at once: each would hold one HTTP connection.
type inFlightDB struct {
	dynamutex.DynamoDBAPI
	delay time.Duration

	mu       sync.Mutex
	now, max int
}

func (d *inFlightDB) UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput,
	opts ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error) {
	d.mu.Lock()
	d.now++
	d.max = max(d.max, d.now)
	d.mu.Unlock()
	defer func() {
		d.mu.Lock()
		d.now--
		d.mu.Unlock()
	}()
	time.Sleep(d.delay)
	return d.DynamoDBAPI.UpdateItem(ctx, in, opts...)
}

func (d *inFlightDB) peak() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.max
}

// With renewals slow enough to queue, the heartbeat loop keeps exactly its
// limit in flight, by default as many as the SDK's default client keeps idle
// connections, and a limit set with WithParallelism the same way.
func TestSynctestRenewalsInFlightStayWithinLimit(t *testing.T) {
	for _, limit := range []int{0, 3} {
		want := limit
		if limit == 0 {
			want = dynamutex.DefaultParallelism
		}
		t.Run(fmt.Sprintf("parallelism=%d", limit), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				ctx := context.Background()
				const period = 5 * time.Second // the default heartbeat
				db := &inFlightDB{DynamoDBAPI: dynamutextest.New()}
				s := memSession(t, db, dynamutex.WithParallelism(limit),
					dynamutex.WithLogger(slog.New(slog.DiscardHandler))) // late renewals are the point
				defer s.Close(ctx)
				const locks = 100
				ms := make([]*dynamutex.Mutex, locks)
				for i := range ms {
					ms[i] = s.NewMutex(fmt.Sprintf("k%d", i))
					if _, err := ms[i].Lock(ctx); err != nil {
						t.Fatal(err)
					}
				}
				// A renewal takes a fortieth of a period: 100 need 2.5
				// periods at 1 in flight, so every limit tried fills up.
				db.mu.Lock()
				db.delay, db.max = period/40, 0
				db.mu.Unlock()
				time.Sleep(3 * period)
				synctest.Wait()
				if got := db.peak(); got != want {
					t.Errorf("at most %d renewals in flight at once, want %d (the loop's limit)", got, want)
				}
				for i, m := range ms {
					if err := m.Unlock(ctx); err != nil {
						t.Errorf("Unlock %d: %v", i, err)
					}
				}
			})
		})
	}
}
