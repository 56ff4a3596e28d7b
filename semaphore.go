package dynamutex

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"unicode/utf8"

	"github.com/dynamutex/dynamutex/internal/wire"
)

// maxPermits is the largest limit a Semaphore takes: one BatchGetItem
// reads at most that many keys, and a Semaphore reads all its permits at
// once.
const maxPermits = wire.MaxBatchRead

var (
	// ErrNoPermit is returned (wrapped) by Semaphore.TryAcquire when it
	// finds every permit held, or loses the one it found free to another
	// acquirer.
	ErrNoPermit = errors.New("dynamutex: no permit free")
	// ErrInvalidSemaphore is returned (wrapped) by every method of a
	// Semaphore created with a limit outside 1..100, or on a Session it
	// cannot work on: one of another format (WithFormat) or one whose
	// table has a sort key.
	ErrInvalidSemaphore = errors.New("dynamutex: invalid semaphore")
)

// A Semaphore is a distributed counting semaphore: at most n holders
// across every process hold one of its permits at a time. Permit i is an
// ordinary lock record under the reserved key
// "dynamutex-semaphore:<name>:<i>", so that each permit is held, renewed,
// endangered, lost, fenced and taken over from a dead holder exactly as a
// lock is: no permit leaks when its holder dies, and no counter can drift.
// See docs/SEMAPHORE.md. Create Semaphores with Session.NewSemaphore; a
// Semaphore is cheap and safe for concurrent use.
type Semaphore struct {
	s    *Session
	name string
	ids  []lockID // permit i's record
	data []byte   // what each holder writes in its record's data: name and limit
	err  error    // bad input, reported by every method before any request
}

// NewSemaphore returns a Semaphore of n permits named name. A Semaphore
// with limit n only ever takes permits 0..n-1, so processes that disagree
// on n for one name keep, together, to the largest n in use, and a
// Semaphore whose n shrank lets the holders of the permits beyond it
// finish but gives those permits to nobody after them.
//
// Bad input is reported by every method, before any request: an empty
// name, one not valid UTF-8 or too long for a key (ErrInvalidKey); n
// outside 1..100, a Session of FormatJava or FormatPython, or a table with
// a sort key (ErrInvalidSemaphore).
func (s *Session) NewSemaphore(name string, n int) *Semaphore {
	sem := &Semaphore{s: s, name: name}
	sem.err = s.validateSemaphore(name, n)
	if sem.err != nil {
		return sem
	}
	sem.ids = make([]lockID, n)
	for i := range sem.ids {
		sem.ids[i] = lockID{key: PermitKey(name, i)}
	}
	sem.data, _ = json.Marshal(permitData{Semaphore: name, Limit: n})
	return sem
}

// permitData is what a permit's holder writes in the record's data
// attribute: the semaphore's name and the holder's limit, so that status
// and list can show "holders out of n", and a shrink can be seen.
type permitData struct {
	Semaphore string `json:"semaphore"`
	Limit     int    `json:"limit"`
}

// PermitKey is the partition-key value of permit i of semaphore name.
func PermitKey(name string, i int) string {
	return wire.PermitKey(name, i)
}

func (s *Session) validateSemaphore(name string, n int) error {
	longest := len(PermitKey(name, maxPermits-1))
	switch {
	case name == "":
		return fmt.Errorf("%w: empty semaphore name", ErrInvalidKey)
	case longest > maxPartitionKeyBytes:
		return fmt.Errorf("%w: semaphore name is %d bytes; its permit keys must fit DynamoDB's %d",
			ErrInvalidKey, len(name), maxPartitionKeyBytes)
	case !utf8.ValidString(name):
		return fmt.Errorf("%w: semaphore name %q is not valid UTF-8", ErrInvalidKey, name)
	case n < 1 || n > maxPermits:
		return fmt.Errorf("%w: %d permits; a semaphore has 1 to %d", ErrInvalidSemaphore, n, maxPermits)
	case s.cfg.keys.format != FormatNative:
		return fmt.Errorf("%w: semaphores work in FormatNative only, and the Session uses %v",
			ErrInvalidSemaphore, s.cfg.keys.format)
	case s.cfg.keys.sort != "":
		return fmt.Errorf("%w: semaphores need a table without a sort key, and this one has %q",
			ErrInvalidSemaphore, s.cfg.keys.sort)
	}
	return nil
}

// Name returns the semaphore's name.
func (sem *Semaphore) Name() string { return sem.name }

// Limit returns n, the number of permits, or 0 if the Semaphore was
// created with bad input.
func (sem *Semaphore) Limit() int { return len(sem.ids) }

// A Permit is one permit of a Semaphore, held until Release. Its Lease
// (index, token) is that of the permit's lock record, and serves, for
// example, Lease.GuardedWrite.
type Permit struct {
	sem   *Semaphore
	m     *Mutex
	index int
	lease *Lease
}

// Index returns which permit is held: 0..n-1.
func (p *Permit) Index() int { return p.index }

// Lease returns the permit's Lease: its fencing token is that of the
// permit's record, so tokens of different permits are unrelated.
func (p *Permit) Lease() *Lease { return p.lease }

// Release gives the permit back, exactly as Mutex.Unlock releases a lock:
// one conditional write, the permit's context cancelled with ErrUnlocked
// (or ErrLeaseInDanger past the safe time), ErrNotLocked if already
// released, and an error wrapping ErrLockLost (a *LostError) if the permit
// had been lost, so that the work may have overlapped another holder's.
func (p *Permit) Release(ctx context.Context) error { return p.m.Unlock(ctx) }
