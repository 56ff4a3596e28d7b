package main

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/dynamutex/dynamutex"
)

// acquiredEvents records the EventAcquired a tally passes on.
type acquiredEvents struct {
	mu     sync.Mutex
	events []dynamutex.Event
}

// Observe records EventAcquired.
func (a *acquiredEvents) Observe(ev dynamutex.Event) {
	if ev.Kind == dynamutex.EventAcquired {
		a.mu.Lock()
		a.events = append(a.events, ev)
		a.mu.Unlock()
	}
}

// tallied opens a Session on ms whose observer is a fresh tally, and a
// verbose runner of key on it with --no-wait set as given.
func tallied(ms *memSessions, key string, noWait bool, out *bytes.Buffer) (*runner, *acquiredEvents) {
	ms.t.Helper()
	events := &acquiredEvents{}
	tally := &waitTally{next: events}
	s, err := dynamutex.NewSession(context.Background(), ms.store, defaultTable, dynamutex.WithOwner("taker"),
		dynamutex.WithObserver(tally))
	if err != nil {
		ms.t.Fatal(err)
	}
	ms.t.Cleanup(func() { s.Close(context.Background()) })
	r := waitingRunner(s, key, out)
	r.c.verbose, r.o.noWait, r.tally = true, noWait, tally
	return r, events
}

// TestWaitTallyAfterWatch: a --no-wait run that watches a crashed holder
// for its lease and then takes the lock over reports the whole watch and
// both TryLocks, where the library's event covers the second TryLock only.
func TestWaitTallyAfterWatch(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx := context.Background()
		ms := newMemSessions(t)
		crashed, err := dynamutex.NewSession(ctx, ms.store, defaultTable, dynamutex.WithOwner("crashed"))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := crashed.NewMutex("cron").Lock(ctx); err != nil {
			t.Fatal(err)
		}
		if err := crashed.Close(ctx); err != nil { // no Unlock: the record stays held
			t.Fatal(err)
		}
		time.Sleep(dynamutex.DefaultLeaseDuration + time.Second)

		var stderr bytes.Buffer
		r, events := tallied(ms, "cron", true, &stderr)
		m := r.sess.NewMutex("cron")
		r.tally.begin()
		lctx, err := r.acquire(ctx, m)
		if err != nil {
			t.Fatalf("--no-wait on a crashed holder: %v", err)
		}
		defer m.Unlock(ctx)
		lease := r.reportAcquired(lctx)
		if len(events.events) != 1 || events.events[0].Attempts != 1 || events.events[0].Wait >= time.Second {
			t.Fatalf("the library's events: %+v, want one EventAcquired of the second TryLock alone", events.events)
		}
		want := fmt.Sprintf("dynamutex: acquired lock %q (token %d) after %v and 2 requests\n",
			"cron", lease.Token(), dynamutex.DefaultLeaseDuration)
		if !strings.HasSuffix(stderr.String(), want) {
			t.Errorf("stderr:\n%s\ndoes not end with:\n%s", stderr.String(), want)
		}
	})
}

// TestWaitTallyAfterLock: a waiting run counts the read that named the
// holder besides the requests of its Lock.
func TestWaitTallyAfterLock(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx := context.Background()
		ms := newMemSessions(t)
		hm, _ := ms.hold("holder", "deploy")
		go func() {
			time.Sleep(3 * time.Second)
			hm.Unlock(ctx)
		}()

		var stderr bytes.Buffer
		r, events := tallied(ms, "deploy", false, &stderr)
		m := r.sess.NewMutex("deploy")
		r.tally.begin()
		if _, err := r.acquire(ctx, m); err != nil {
			t.Fatal(err)
		}
		defer m.Unlock(ctx)
		if len(events.events) != 1 {
			t.Fatalf("%d EventAcquired, want 1", len(events.events))
		}
		ev := events.events[0]
		if r.tally.attempts != ev.Attempts+1 || r.tally.waited < ev.Wait {
			t.Errorf("tally %d requests in %v; the Lock made %d in %v, and the notice one read",
				r.tally.attempts, r.tally.waited, ev.Attempts, ev.Wait)
		}
	})
}
