package dynamutex_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/dynamutex/dynamutex"
	"github.com/dynamutex/dynamutex/dynamutextest"
)

// schedule records when a Session sent each request, by kind.
type schedule struct {
	dynamutex.DynamoDBAPI
	mu            sync.Mutex
	reads, writes []time.Time
}

func (s *schedule) GetItem(ctx context.Context, in *dynamodb.GetItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error) {
	s.mu.Lock()
	s.reads = append(s.reads, time.Now())
	s.mu.Unlock()
	return s.DynamoDBAPI.GetItem(ctx, in, optFns...)
}

func (s *schedule) UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error) {
	s.mu.Lock()
	s.writes = append(s.writes, time.Now())
	s.mu.Unlock()
	return s.DynamoDBAPI.UpdateItem(ctx, in, optFns...)
}

func countSince(ts []time.Time, from, to time.Time) int {
	n := 0
	for _, t := range ts {
		if !t.Before(from) && t.Before(to) {
			n++
		}
	}
	return n
}

// At the default timings a waiter writes once, then reads: at most three
// reads in its first second (sleeps of 250, 375 and 562 ms, each at least
// half that with the jitter), where the write path made eight requests,
// then about one a second once the backoff has reached its one-second cap.
// When the holder unlocks, the next read sees it and one write takes the
// lock.
func TestSynctestWaiterReadsAtDefaults(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx := context.Background()
		store := dynamutextest.New()
		holder := memSession(t, store)
		defer holder.Close(ctx)
		hm := holder.NewMutex("job")
		if _, err := hm.Lock(ctx); err != nil {
			t.Fatal(err)
		}
		sched := &schedule{DynamoDBAPI: store}
		waiter := memSession(t, sched)
		defer waiter.Close(ctx)

		start := time.Now()
		done := make(chan error, 1)
		go func() {
			_, err := waiter.NewMutex("job").Lock(ctx)
			done <- err
		}()
		time.Sleep(60 * time.Second)
		released := time.Now()
		if err := hm.Unlock(ctx); err != nil {
			t.Fatal(err)
		}
		if err := <-done; err != nil {
			t.Fatal(err)
		}

		if n := countSince(sched.writes, start, released); n != 1 {
			t.Errorf("%d writes while the lock was held elsewhere, want 1 (the first attempt)", n)
		}
		if n := countSince(sched.writes, released, time.Now().Add(time.Nanosecond)); n != 1 {
			t.Errorf("%d writes after the release, want 1", n)
		}
		if n := countSince(sched.reads, start, start.Add(time.Second)); n > 3 {
			t.Errorf("%d reads in the first second, want at most 3", n)
		}
		steady := countSince(sched.reads, start.Add(10*time.Second), released)
		if steady < 33 || steady > 100 {
			t.Errorf("%d reads from 10 s to 60 s, want 33 to 100: one a second, the cap, ±50 %% jitter", steady)
		}
		if late := time.Since(released); late > 1500*time.Millisecond {
			t.Errorf("the waiter took the lock %v after the release, more than the longest backoff sleep", late)
		}
	})
}

// readCapacity asks for the capacity of every GetItem and adds it up.
type readCapacity struct {
	*dynamodb.Client
	mu            sync.Mutex
	reads         int
	units, oneMax float64
}

func (r *readCapacity) GetItem(ctx context.Context, in *dynamodb.GetItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error) {
	withCap := *in
	withCap.ReturnConsumedCapacity = types.ReturnConsumedCapacityTotal
	out, err := r.Client.GetItem(ctx, &withCap, optFns...)
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
	hc, _ := newClient(t)
	table := newTable(t, hc)
	holder := newSession(t, hc, table)
	ctx := ctxTimeout(t, 30*time.Second)
	wc, _ := newClient(t)
	rc := &readCapacity{Client: wc}
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

// A waiter whose read shows a new token has seen the lock change hands: it
// is contended, and from then on the Lock call polls by writing, so that it
// keeps the chances a write-polling waiter had against a holder that
// re-locks at once. Exactly one read: the one that saw the new token.
func TestSynctestContendedWaiterWrites(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx := context.Background()
		store := dynamutextest.New()
		holder := memSession(t, store)
		defer holder.Close(ctx)
		sched := &schedule{DynamoDBAPI: store}
		waiter := memSession(t, sched)
		defer waiter.Close(ctx)

		hm := holder.NewMutex("hot")
		if _, err := hm.Lock(ctx); err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() {
			_, err := waiter.NewMutex("hot").Lock(ctx)
			done <- err
		}()
		// The holder re-locks every 100 ms, faster than the waiter's first
		// read (at least 125 ms), for 5 s, then lets go.
		for range 50 {
			time.Sleep(100 * time.Millisecond)
			if err := hm.Unlock(ctx); err != nil {
				t.Fatal(err)
			}
			if _, err := hm.Lock(ctx); err != nil {
				t.Fatal(err)
			}
		}
		if err := hm.Unlock(ctx); err != nil {
			t.Fatal(err)
		}
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		if r, w := len(sched.reads), len(sched.writes); r != 1 || w < 3 {
			t.Errorf("the contended waiter made %d reads and %d writes, want 1 read, then writes only", r, w)
		}
	})
}

// Inside one Session, goroutines that want a held key queue in memory and
// get it in the order they asked, with no request until each one's turn.
func TestSynctestLocalWaitersFirstInFirstOut(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx := context.Background()
		sched := &schedule{DynamoDBAPI: dynamutextest.New()}
		s := memSession(t, sched)
		defer s.Close(ctx)
		first := s.NewMutex("job")
		if _, err := first.Lock(ctx); err != nil {
			t.Fatal(err)
		}
		var mu sync.Mutex
		var order []int
		var wg sync.WaitGroup
		for i := range 5 {
			wg.Go(func() {
				m := s.NewMutex("job")
				if _, err := m.Lock(ctx); err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				order = append(order, i)
				mu.Unlock()
				if err := m.Unlock(ctx); err != nil {
					t.Error(err)
				}
			})
			synctest.Wait() // goroutine i is queued before i+1 starts
		}
		time.Sleep(time.Minute)
		// Writes in that minute are the holder's renewals; the queue polls
		// nothing (TestLocalExclusionWithoutPolling counts the writes).
		if r := len(sched.reads); r != 0 {
			t.Errorf("queued goroutines made %d reads in a minute, want 0", r)
		}
		if err := first.Unlock(ctx); err != nil {
			t.Fatal(err)
		}
		wg.Wait()
		if fmt.Sprint(order) != "[0 1 2 3 4]" {
			t.Errorf("local waiters got the lock in the order %v, want the order they asked in", order)
		}
	})
}
