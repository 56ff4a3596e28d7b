package chaos

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"github.com/dynamutex/dynamutex/internal/wire"
)

// Kinds of Event.
const (
	// KindAcquired: Lock returned a lock context. Start is when Lock was
	// called, At when it returned.
	KindAcquired = "acquired"
	// KindLockFailed: Lock returned an error (Cause).
	KindLockFailed = "lock-failed"
	// KindCancelled: a lock context ended, for Cause (see causes below).
	KindCancelled = "cancelled"
	// KindReleased: Unlock returned; Cause is its error class, "" for nil.
	KindReleased = "released"
	// KindWrite: a ledger write, sent at Start, answered at At. OK means
	// accepted, with the ledger's apply order in Seq for a fenced write.
	// Guarded writes go through Lease.GuardedWrite and carry no Seq.
	KindWrite = "write"
	// KindSent: the transport sent a lock-table write of the library (Op,
	// From, Version) to DynamoDB as request Req of its process.
	KindSent = "sent"
	// KindLanded: DynamoDB applied request Req (HTTP 200), whether or not
	// its reply reached the library (Dropped). Token is an acquisition's.
	KindLanded = "landed"
	// KindFound: request Req failed its condition because an earlier request
	// with the same version had landed; Token is the one that write got.
	KindFound = "found"
	// KindRefused: request Req got another answer and did not land.
	KindRefused = "refused"
	// KindFault: the transport injected Fault into an Op request.
	KindFault = "fault"
	// KindKill, KindStop, KindCont: the parent sent SIGKILL, SIGSTOP or
	// SIGCONT to process Proc at At.
	KindKill = "kill"
	KindStop = "stop"
	KindCont = "cont"
	// KindExit: the parent saw process Proc exit (Cause: its status).
	KindExit = "exit"
	// KindClock: a worker of a clock-bound run declared Bound with
	// WithClockBound and shifted its wall clock by Offset, before its first
	// request. A worker whose |Offset| exceeds its Bound is a rogue: its
	// deadlines come too early.
	KindClock = "clock"
	// KindClaimWrite: a claim or unclaim write (Op) was answered; OK tells
	// a write that landed from a failed condition.
	KindClaimWrite = "claim-write"
	// KindClockUntrusted, KindClockTrusted: the worker's Session judged its
	// clock outside, or back within, its bound from a reply's Date header
	// (Skew: its clock less the Date).
	KindClockUntrusted = "clock-untrusted"
	KindClockTrusted   = "clock-trusted"
	// KindReady: a client worker's driver (the real Java or Python lock
	// client) printed its ready line; Client names it, Cause is its owner.
	// Every event of that Proc is then the client's.
	KindReady = "ready"
	// KindLostNotice: a session-lease worker's Session reported a lock lost
	// (the Observer's EventLost): Key and Token are the lock's, Cause the
	// *LostError's reason. When Key is a Session record's
	// (wire.SessionKeyPrefix), with no Token, it is the Session itself,
	// found revoked ("session revoked") by its renewal; the notices of its
	// locks follow.
	KindLostNotice = "lost-notice"
)

// ReasonSessionRevoked is the reason of the *LostError of every lock a
// revoked Session held, and of the Session's own.
const ReasonSessionRevoked = "session revoked"

// Cancellation causes, as workers classify them.
const (
	CauseDanger   = "danger"          // ErrLeaseInDanger
	CauseLost     = "lost"            // ErrLockLost
	CauseUnlocked = "unlocked"        // ErrUnlocked: the holder's own Unlock
	CauseClosed   = "closed"          // ErrSessionClosed
	CauseShutdown = "shutdown"        // the worker's own context, at the end of the run
	CauseWaited   = "waited too long" // the worker's bound on one Lock call (LockWithin)
	CauseRevoked  = "session revoked" // ErrSessionRevoked: Lock on a Session whose record was revoked
)

// Lock-table operations, as the transport tells them apart: the writes as
// package wire classifies them, a waiter's read and a batch read.
const (
	OpAcquire   = string(wire.OpAcquire)
	OpRenew     = string(wire.OpRenew)
	OpRelease   = string(wire.OpRelease)
	OpRead      = "read"                 // a waiter's GetItem: faults only, since a read changes nothing the checker follows
	OpBatchRead = "batch-read"           // a semaphore's BatchGetItem of its permits: faults only, as OpRead
	OpClaim     = string(wire.OpClaim)   // a starving waiter's claim of the next turn: it decides order, never exclusion
	OpUnclaim   = string(wire.OpUnclaim) // a Lock call that gave up removes its claim
	OpSession   = string(wire.OpSession) // the creation of a Session record (WithSessionLease)
	OpOther     = string(wire.OpOther)
)

// An Event is one line of the run's log. Times are wall-clock Unix
// nanoseconds: all processes run on one machine and share that clock.
type Event struct {
	Kind  string `json:"kind"`
	At    int64  `json:"at"`
	Start int64  `json:"start,omitempty"`
	Proc  int    `json:"proc"`
	G     int    `json:"g,omitempty"`
	Key   string `json:"key,omitempty"`
	Token uint64 `json:"token,omitempty"`
	Cause string `json:"cause,omitempty"`

	// A client worker's lock events carry no token: Client names the
	// client ("java", "python") and Turn counts the worker's acquisitions,
	// telling them apart as a token would.
	Client string `json:"client,omitempty"`
	Turn   uint64 `json:"turn,omitempty"`

	// Writes to the ledger.
	OK      bool   `json:"ok,omitempty"`
	Seq     uint64 `json:"seq,omitempty"`
	Live    bool   `json:"live,omitempty"`    // the lock context was live when the write was sent
	Zombie  bool   `json:"zombie,omitempty"`  // sent on purpose after the context ended
	Guarded bool   `json:"guarded,omitempty"` // a guarded write, not a fenced one

	// Lock-table writes and faults.
	Req     uint64 `json:"req,omitempty"`
	Op      string `json:"op,omitempty"`
	From    string `json:"from,omitempty"`    // the version a renewal or release replaced
	Version string `json:"version,omitempty"` // the version the write set
	Dropped bool   `json:"dropped,omitempty"`
	Fault   string `json:"fault,omitempty"`

	// What a lock-table write said about clocks, in the writer's wall clock
	// (Unix ms): the send time it stamped, the deadline it set (0: none) and,
	// for an acquire, the clock reading below which it may take a deadline
	// over (0: none). Observed is the version an acquire may take over by
	// observation ("" for none).
	Stamp    int64  `json:"stamp,omitempty"`
	Deadline int64  `json:"deadline,omitempty"`
	Before   int64  `json:"before,omitempty"`
	Observed string `json:"observed,omitempty"`

	// Session leases, on an acquire the transport sent: Session is the
	// Session record the write puts the lock under, and Dead the ones it
	// read as revoked or gone, whose locks it may take.
	Session string   `json:"session,omitempty"`
	Dead    []string `json:"dead,omitempty"`

	// Clock events, in nanoseconds.
	Offset int64 `json:"offset,omitempty"`
	Bound  int64 `json:"bound,omitempty"`
	Skew   int64 `json:"skew,omitempty"`
}

// Log writes events as JSON lines. Each event is one write(2), so that a
// process killed with SIGKILL loses at most the event it was writing.
type Log struct {
	mu   sync.Mutex
	w    io.Writer
	proc int
}

// NewLog returns a Log that stamps proc on every event. The parent, whose
// events name the process they act on, passes 0.
func NewLog(w io.Writer, proc int) *Log { return &Log{w: w, proc: proc} }

// Add stamps e with the process and, if unset, the current time, and writes it.
func (l *Log) Add(e Event) {
	if l.proc != 0 {
		e.Proc = l.proc
	}
	if e.At == 0 {
		e.At = time.Now().UnixNano()
	}
	b, err := json.Marshal(e)
	if err != nil {
		panic(err) // Event has only plain fields
	}
	b = append(b, '\n')
	l.mu.Lock()
	defer l.mu.Unlock()
	_, _ = l.w.Write(b)
}

// ReadEvents reads a log of events, one JSON object a line.
func ReadEvents(r io.Reader) ([]Event, error) {
	var evs []Event
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 1<<20)
	for line := 1; sc.Scan(); line++ {
		var e Event
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			return nil, fmt.Errorf("chaos: event line %d: %w", line, err)
		}
		evs = append(evs, e)
	}
	return evs, sc.Err()
}

// ReadEventsFile reads the log at path.
func ReadEventsFile(path string) ([]Event, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return ReadEvents(f)
}
