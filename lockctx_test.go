package dynamutex_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/dynamutex/dynamutex"
	"github.com/dynamutex/dynamutex/dynamutextest"
)

type ctxKey struct{}

// The lock's context answers as a context.WithValue child of the caller's
// context would: the caller's values and deadline, the Lease to LeaseFrom,
// also from its own children, and the cause of its end to context.Cause,
// in its children too.
func TestLockContextActsAsChild(t *testing.T) {
	s := memSession(t, dynamutextest.New())
	defer s.Close(context.Background())
	deadline := time.Now().Add(time.Hour)
	parent, cancel := context.WithDeadline(context.WithValue(context.Background(), ctxKey{}, "v"), deadline)
	defer cancel()
	m := s.NewMutex("k")
	lctx, err := m.Lock(parent)
	if err != nil {
		t.Fatal(err)
	}
	child, cancelChild := context.WithCancel(lctx)
	defer cancelChild()
	if v := child.Value(ctxKey{}); v != "v" {
		t.Errorf("the caller's value through the lock context: %v, want v", v)
	}
	if d, ok := lctx.Deadline(); !ok || !d.Equal(deadline) {
		t.Errorf("Deadline: %v %v, want %v", d, ok, deadline)
	}
	l, ok := dynamutex.LeaseFrom(child)
	if !ok || l.Key() != "k" {
		t.Fatalf("LeaseFrom a child of the lock context: %v %v", l, ok)
	}
	if l2, _ := dynamutex.LeaseFrom(lctx); l2 != l {
		t.Errorf("LeaseFrom the lock context and its child differ: %p %p", l2, l)
	}
	if _, ok := dynamutex.LeaseFrom(parent); ok {
		t.Error("LeaseFrom the caller's context found a Lease")
	}
	if lctx.Err() != nil {
		t.Fatalf("lock context ended while held: %v", lctx.Err())
	}
	if err := m.Unlock(context.Background()); err != nil {
		t.Fatal(err)
	}
	<-child.Done()
	if !errors.Is(lctx.Err(), context.Canceled) || !errors.Is(context.Cause(child), dynamutex.ErrUnlocked) {
		t.Errorf("after Unlock: Err %v, child's cause %v; want Canceled and ErrUnlocked", lctx.Err(), context.Cause(child))
	}
}

// A lock context that nobody asked anything until the lock ended says what
// one used all along would have said: Done closed, Err Canceled, and the
// cause of the end, the first one given; and it ends with the caller's
// context when that ended first, although it was made after.
func TestLockContextUsedLate(t *testing.T) {
	s := memSession(t, dynamutextest.New())
	defer s.Close(context.Background())
	ctx := context.Background()

	held, err := s.NewMutex("held").Lock(ctx)
	if err != nil {
		t.Fatal(err)
	}
	mu := s.NewMutex("late")
	late, err := mu.Lock(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := mu.Unlock(ctx); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(ctx); err != nil { // a second cause, after the first
		t.Fatal(err)
	}
	<-late.Done()
	if !errors.Is(late.Err(), context.Canceled) || !errors.Is(context.Cause(late), dynamutex.ErrUnlocked) {
		t.Errorf("unlocked before first use: Err %v, cause %v; want Canceled and ErrUnlocked",
			late.Err(), context.Cause(late))
	}
	if !errors.Is(context.Cause(held), dynamutex.ErrSessionClosed) {
		t.Errorf("held at Close, first used after: cause %v, want ErrSessionClosed", context.Cause(held))
	}

	s2 := memSession(t, dynamutextest.New())
	defer s2.Close(context.Background())
	parent, cancel := context.WithCancelCause(ctx)
	lctx, err := s2.NewMutex("k").Lock(parent)
	if err != nil {
		t.Fatal(err)
	}
	parentGone := errors.New("the caller's context ended")
	cancel(parentGone)
	child, stop := context.WithCancel(lctx) // the first use, after the parent ended
	defer stop()
	<-child.Done()
	if !errors.Is(context.Cause(lctx), parentGone) || !errors.Is(context.Cause(child), parentGone) {
		t.Errorf("parent ended before first use: cause %v, child's %v; want the parent's", context.Cause(lctx), context.Cause(child))
	}
}
