package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/dynamutex/dynamutex"
	"github.com/dynamutex/dynamutex/dynamutextest"
)

// memSessions opens Sessions on one in-memory table, closed when the test
// (or its synctest bubble) ends.
type memSessions struct {
	t     *testing.T
	store *dynamutextest.Store
}

// newMemSessions creates the table.
func newMemSessions(t *testing.T) *memSessions {
	t.Helper()
	store := dynamutextest.New()
	if err := dynamutex.CreateTable(context.Background(), store, defaultTable); err != nil {
		t.Fatal(err)
	}
	return &memSessions{t: t, store: store}
}

// open opens a Session with the default timings and the given owner.
func (ms *memSessions) open(owner string) *dynamutex.Session {
	ms.t.Helper()
	s, err := dynamutex.NewSession(context.Background(), ms.store, defaultTable, dynamutex.WithOwner(owner))
	if err != nil {
		ms.t.Fatal(err)
	}
	ms.t.Cleanup(func() {
		if err := s.Close(context.Background()); err != nil {
			ms.t.Error(err)
		}
	})
	return s
}

// hold takes key in a Session of its own with the given owner, and
// returns the Mutex and the lock's context.
func (ms *memSessions) hold(owner, key string) (*dynamutex.Mutex, context.Context) {
	ms.t.Helper()
	m := ms.open(owner).NewMutex(key)
	lctx, err := m.Lock(context.Background())
	if err != nil {
		ms.t.Fatal(err)
	}
	return m, lctx
}

// waitingRunner is a run of key on sess that writes its stderr to out.
func waitingRunner(sess *dynamutex.Session, key string, out io.Writer) *runner {
	return &runner{a: &app{stdout: io.Discard, stderr: out}, c: newCommon(), o: &runOptions{key: key}, sess: sess,
		tally: &waitTally{}}
}

// TestWaitNoticeWhenHeld: a run that waits says so once, without
// --verbose, naming the holder, its token and its last write; and then
// takes the lock when the holder lets go.
func TestWaitNoticeWhenHeld(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx := context.Background()
		ms := newMemSessions(t)
		hm, hctx := ms.hold("host-12:4711", "nightly")
		lease, _ := dynamutex.LeaseFrom(hctx)
		go func() {
			time.Sleep(3 * time.Second)
			if err := hm.Unlock(ctx); err != nil {
				t.Error(err)
			}
		}()

		var stderr bytes.Buffer
		r := waitingRunner(ms.open("waiter"), "nightly", &stderr)
		m := r.sess.NewMutex("nightly")
		if _, err := r.lockOrNotice(ctx, m); err != nil {
			t.Fatalf("Lock after the holder let go: %v", err)
		}
		defer m.Unlock(ctx)
		want := fmt.Sprintf("dynamutex: waiting for lock %q: held by %q (token %d, last write 250ms ago)\n",
			"nightly", "host-12:4711", lease.Token())
		if stderr.String() != want {
			t.Errorf("stderr:\n%q\nwant:\n%q", stderr.String(), want)
		}
	})
}

// TestWaitNoticeGivesUpAfter: with --wait the notice says when the run
// gives up.
func TestWaitNoticeGivesUpAfter(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx := context.Background()
		ms := newMemSessions(t)
		hm, _ := ms.hold("holder", "deploy")
		defer hm.Unlock(ctx)

		var stderr bytes.Buffer
		r := waitingRunner(ms.open("waiter"), "deploy", &stderr)
		r.o.wait = time.Minute
		wctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		defer cancel()
		if _, err := r.lockOrNotice(wctx, r.sess.NewMutex("deploy")); err == nil {
			t.Fatal("Lock of a held key returned no error when its context ended")
		}
		if got := stderr.String(); strings.Count(got, "waiting for lock") != 1 ||
			!strings.HasSuffix(got, `; giving up after 1m0s`+"\n") || !strings.Contains(got, `held by "holder"`) {
			t.Errorf("stderr: %q", got)
		}
	})
}

// TestWaitNoticeNotWhenFree: a free lock is taken without a word, and so
// is a lock whose holder lets go before the notice is due.
func TestWaitNoticeNotWhenFree(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx := context.Background()
		ms := newMemSessions(t)
		var stderr bytes.Buffer
		r := waitingRunner(ms.open("waiter"), "free", &stderr)
		m := r.sess.NewMutex("free")
		if _, err := r.lockOrNotice(ctx, m); err != nil {
			t.Fatal(err)
		}
		if err := m.Unlock(ctx); err != nil {
			t.Fatal(err)
		}

		hm, _ := ms.hold("holder", "brief")
		go func() {
			time.Sleep(waitNoticeDelay / 2)
			if err := hm.Unlock(ctx); err != nil {
				t.Error(err)
			}
		}()
		m = r.sess.NewMutex("brief")
		if _, err := r.lockOrNotice(ctx, m); err != nil {
			t.Fatal(err)
		}
		if err := m.Unlock(ctx); err != nil {
			t.Fatal(err)
		}
		if stderr.Len() != 0 {
			t.Errorf("a run that did not wait, or whose holder let go in time, said: %q", stderr.String())
		}
	})
}
