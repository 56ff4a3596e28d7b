package dynamutex

import (
	"context"
	"fmt"
	"strings"
	"sync/atomic"
	"unicode/utf8"

	"github.com/dynamutex/dynamutex/internal/wire"
)

// Limits of DynamoDB that the library checks before making a request.
const (
	maxPartitionKeyBytes = 2048
	maxSortKeyBytes      = 1024
	maxOwnerBytes        = 1024
	maxItemBytes         = 400 * 1024
)

// A Mutex is a distributed lock on one key of the Session's table. Like
// sync.Mutex it is not reentrant, and any goroutine may Unlock it. Goroutines
// of one Session that share a Mutex, or hold Mutexes on the same key, exclude
// each other locally: a waiter wakes as soon as the holder unlocks, without
// polling DynamoDB. Create Mutexes with Session.NewMutex; a Mutex is cheap.
type Mutex struct {
	s     *Session
	id    lockID      // its sort is the sort-key value (WithSortKeyValue)
	extra *mutexExtra // nil for most Mutexes, which are 64 bytes without it

	lease atomic.Pointer[Lease] // the lease held, if any (hold, letGo)
}

// mutexExtra is what few Mutexes have: data, a sort-key value given
// explicitly, or bad input.
type mutexExtra struct {
	data    []byte
	hasSort bool // a sort-key value was given, even ""
	// election marks an Election's own Mutex, the one whose key may begin
	// with wire.ElectionKeyPrefix.
	election bool
	err      error // bad input, reported by every method before any request
}

// more returns m's extra, made on first need.
func (m *Mutex) more() *mutexExtra {
	if m.extra == nil {
		m.extra = &mutexExtra{}
	}
	return m.extra
}

// data is the data stored with the lock (WithData), or nil.
func (m *Mutex) data() []byte {
	if m.extra == nil {
		return nil
	}
	return m.extra.data
}

// bad is the Mutex's bad input, reported before any request, or nil.
func (m *Mutex) bad() error {
	if m.extra == nil {
		return nil
	}
	return m.extra.err
}

// hasSort reports whether a sort-key value was given, even "".
func (m *Mutex) hasSort() bool { return m.extra != nil && m.extra.hasSort }

// NewMutex returns a Mutex for key. Bad input (an empty key, one over
// DynamoDB's 2048-byte limit, data too large for an item, a missing or
// unexpected sort-key value) is reported by the Mutex's methods, before any
// request.
func (s *Session) NewMutex(key string, opts ...MutexOption) *Mutex {
	m := &Mutex{s: s}
	if s.cfg.keys.format == FormatPython {
		m.id.sort, m.more().hasSort = pythonSortValue, true // python-dynamodb-lock's default
	}
	for _, o := range opts {
		if o == nil {
			m.id, m.more().err = lockID{key: key}, optionError("MutexOption", "nil MutexOption in the list")
			return m
		}
		o(m)
	}
	m.id.key = key
	if err := s.validate(m); err != nil {
		m.more().err = err
	}
	return m
}

func (s *Session) validate(m *Mutex) error {
	key := m.id.key
	switch {
	case key == "":
		return fmt.Errorf("%w: empty key", ErrInvalidKey)
	case len(key) > maxPartitionKeyBytes:
		return fmt.Errorf("%w: key is %d bytes, DynamoDB allows %d", ErrInvalidKey, len(key), maxPartitionKeyBytes)
	case !utf8.ValidString(key):
		return fmt.Errorf("%w: key %q is not valid UTF-8", ErrInvalidKey, key)
	case isSessionKey(key):
		return fmt.Errorf("%w: key %q begins with %q, which names Session records (WithSessionLease)",
			ErrInvalidKey, key, wire.SessionKeyPrefix)
	case isElectionKey(key) && (m.extra == nil || !m.extra.election):
		return fmt.Errorf("%w: key %q begins with %q, which names election records (NewElection)",
			ErrInvalidKey, key, wire.ElectionKeyPrefix)
	case strings.HasPrefix(key, wire.SemaphoreKeyPrefix):
		return fmt.Errorf("%w: key %q begins with %q, which names the permits of Semaphores",
			ErrInvalidKey, key, wire.SemaphoreKeyPrefix)
	}
	sk := s.cfg.keys.sort
	switch {
	case sk == "" && m.hasSort():
		return fmt.Errorf("%w: WithSortKeyValue given, but the Session has no sort key (see WithSortKey)", ErrInvalidKey)
	case sk != "" && (!m.hasSort() || m.id.sort == ""):
		return fmt.Errorf("%w: the table has sort key %q, so the Mutex needs a non-empty WithSortKeyValue", ErrInvalidKey, sk)
	case len(m.id.sort) > maxSortKeyBytes:
		return fmt.Errorf("%w: sort-key value is %d bytes, DynamoDB allows %d", ErrInvalidKey, len(m.id.sort), maxSortKeyBytes)
	case !utf8.ValidString(m.id.sort):
		return fmt.Errorf("%w: sort-key value %q is not valid UTF-8", ErrInvalidKey, m.id.sort)
	}
	if room := s.dataRoom(m.id); len(m.data()) > room {
		return fmt.Errorf("%w: %d bytes of data for key %q; at most %d fit in a DynamoDB item with the lock's own attributes",
			ErrDataTooLarge, len(m.data()), key, room)
	}
	return nil
}

// dataRoom is how many bytes of data fit in an item beside everything else a
// lock record holds, sized for the largest values those attributes can take.
func (s *Session) dataRoom(id lockID) int {
	l := s.store.layout()
	used := len(s.cfg.keys.partition) + len(id.key) + len(s.cfg.keys.sort) + len(id.sort)
	used += len(l.Owner) + len(s.cfg.owner)
	used += len(l.Version) + 36 // a UUID
	used += len(attrToken) + 21 + len(l.Lease) + 21 + len(l.Expires) + 21
	used += len(l.Released) + 1 + len(attrData)
	used += len(attrSent) + 21 + len(attrDeadline) + 21 + len(attrStamped) + 36 // the clock stamp
	used += claimRoom
	// Under a session lease: the Session's key and the lock version.
	used += len(wire.AttrSession) + len(wire.SessionKeyPrefix) + 36 + len(wire.AttrLockVersion) + 36
	return maxItemBytes - used - 100 // DynamoDB's own per-attribute overhead
}

// claimRoom is the most a starving waiter's claim can add to a record: it
// is another Session's, so only the owner limit bounds its owner.
const claimRoom = len(attrClaim) + len(claimVersion) + 36 + len(claimOwner) + maxOwnerBytes +
	len(claimBeat) + 36 + len(claimSince) + 21 + len(claimLease) + 21 + 5*3 // map entries' own overhead

// Key returns the Mutex's partition-key value.
func (m *Mutex) Key() string { return m.id.key }

// Lock blocks until it holds the lock, ctx ends, or the Session closes. It
// returns a child of ctx that carries the Lease (see LeaseFrom) and is
// cancelled, with context.Cause telling why, when the lock is lost
// (ErrLockLost), falls into danger (ErrLeaseInDanger), the Session closes
// (ErrSessionClosed), Unlock runs (ErrUnlocked) or ctx ends. Pass it to the
// work the lock protects.
//
// An uncontended Lock makes exactly one conditional write. While another
// process holds the lock, Lock reads the record with jittered backoff
// (WithBackoff; about one strongly consistent read a second at the
// defaults), writes again only when a read shows it free, and takes the
// lock over only after it has itself watched the
// holder's record unchanged for the holder's whole lease, or, when both
// Sessions declared a clock bound (WithClockBound), once the holder's
// deadline has passed, which its first attempt checks too. If ctx ends while a
// write's outcome is unknown, the Session releases that write in the
// background if it landed. Each request is abandoned after half a lease
// without an answer and retried, so a dead connection cannot hold Lock up.
//
// If the process was paused between sending the winning write and reading
// its answer for longer than the safe time, Lock still returns the lock, but
// its context is already cancelled with ErrLeaseInDanger.
//
// On error the lock is not held and Unlock must not be called. On success
// the lock is held until Unlock, even after ctx ends: ending ctx ends the
// lock's context but does not release the record.
func (m *Mutex) Lock(ctx context.Context) (context.Context, error) {
	return m.s.lock(ctx, m, lockCall{wait: true})
}

// TryLock makes one attempt to take the lock and returns ErrLocked, as a
// *HeldError, if it is held elsewhere. It makes no request when another
// goroutine of this Session holds the key. With a clock bound
// (WithClockBound) that one attempt also takes over a holder that declared
// a bound and is past its deadline, so a brand-new Session recovers a
// crashed holder's lock at once. Without one, observations persist in the
// Session, so a TryLock repeated after the holder has stopped renewing for a
// whole lease (and within ten minutes, or ten leases, of the first TryLock
// that saw it) takes the abandoned lock over; HeldError.LastWrite tells
// whether the holder looks dead enough to be worth that wait. Otherwise it
// behaves like Lock.
func (m *Mutex) TryLock(ctx context.Context) (context.Context, error) {
	return m.s.lock(ctx, m, lockCall{})
}

// Unlock releases the lock with one conditional write and cancels the lock's
// context with ErrUnlocked, or with ErrLeaseInDanger if the safe time had
// already run out (say, after the process was paused), so that
// context.Cause tells afterwards whether the work may have overlapped with
// another holder's. It releases the record even when ctx is already
// cancelled, so `defer m.Unlock(ctx)` works at the end of a request; it waits
// at most one lease duration for DynamoDB. It works after Session.Close.
//
// It returns ErrNotLocked if the Mutex holds no lock, and an error wrapping
// ErrLockLost if the lock had been lost: the protected work may then have
// overlapped with another holder's. The local lock is released in every case.
func (m *Mutex) Unlock(ctx context.Context) error {
	if err := m.bad(); err != nil {
		return err
	}
	l := m.letGo()
	if l == nil {
		return ErrNotLocked
	}
	err := m.s.release(ctx, l)
	m.s.unlockLocal(l.m.id)
	return err
}
