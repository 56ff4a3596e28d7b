package dynamutex

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/dynamutex/dynamutex/internal/wallclock"
	"github.com/dynamutex/dynamutex/internal/wire"
)

// Sentinel errors of elections.
var (
	// ErrNoLeader is returned by Election.Leader when nobody leads: the
	// election's record is absent or released.
	ErrNoLeader = errors.New("dynamutex: no leader")

	// ErrNotLeader is returned by Election.Proclaim and Election.Resign
	// when the Election does not lead: it never won a Campaign, or has
	// resigned since. Leadership that was lost is reported as a
	// *LostError (ErrLockLost) instead.
	ErrNotLeader = errors.New("dynamutex: not the leader")

	// ErrResigned is the cause of a Campaign's context that ended because
	// Resign ran. It wraps ErrUnlocked: resigning is unlocking the
	// election's record.
	ErrResigned = fmt.Errorf("%w: resigned", ErrUnlocked)
)

// An Election is leader election among the Sessions that campaign under
// one name: at most one of them leads at a time, by holding one lock record
// whose data carries the leader's value. It is safe for concurrent use. See
// docs/ELECTION.md for its guarantees and costs.
type Election struct {
	name string
	m    *Mutex
	err  error // bad input or format, reported by every method before any request

	mu    sync.Mutex
	since int64  // the leadership's start, Unix ms by the leader's wall clock
	seq   uint64 // the last proclamation sequence written
}

// NewElection returns the Election name on the Session's table. Its record
// is the lock record of key "dynamutex-election:" + name, which no Mutex
// may use. Bad input (an empty name, one too long for a key) or a Session
// whose format is not FormatNative is reported by every method of the
// Election, before any request.
func (s *Session) NewElection(name string) *Election {
	m := &Mutex{s: s, extra: &mutexExtra{election: true}}
	e := &Election{name: name, m: m}
	m.id.key = wire.ElectionKeyPrefix + name
	if s.cfg.keys.sort != "" {
		m.id.sort, m.extra.hasSort = wire.ElectionSortValue, true
	}
	switch {
	case name == "":
		e.err = fmt.Errorf("%w: empty election name", ErrInvalidKey)
	case s.cfg.keys.format != FormatNative:
		e.err = optionError("WithFormat", "elections need FormatNative, the Session has %s", formatName(s.cfg.keys.format))
	default:
		e.err = s.validate(m)
	}
	m.extra.err = e.err
	return e
}

func isElectionKey(key string) bool { return strings.HasPrefix(key, wire.ElectionKeyPrefix) }

// Name returns the election's name.
func (e *Election) Name() string { return e.name }

// checkValue reports a value too large for the record, before any request.
func (e *Election) checkValue(value []byte) error {
	if e.err != nil {
		return e.err
	}
	if room := e.m.s.dataRoom(e.m.id) - envelopeHeader; len(value) > room {
		return fmt.Errorf("%w: %d bytes of leader value for election %q; at most %d fit",
			ErrDataTooLarge, len(value), e.name, room)
	}
	return nil
}

// Campaign blocks until this Session leads the election with value, ctx
// ends, or the Session closes. It is Lock on the election's record: an
// uncontended Campaign makes one conditional write, and a Campaign behind a
// live leader waits by reading with backoff, claims the next turn as a
// starving waiter does, and takes over a dead leader once it has watched
// its record unchanged for its lease, or, under WithClockBound, past its
// deadline.
//
// It returns a context that is cancelled, with context.Cause telling why,
// when leadership is lost (ErrLockLost), falls into danger
// (ErrLeaseInDanger), Resign runs (ErrResigned), the Session closes
// (ErrSessionClosed) or ctx ends. Run the leader's work under it. On error
// nothing is left behind: a write whose reply was lost, and a claim, are
// released by the Session in the background.
//
// Under WithSessionLease the record is held under the Session's lease, as
// every lock of that Session is: leading costs no write of its own, and
// the leadership falls into danger, and is lost, with the Session record.
// A candidate takes it over once the leader's Session is revoked (watched
// unchanged for its lease, or past its deadline) or gone.
//
// A Campaign on a closed or revoked Session fails at once with
// ErrSessionClosed or ErrSessionRevoked. A second Campaign while this
// Election leads returns an error at once.
func (e *Election) Campaign(ctx context.Context, value []byte) (context.Context, error) {
	if err := e.checkValue(value); err != nil {
		return nil, err
	}
	s := e.m.s
	if e.m.lease.Load() != nil {
		return nil, fmt.Errorf("dynamutex: election %q: Campaign while this Election leads; Resign first", e.name)
	}
	value = append([]byte(nil), value...)
	call := lockCall{wait: true, data: func() []byte {
		// Set before the write: a Proclaim may follow the moment the
		// lease is ours, before Campaign returns. No Proclaim runs in
		// between, since this Election does not lead.
		since := wallclock.Now().UnixMilli()
		e.mu.Lock()
		e.since, e.seq = since, 0
		e.mu.Unlock()
		return encodeEnvelope(since, 0, value)
	}}
	return s.lock(ctx, e.m, call)
}

// Resign gives up leadership: it ends the Campaign's context with
// ErrResigned (or ErrLeaseInDanger, if the safe time had already run out)
// and releases the record with one conditional write, so that the next
// candidate takes over at once. It returns ErrNotLeader if the Election
// does not lead, and a *LostError if leadership had already been lost.
func (e *Election) Resign(ctx context.Context) error {
	if e.err != nil {
		return e.err
	}
	l := e.m.lease.Load()
	if l == nil {
		return ErrNotLeader
	}
	if !l.pastSafe() {
		l.cancel(ErrResigned)
	}
	err := e.m.Unlock(ctx)
	if errors.Is(err, ErrNotLocked) {
		return ErrNotLeader
	}
	return err
}
