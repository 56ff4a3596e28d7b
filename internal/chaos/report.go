package chaos

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"sort"
	"strings"
	"time"
)

// Report is what Check found: the run's figures and its violations. A run
// passes when Violations is empty.
type Report struct {
	Duration   time.Duration
	Processes  int
	Kills      int
	Pauses     int
	PauseTotal time.Duration
	TornLines  int // event lines cut short by SIGKILL, skipped

	Acquisitions  int
	LockFailures  map[string]int // Lock errors by class
	Cancellations map[string]int // lock contexts ended, by cause
	Releases      map[string]int // Unlock results by class

	Faults      map[string]int // injected, by kind
	FaultsByOp  map[string]int
	LostReplies map[string]int // writes that landed but whose reply was dropped, by operation
	ClaimWrites map[string]int // claim and unclaim writes answered, by operation and outcome

	AdoptedAcquires   int // acquire replies lost after landing, then adopted by the same Lock call
	AbandonedAcquires int // ... whose Lock call gave up, and whose record was released
	AdoptionMedian    time.Duration
	AdoptionMax       time.Duration

	Takeovers          int     // acquisitions of a record nobody released
	TakeoversUndecided int     // ... where an unanswered write of the old holder leaves the bound undecidable
	TakeoverMin        float64 // delay from the old holder's last landed write, in leases
	TakeoverMedian     float64
	TakeoverMax        float64
	AfterKill          int
	AfterKillMedian    float64 // delay from SIGKILL, in leases

	Overlaps map[string]int // a holder acquired while an older one had not unlocked, by the older one's state

	// Mixed runs, by kind of holder: dynamutex, java or python. Pairs read
	// "old→new".
	AcquisitionsByKind    map[string]int
	KillsByKind           map[string]int
	PausesByKind          map[string]int
	CrossHandoffs         map[string]int // the old holder released, the next of another kind (or another client process) took it
	CrossTakeovers        map[string]int // the old holder had not released
	ClientAfterKill       int            // takeovers of killed client holders
	ClientAfterKillMedian float64        // ... their delay from SIGKILL to the taker's answer, in leases
	ClientUntold          int            // Python holders taken over while paused whose release returned cleanly, with no notice seen

	// Session-lease runs (WithSessionLease). Kinds of worker: "session"
	// and "per-lock".
	AcquisitionsByLease  map[string]int
	KillsByLease         map[string]int
	PausesByLease        map[string]int
	SessionsCreated      int     // Session records created
	SessionsRevoked      int     // ... revoked by another process
	SessionsEnded        int     // ... ended by their owner at Close
	RevocationsUndecided int     // revocations that an unanswered write of the owner leaves undecidable
	RevocationMin        float64 // delay of a revocation after the owner's last landed write, in leases
	RevocationMedian     float64
	RevocationMax        float64
	SessionsTold         int // Sessions that learned from their renewal that they were revoked
	SessionLockNotices   int // locks those Sessions reported lost with them ("session revoked")
	LocksLostTogether    int // locks held under a Session when it was revoked
	MostLostTogether     int // ... the most under one Session
	// LostTogetherHow says how the holders of those locks heard of it: the
	// Session's notice, an Unlock that found the record taken, an Unlock
	// under way before the revocation or that released the record first,
	// or never (killed).
	LostTogetherHow  map[string]int
	SessionTakeovers int // locks taken from a dead Session without a release (also in Takeovers)

	// Semaphore runs: the number of permits, and the most holders with
	// live contexts seen at once (checkSemaphore).
	SemaphoreLimit int
	SemaphoreMost  int

	WritesAccepted        int
	WritesRefused         int // refused by the fence
	WritesFailed          int // no answer from the ledger
	RefusedWhileLive      int // fenced or guarded, refused although the writer's context was live (its process had been paused)
	ZombieRefused         int // writes made on purpose after danger or loss
	ZombieAccepted        int // ... accepted because no newer holder had written yet
	GuardedAccepted       int // writes under Lease.GuardedWrite, accepted
	GuardedRefused        int // ... refused because the lock had moved on
	GuardedFailed         int // ... with another error
	GuardedZombieRefused  int // ... made on purpose after danger or loss, refused
	GuardedZombieAccepted int // ... accepted because no later acquisition had landed
	PausedHolders         int // holders paused past their safe time
	ResumedRefused        int // their writes after resuming, refused
	ResumedAccepted       int // ... accepted because no newer holder had written

	// Clock-bound runs.
	Clocks              []ProcClock   // each worker's declared bound and offset
	ClockUntrusted      int           // times a worker's Date check judged its clock outside its bound
	ClockTrusted        int           // ... and back within it
	TakeoversByClock    int           // takeovers whose acquire had not watched the record's version: by deadline
	ClockTakeoverMedian float64       // their delay after the old holder's last landed write, in leases
	EarlyTakeovers      int           // takeovers within the lease (each also a violation)
	TakeoversAfterStamp int           // by clock, within a lease of the old write's send but a lease after its stamp
	RogueEarly          int           // ... of a rogue's record
	RogueViolations     int           // violations whose victim was a rogue's holder
	StampGapMax         time.Duration // the longest a stamped request waited to be sent (SDK retries, injected latency, pauses)

	// Election runs: Proclaim results, "ok" or the error's class.
	Proclaims map[string]int

	Violations     []string // the first few
	ViolationTotal int      // all of them

	first       int64
	expectEarly bool
	adoption    []time.Duration
	takeover    []float64
	afterKill   []float64
	byClock     []float64

	clientAfterKill []float64
	revocation      []float64
}

// ProcClock is one worker's clock in a clock-bound run. A rogue's Offset
// exceeds its Bound.
type ProcClock struct {
	Proc   int
	Bound  time.Duration
	Offset time.Duration
	Rogue  bool
}

func newReport() *Report {
	return &Report{LockFailures: map[string]int{}, Cancellations: map[string]int{}, Releases: map[string]int{},
		Faults: map[string]int{}, FaultsByOp: map[string]int{}, LostReplies: map[string]int{}, ClaimWrites: map[string]int{}, Overlaps: map[string]int{},
		AcquisitionsByKind: map[string]int{}, KillsByKind: map[string]int{}, PausesByKind: map[string]int{},
		CrossHandoffs: map[string]int{}, CrossTakeovers: map[string]int{},
		AcquisitionsByLease: map[string]int{}, KillsByLease: map[string]int{}, PausesByLease: map[string]int{},
		LostTogetherHow: map[string]int{}, Proclaims: map[string]int{}}
}

const maxViolations = 50

func (r *Report) violate(format string, args ...any) {
	r.ViolationTotal++
	if len(r.Violations) < maxViolations {
		r.Violations = append(r.Violations, fmt.Sprintf(format, args...))
	} else if len(r.Violations) == maxViolations {
		r.Violations = append(r.Violations, "... more violations not shown")
	}
}

func (r *Report) finish() {
	if n := len(r.adoption); n > 0 {
		slices.Sort(r.adoption)
		r.AdoptionMedian, r.AdoptionMax = r.adoption[n/2], r.adoption[n-1]
	}
	if n := len(r.takeover); n > 0 {
		sort.Float64s(r.takeover)
		r.TakeoverMin, r.TakeoverMedian, r.TakeoverMax = r.takeover[0], r.takeover[n/2], r.takeover[n-1]
	}
	if n := len(r.afterKill); n > 0 {
		sort.Float64s(r.afterKill)
		r.AfterKill, r.AfterKillMedian = n, r.afterKill[n/2]
	}
	if n := len(r.clientAfterKill); n > 0 {
		sort.Float64s(r.clientAfterKill)
		r.ClientAfterKill, r.ClientAfterKillMedian = n, r.clientAfterKill[n/2]
	}
	r.finishSessions()
	if n := len(r.byClock); n > 0 {
		sort.Float64s(r.byClock)
		r.ClockTakeoverMedian = r.byClock[n/2]
	}
}

// OK reports whether the run passed. Ordinarily that is when it broke no
// guarantee. With Params.ExpectEarly it is when a rogue's lock was taken
// over within the lease, proving that the bound is what keeps takeovers
// late and that the checker sees it fail, and every violation concerned a
// rogue's holder.
func (r *Report) OK() bool {
	if r.expectEarly {
		return r.RogueEarly > 0 && r.ViolationTotal == r.RogueViolations
	}
	return r.ViolationTotal == 0
}

// Write prints the report for people.
func (r *Report) Write(w io.Writer) {
	p := func(format string, args ...any) { fmt.Fprintf(w, format+"\n", args...) }
	p("duration              %v", r.Duration.Round(time.Millisecond))
	p("processes             %d (%d killed with SIGKILL, %d paused with SIGSTOP for %v in all)",
		r.Processes, r.Kills, r.Pauses, r.PauseTotal.Round(time.Millisecond))
	p("acquisitions          %d", r.Acquisitions)
	if len(r.Proclaims) > 0 {
		p("proclaims             %d: %s", sum(r.Proclaims), counts(r.Proclaims))
	}
	p("lock calls failed     %s", counts(r.LockFailures))
	p("contexts ended        %s", counts(r.Cancellations))
	p("unlock results        %s", counts(r.Releases))
	p("faults injected       %d: %s", sum(r.Faults), counts(r.Faults))
	p("  by operation        %s", counts(r.FaultsByOp))
	p("lost replies (landed) %s", counts(r.LostReplies))
	p("claim writes          %s", counts(r.ClaimWrites))
	p("  acquires adopted    %d (median %v, slowest %v from the lost reply to Lock returning); %d given up and released",
		r.AdoptedAcquires, r.AdoptionMedian.Round(time.Millisecond), r.AdoptionMax.Round(time.Millisecond), r.AbandonedAcquires)
	p("takeovers             %d; delay after the old holder's last landed write: min %.2f, median %.2f, max %.2f leases",
		r.Takeovers, r.TakeoverMin, r.TakeoverMedian, r.TakeoverMax)
	p("  undecided           %d (an unanswered write of the old holder may have landed)", r.TakeoversUndecided)
	p("  of killed holders   %d; median %.2f leases after SIGKILL", r.AfterKill, r.AfterKillMedian)
	p("overlapping holders   %d: %s", sum(r.Overlaps), counts(r.Overlaps))
	p("fenced writes         %d accepted, %d refused (%d while the writer's context was live), %d unanswered",
		r.WritesAccepted, r.WritesRefused, r.RefusedWhileLive, r.WritesFailed)
	p("  after danger/loss   %d refused, %d accepted (no newer holder had written)", r.ZombieRefused, r.ZombieAccepted)
	p("guarded writes        %d accepted, %d refused, %d failed; after danger/loss %d refused, %d accepted (no later acquisition yet)",
		r.GuardedAccepted, r.GuardedRefused, r.GuardedFailed, r.GuardedZombieRefused, r.GuardedZombieAccepted)
	p("  paused holders      %d; fenced writes after resuming: %d refused, %d accepted (no newer holder had written)",
		r.PausedHolders, r.ResumedRefused, r.ResumedAccepted)
	if r.TornLines > 0 {
		p("torn event lines      %d (from killed processes)", r.TornLines)
	}
	r.writeClocks(p)
	r.writeKinds(p)
	r.writeSessions(p)
	if r.SemaphoreLimit > 0 {
		p("semaphore             %d permits; most holders with live contexts at once: %d", r.SemaphoreLimit, r.SemaphoreMost)
	}
	p("violations            %d", r.ViolationTotal)
	for _, v := range r.Violations {
		p("  VIOLATION: %s", v)
	}
	if r.expectEarly {
		verdict := "FAIL"
		if r.OK() {
			verdict = "PASS"
		}
		p("expected              early takeovers of a rogue's lock: %d (at least 1); violations not about a rogue: %d (none); %s",
			r.RogueEarly, r.ViolationTotal-r.RogueViolations, verdict)
	}
}

// writeKinds prints the mixed-run part of the report, if the run was.
func (r *Report) writeKinds(p func(string, ...any)) {
	if len(r.AcquisitionsByKind) == 0 {
		return
	}
	p("by kind of holder     acquisitions: %s", counts(r.AcquisitionsByKind))
	p("  kills               %s; pauses: %s", counts(r.KillsByKind), counts(r.PausesByKind))
	p("  handoffs            %d: %s", sum(r.CrossHandoffs), counts(r.CrossHandoffs))
	p("  takeovers           %d: %s", sum(r.CrossTakeovers), counts(r.CrossTakeovers))
	p("  of killed clients   %d; median %.2f leases from SIGKILL to the taker's answer", r.ClientAfterKill, r.ClientAfterKillMedian)
	if r.ClientUntold > 0 {
		p("  python untold       %d taken over while paused, released cleanly with no notice seen before the release", r.ClientUntold)
	}
}

// writeClocks prints the clock-bound part of the report, if the run was.
func (r *Report) writeClocks(p func(string, ...any)) {
	if len(r.Clocks) == 0 {
		return
	}
	var b strings.Builder
	for i, c := range r.Clocks {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%d %v", c.Proc, c.Offset.Round(time.Millisecond))
		if c.Rogue {
			b.WriteString(" (rogue)")
		}
	}
	p("clock bound           %v; offsets by process: %s", r.Clocks[0].Bound, b.String())
	p("  takeovers by clock  %d (median %.2f leases after the last landed write); within the lease: %d, of a rogue's lock %d",
		r.TakeoversByClock, r.ClockTakeoverMedian, r.EarlyTakeovers, r.RogueEarly)
	p("  sent late           %d takeovers by clock came within a lease of the old holder's send, a lease after its stamp",
		r.TakeoversAfterStamp)
	p("  Date check          clock judged untrusted %d times, trusted again %d", r.ClockUntrusted, r.ClockTrusted)
	p("  stamp to send       at most %v (SDK retries, injected latency and pauses send a stamped request later)",
		r.StampGapMax.Round(time.Millisecond))
}

func counts(m map[string]int) string {
	if len(m) == 0 {
		return "none"
	}
	var b strings.Builder
	for i, k := range slices.Sorted(maps.Keys(m)) {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%s %d", k, m[k])
	}
	return b.String()
}

func sum(m map[string]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}
