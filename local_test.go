package dynamutex_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/dynamutex/dynamutex"
	"github.com/dynamutex/dynamutex/dynamutextest"
)

// Goroutines of one Session that Lock, TryLock and Unlock one key in a
// storm hold it one at a time, whether the key's local semaphore exists
// yet or not (it is made on the first contention and dropped with the
// key), and every Lock gets its turn.
func TestLocalExclusionUnderContention(t *testing.T) {
	s := memSession(t, dynamutextest.New())
	ctx := context.Background()
	defer s.Close(ctx)
	const goroutines, rounds = 8, 40
	var holders, most, locked atomic.Int64
	hold := func(m *dynamutex.Mutex) {
		n := holders.Add(1)
		for o := most.Load(); n > o && !most.CompareAndSwap(o, n); o = most.Load() {
		}
		holders.Add(-1)
		if err := m.Unlock(ctx); err != nil {
			t.Error(err)
		}
	}
	var wg sync.WaitGroup
	for g := range goroutines {
		wg.Go(func() {
			m := s.NewMutex("k")
			for i := range rounds {
				if (g+i)%3 == 0 {
					_, err := m.TryLock(ctx)
					if errors.Is(err, dynamutex.ErrLocked) {
						continue
					}
					if err != nil {
						t.Error(err)
						return
					}
				} else if _, err := m.Lock(ctx); err != nil {
					t.Error(err)
					return
				} else {
					locked.Add(1)
				}
				hold(m)
			}
		})
	}
	wg.Wait()
	if most.Load() != 1 {
		t.Errorf("at most %d goroutines held the key at once, want 1", most.Load())
	}
	want := int64(0)
	for g := range goroutines {
		for i := range rounds {
			if (g+i)%3 != 0 {
				want++
			}
		}
	}
	if locked.Load() != want {
		t.Errorf("%d Lock calls got the key, want all %d", locked.Load(), want)
	}
	// The key is free again, for a TryLock without a semaphore or with one.
	if _, err := s.NewMutex("k").TryLock(ctx); err != nil {
		t.Errorf("TryLock after the storm: %v", err)
	}
}
