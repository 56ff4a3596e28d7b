package dynamutex

import (
	"fmt"
	"time"
)

// An Observer receives a Session's lifecycle events, to feed metrics without
// the library depending on a metrics package (WithObserver). Observe is
// called synchronously on the goroutine where the event happens: a Lock
// caller, Unlock, the heartbeat loop or a danger timer. It must return
// quickly, must be safe for concurrent use, and must not call the Session.
type Observer interface {
	Observe(Event)
}

// EventKind tells what happened to a lock.
type EventKind int

// The events. Every lifecycle event is also logged (WithLogger) with the
// table, owner, key and token: acquired, renewed and released at Debug; a
// late renewal, a failed renewal attempt, danger and loss at Warn.
const (
	// EventAcquired: Lock or TryLock took the lock. Wait is the time from the
	// call to the grant, local queueing included; Latency is the winning
	// request's round trip; Attempts counts the requests made; How says how
	// the lock came.
	EventAcquired EventKind = iota + 1
	// EventRenewed: a renewal landed. Wait is the time since the previous
	// confirmed write was sent; Latency is the request's round trip;
	// Attempts counts this renewal's requests. Late is set when it took more
	// than one attempt or came late enough to matter (see Event.Late).
	EventRenewed
	// EventRenewalFailed: a renewal request failed and will be retried. Err
	// is the request's error. The lock is still held.
	//
	// Under WithSessionLease the Session record is what is renewed: these
	// two events are about it, with its key (beginning
	// "dynamutex-session:") as Key and Token 0, and no lock has renewal
	// events of its own. Danger and loss are reported for each lock, and
	// the Session's revocation as EventSessionRevoked.
	EventRenewalFailed
	// EventInDanger: no renewal was confirmed within the safe time; the lock
	// context was cancelled with Err, which wraps ErrLeaseInDanger.
	EventInDanger
	// EventLost: the record was found changed behind the holder. Err is the
	// *LostError. It comes from a renewal, or from an Unlock that found the
	// record gone.
	EventLost
	// EventReleased: Unlock released the record. Latency is the time Unlock
	// spent on DynamoDB. Err is set when the release request failed: the
	// lock is given up all the same (its context is cancelled and it is no
	// longer renewed), and its record is taken over once its lease runs out.
	EventReleased
	// EventClockUntrusted: a DynamoDB reply showed this machine's wall clock
	// further from DynamoDB's than the declared bound (WithClockBound) allows.
	// The Session writes no deadlines and takes nothing over by clock until
	// EventClockTrusted. Skew is the local clock less the reply's Date; Err
	// says the same in words. The event concerns the Session, not one lock:
	// Key and Token are zero.
	EventClockUntrusted
	// EventClockTrusted: replies have agreed with the declared bound for a
	// whole lease since EventClockUntrusted; deadlines and takeovers by clock
	// resume. Skew is the latest reply's. Key and Token are zero.
	EventClockTrusted
	// EventClaimed: a Lock call refused for longer than the starvation
	// threshold (a second, or a quarter of the lease if shorter) claimed the
	// next turn in the record, so that no holder that re-locks at once, and
	// no younger waiter, takes the lock before it. Wait is how long the call
	// had waited; Attempts counts its requests so far. Token is zero. It is
	// sent once per Lock call, at its first claim that landed. A starving
	// Semaphore.Acquire sends it too, once, with the key of the permit it
	// claimed.
	EventClaimed
	// EventSessionRevoked: under WithSessionLease, the Session record's
	// renewal found it revoked by another process, or gone. Every lock the
	// Session held is lost with it (an EventLost each follows), and the
	// Session takes no more (ErrSessionRevoked). Key is the Session
	// record's key; Token is zero; Err is the *LostError.
	EventSessionRevoked
)

func (k EventKind) String() string {
	switch k {
	case EventAcquired:
		return "acquired"
	case EventRenewed:
		return "renewed"
	case EventRenewalFailed:
		return "renewal failed"
	case EventInDanger:
		return "in danger"
	case EventLost:
		return "lost"
	case EventReleased:
		return "released"
	case EventClockUntrusted:
		return "clock untrusted"
	case EventClockTrusted:
		return "clock trusted"
	case EventClaimed:
		return "claimed"
	case EventSessionRevoked:
		return "session revoked"
	}
	return fmt.Sprintf("EventKind(%d)", int(k))
}

// An Event is one lifecycle event of one lock. Fields that do not apply to
// the Kind are zero.
type Event struct {
	Kind    EventKind // what happened
	Key     string    // the lock's partition-key value; "" for the clock events
	SortKey string    // the lock's sort-key value, or ""
	Token   uint64    // the fencing token of the acquisition; 0 for EventClaimed and the clock events

	// Wait is a duration that ends at the event, and starts, by Kind:
	// EventAcquired, when Lock or TryLock was called (local queueing
	// included); EventClaimed, the same; EventRenewed, when the previous
	// confirmed write of the lock was sent. Zero for the other kinds.
	Wait time.Duration
	// Latency is the round trip of the request behind the event: the write
	// that took the lock (EventAcquired), the renewal (EventRenewed), or the
	// time Unlock spent on DynamoDB (EventReleased). Zero otherwise.
	Latency time.Duration
	// Attempts counts the requests: of the Lock call, reads and claims
	// included (EventAcquired, EventClaimed so far), or of this renewal
	// (EventRenewed, EventRenewalFailed). Zero otherwise.
	Attempts int
	// Late is set on EventRenewed when the renewal took more than one
	// attempt, or was sent more than a heartbeat period and a quarter after
	// the previous confirmed one (or, when the safe time is less than a
	// period and a half, past the middle between the period and the safe
	// time). A renewal a little past its period is on time: renewals are
	// scheduled a twentieth of a period early, and being late by a small
	// part of the slack before the safe time is no news. A late renewal is
	// logged at Warn (see WithLogger).
	Late bool
	// Err says what went wrong: the request's error (EventRenewalFailed,
	// and EventReleased when the release request failed), an error
	// wrapping ErrLeaseInDanger (EventInDanger), the *LostError
	// (EventLost), or the skew in words (EventClockUntrusted). Nil
	// otherwise.
	Err error
	// Skew is, for the clock events, the local wall clock less the Date of
	// the DynamoDB reply that triggered the event.
	Skew time.Duration
	// How tells, on EventAcquired, how the lock was taken: free, released,
	// taken over, or adopted after a lost reply. Zero for the other kinds.
	How AcquiredHow
}

// emit hands ev to the Observer, if there is one.
func (s *Session) emit(ev Event) {
	if s.cfg.observer != nil {
		s.cfg.observer.Observe(ev)
	}
}

// event starts an Event about l.
func (l *Lease) event(kind EventKind) Event {
	return Event{Kind: kind, Key: l.m.id.key, SortKey: l.m.id.sort, Token: l.token}
}
