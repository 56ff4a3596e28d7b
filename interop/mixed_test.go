package interop

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// Mixed contention, the main proof that a format shares a table: on one key
// of each client's table, two processes of the client and two dxdriver
// processes writing that client's format loop acquire, hold, release, until
// they have taken the lock mixedRounds times between them. The ledger of
// their holdings must show no two at once, but where the earlier holder had
// lost the lock and knew it; both kinds must get a share.
func TestMixedContention(t *testing.T) {
	for _, kind := range []Kind{Java, Python} {
		t.Run(string(kind), func(t *testing.T) { mixed(t, kind, false) })
	}
}

// The same, but one process of each kind is stopped with SIGSTOP once while
// it holds the lock, for longer than the lease: another process takes the
// lock over, and the paused one, resumed, must know it lost the lock before
// its release (that is what excuses its overlap in the ledger).
func TestMixedContentionWithPauses(t *testing.T) {
	for _, kind := range []Kind{Java, Python} {
		t.Run(string(kind), func(t *testing.T) { mixed(t, kind, true) })
	}
}

const (
	mixedRounds  = 200
	mixedPollMS  = 50
	mixedWaitMS  = 3000
	mixedPauseMS = 50
	mixedTimeout = 100 * time.Second
	// mixedStop is how long a paused holder stays stopped: past the lease,
	// and past a waiter's whole wait, which a waiter that gives up and
	// starts again counts anew.
	mixedStop = 3500 * time.Millisecond
	// mixedStopRound is the round of its own in which a paused process
	// stops: late enough that the others are all waiting.
	mixedStopRound = 5
)

func mixed(t *testing.T, kind Kind, pauses bool) {
	h := setup(t)
	tbl := createFormatTable(t, h, kind)
	it := lockItem{h, kind, tbl, "mixed"}
	var drivers []*Driver
	for _, name := range []string{"a", "b"} {
		drivers = append(drivers, start(t, h, kind, string(kind)+"-"+name), start(t, h, Dynamutex, "dynamutex-"+name))
	}
	led, busy := it.contend(t, drivers, pauses)
	byOwner, byKind := led.counts()
	taken := len(led.holdings)
	t.Logf("%s table: %d acquisitions (%d attempts ran out waiting) by owner %v, by client %v", kind, taken, busy, byOwner, byKind)
	checkPaused(t, led, pauses)
	excused, bad := led.overlaps()
	if len(excused) > 0 {
		t.Logf("%d overlaps after a loss the holder knew of, the first: %s", len(excused), excused[0])
	}
	for _, o := range bad {
		t.Errorf("two holders at once: %s", o)
	}
	if taken < mixedRounds {
		t.Errorf("only %d acquisitions in %v, want %d", taken, mixedTimeout, mixedRounds)
	}
	// A good share: each kind at least a tenth of the acquisitions.
	for _, k := range []Kind{kind, Dynamutex} {
		if byKind[k]*10 < taken {
			t.Errorf("%s processes took the lock %d times of %d: starved", k, byKind[k], taken)
		}
	}
}

// contend runs every driver's loop of rounds on the item until they have
// taken it mixedRounds times between them, or mixedTimeout passed. With
// pauses, the first driver of each kind stops once (mixedStopRound). It
// returns the ledger and the number of acquires that ran out of waiting.
func (it lockItem) contend(t *testing.T, drivers []*Driver, pauses bool) (*ledger, int64) {
	var led ledger
	var taken, busy atomic.Int64
	deadline := time.Now().Add(mixedTimeout)
	var wg sync.WaitGroup
	errs := make(chan error, len(drivers))
	for i, d := range drivers {
		wg.Go(func() {
			for round := 0; taken.Load() < mixedRounds && time.Now().Before(deadline); round++ {
				var stop time.Duration
				if pauses && i < 2 && round == mixedStopRound {
					stop = mixedStop
				}
				got, err := it.hold(d, &led, stop)
				if err != nil {
					errs <- err
					return
				}
				if got {
					taken.Add(1)
				} else {
					busy.Add(1)
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	return &led, busy.Load()
}

// checkPaused fails the test unless every holder the test paused knew, by
// its release, that it had lost the lock, and (with pauses) two were.
func checkPaused(t *testing.T, led *ledger, pauses bool) {
	t.Helper()
	for _, p := range led.paused() {
		t.Logf("%s was stopped %v while holding; resumed, it knew it had lost the lock: %v (%s)", p.owner, mixedStop, p.lost, p.why)
		if !p.lost {
			t.Errorf("%s, stopped %v while holding, did not know it had lost the lock when it released", p.owner, mixedStop)
		}
	}
	if n := len(led.paused()); pauses && n != 2 {
		t.Errorf("%d holders were paused, want 2", n)
	}
}

// hold runs one round of d on the item: acquire, hold 20 to 50 ms, release,
// recording the holding in led. With stop, d is stopped that long right
// after its acquire, then given two heartbeat periods to learn what
// happened meanwhile. got is false when the acquire ran out of waiting,
// which is no error under contention.
func (it lockItem) hold(d *Driver, led *ledger, stop time.Duration) (got bool, err error) {
	acq := it.mixedCmd(d, "acquire")
	acq.WaitMS = mixedWaitMS
	r, err := d.Call(acq, time.Minute)
	switch {
	case err != nil:
		return false, err
	case !r.OK && waitRanOut(d.Kind, r):
		return false, nil
	case !r.OK:
		return false, replyError(d, r)
	}
	h := holding{owner: d.Owner, kind: d.Kind, start: time.Unix(0, r.TNS), paused: stop > 0}
	if stop > 0 {
		if err := pause(d, stop); err != nil {
			return false, err
		}
	}
	time.Sleep(time.Duration(20+rand.IntN(31)) * time.Millisecond)
	h.end = time.Now()
	if d.Kind == Python {
		st, err := d.Call(Command{Op: "state", Key: it.key}, time.Minute)
		if err != nil {
			return false, err
		}
		if st.Status == "INVALID" || slices.Contains(st.Events, "LOCK_STOLEN") {
			h.lost, h.why = true, fmt.Sprintf("state %s %v", st.Status, st.Events)
		}
	}
	r, err = d.Call(it.mixedCmd(d, "release"), time.Minute)
	if err != nil {
		return false, err
	}
	if lost, why := releaseLost(d.Kind, r); lost {
		h.lost, h.why = true, why
	} else if !r.OK && !h.lost {
		return false, replyError(d, r)
	}
	led.add(h)
	// A pause before the next acquire, as work between two turns would
	// take. Without it the releaser, or a dynamutex waiter, whose claim
	// gives it the next turn, re-locks within milliseconds and a 50 ms
	// poller of the other client sees the lock free almost never: with no
	// pause, dynamutex processes took 196 of 203 turns on the Java table.
	time.Sleep(time.Duration(mixedPauseMS+rand.IntN(mixedPauseMS)) * time.Millisecond)
	return true, nil
}

// waitRanOut tells a refusal because the lock stayed held for the whole
// wait, in each client's words.
func waitRanOut(kind Kind, r Reply) bool {
	switch kind {
	case Java:
		return r.Class == "LockNotGrantedException"
	case Python:
		return r.Code == "ACQUIRE_TIMEOUT"
	}
	return r.Class == "HeldError" || r.Class == "DeadlineExceeded"
}

// releaseLost tells whether a release reply shows that the holder had lost
// the lock before it released: Java's release returns false; dxdriver's
// status before Unlock was not LOCKED. An Unlock that finds the lock lost
// while the context was live is no excuse: the holder did not know.
func releaseLost(kind Kind, r Reply) (bool, string) {
	switch kind {
	case Java:
		return r.Class == "NotReleased", "Java release returned false"
	case Dynamutex:
		return r.Status != "LOCKED", "dxdriver status " + r.Status + ": " + r.Cause
	}
	return false, ""
}

// mixedCmd is it.cmd with the mixed tests' polls, and for Python a safe
// period far beyond the lease: a Python holder past its safe period stops
// heartbeating, so a paused one would never learn of the takeover.
func (it lockItem) mixedCmd(d *Driver, op string) Command {
	c := it.cmd(d, op)
	c.RefreshMS = mixedPollMS
	if d.Kind == Python {
		c.SafeMS = 100 * leaseMS
	}
	return c
}

// pause stops d for stop, resumes it and leaves it two heartbeat periods
// for its heartbeats to meet whatever the table holds now.
func pause(d *Driver, stop time.Duration) error {
	if err := d.Stop(); err != nil {
		return err
	}
	time.Sleep(stop)
	if err := d.Continue(); err != nil {
		return err
	}
	time.Sleep(2 * heartbeatMS * time.Millisecond)
	return nil
}
