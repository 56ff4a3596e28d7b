package interop

import (
	"sync"
	"testing"
	"time"
)

// versionWatch polls an item's record version from the test process, so
// that a takeover can be checked against a bound that holds whatever the
// timing of the old holder's heartbeats: the version a taker replaced
// landed after the last poll that still saw the version before it, and no
// taker may replace it sooner than a lease after it landed. A bound
// counted from the kill would be wrong: the last heartbeat may land up to
// a heartbeat period, or on a loaded machine longer, before the kill.
type versionWatch struct {
	stop, done chan struct{}

	mu      sync.Mutex
	history []seenVersion
}

// seenVersion is one version the watch saw, "" for an item without the
// client's version (absent, or dynamutex's record), and a time it landed
// after: the send of the last poll that still saw the version before it.
type seenVersion struct {
	rvn         string
	owner       string // the client's owner attribute, "" for dynamutex's record
	landedAfter time.Time
}

// watch starts polling the item's version every 10 ms until the test ends.
func (it lockItem) watch(t *testing.T) *versionWatch {
	w := &versionWatch{stop: make(chan struct{}), done: make(chan struct{})}
	attr := foreignVersion(it.kind)
	owner := ownerAttr(it.kind)
	go func() {
		defer close(w.done)
		// The first version seen landed at an unknown time: zero.
		last, lastSent := "\x00", time.Time{}
		for {
			sent := time.Now()
			if item, err := it.h.RawItem(it.table, itemKey(it.kind, it.key)); err == nil {
				if rvn := str(item, attr); rvn != last {
					w.mu.Lock()
					w.history = append(w.history, seenVersion{rvn: rvn, owner: str(item, owner), landedAfter: lastSent})
					w.mu.Unlock()
					last = rvn
				}
				lastSent = sent
			}
			select {
			case <-w.stop:
				return
			case <-time.After(10 * time.Millisecond):
			}
		}
	}()
	t.Cleanup(w.end)
	return w
}

// end stops the polling and waits for it.
func (w *versionWatch) end() {
	select {
	case <-w.stop:
	default:
		close(w.stop)
	}
	<-w.done
}

// sawChange waits until the watch has seen a version land after it began,
// so that the holder's later versions have a known lower bound. Call it
// before stopping or killing the holder.
func (w *versionWatch) sawChange(t *testing.T) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		w.mu.Lock()
		n := len(w.history)
		w.mu.Unlock()
		if n >= 2 {
			return
		}
	}
	t.Fatal("the holder's version did not change for 5 s: is it heartbeating?")
}

// replacedBy waits until the watch has seen a version written by the
// taker (its owner name, or "" for dynamutex's native record, which has no
// owner attribute of the client's; in the client's format it has), then stops it and returns the version that
// the taker's first write replaced. It goes by owner, not by the taker's
// version: the taker's heartbeats may replace its first version before the
// watch is read, and a client may report a version other than the one it
// wrote.
func (w *versionWatch) replacedBy(t *testing.T, owner string) seenVersion {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		w.mu.Lock()
		for i := 1; i < len(w.history); i++ {
			if w.history[i].owner == owner {
				old := w.history[i-1]
				w.mu.Unlock()
				w.end()
				return old
			}
		}
		w.mu.Unlock()
	}
	w.end()
	t.Fatalf("the item never showed a version written by %q; versions seen: %+v", owner, w.history)
	return seenVersion{}
}

// checkTakeover fails the test if the taker (takerOwner, as replacedBy
// takes it), whose write had landed by
// takenAt, replaced a version sooner than a lease (leaseMS) after it landed.
// It returns the version replaced.
func checkTakeover(t *testing.T, w *versionWatch, takerOwner string, takenAt time.Time) seenVersion {
	lease := leaseMS * time.Millisecond
	t.Helper()
	old := w.replacedBy(t, takerOwner)
	if old.landedAfter.IsZero() {
		t.Fatalf("the replaced version %q was there when the watch began; call sawChange first", old.rvn)
	}
	if after := takenAt.Sub(old.landedAfter); after < lease {
		t.Errorf("the taker replaced version %q at most %v after it landed, sooner than the %v lease", old.rvn, after, lease)
	}
	return old
}
