package dynamutex

import (
	"context"
	"fmt"
	"iter"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/dynamutex/dynamutex/internal/wire"
)

// LockInfo describes one lock record, as Session.Inspect and Session.List
// read it.
type LockInfo struct {
	Key     string // the partition-key value
	SortKey string // the sort-key value, or "" for a table without one

	Owner    string        // the owner of the last acquisition
	Token    uint64        // the fencing token of the last acquisition
	Data     []byte        // the data stored with the lock (WithData), or nil
	Lease    time.Duration // the lease duration the holder asked waiters to respect
	Released bool          // the last holder released the lock; it is free

	// Unchanged is how long this Session has seen the record at its current
	// version, from the first read, Lock or TryLock of this Session that saw
	// that version; zero when this read is the first. A holder that renews
	// changes the version every heartbeat period, so a record unchanged for
	// longer than that has a holder that stopped renewing.
	Unchanged time.Duration

	// LastWrite is the writer's wall clock when it sent its last write, or
	// zero for a record written by an earlier release. A hint, never a
	// proof: a record not written for much longer than its Lease suggests a
	// dead holder, but the writer's clock may be wrong.
	LastWrite time.Time

	// Deadline is when a holder that declared a clock bound (WithClockBound)
	// stops counting on its lease, by its own clock plus its bound; zero when
	// the holder declared none, or for a released record. Sessions with a
	// bound take the record over once their clock, less their bound, has
	// passed it.
	Deadline time.Time

	// ClaimedBy is the owner of a waiter that has waited longer than the
	// starvation threshold and claimed the next turn, or "". While its claim
	// stands, only that waiter may take the lock, released or not; a claim
	// this Session has watched unchanged for the claimant's lease is stale
	// and no longer counts (Free says which).
	ClaimedBy string

	// Client names the lock client that wrote the record: "" for this
	// library, "java" for the Java AmazonDynamoDBLockClient, "python" for
	// python-dynamodb-lock. Such a record has no Token (unless it carries
	// this library's too), LastWrite or Deadline; Free follows that
	// client's own rule: released (Java's keep-release), or watched
	// unchanged for its Lease.
	Client string

	// Session is the key of the Session record whose lease keeps the lock,
	// for a lock held under a session lease (WithSessionLease); "" for a
	// lock renewed by itself, and for a released record. Inspect and List
	// then read that Session record, once per Session, and Unchanged,
	// LastWrite, Deadline and Lease are the Session record's: a lock
	// held under a session lease is alive exactly as long as its Session.
	Session string
	// SessionEnded reports that the Session record named by Session is
	// revoked, ended by Close, or gone: that Session can never renew
	// again, and the lock is free to take.
	SessionEnded bool

	// Election is the election's name for an election record
	// (Session.NewElection), whose key is "dynamutex-election:" + name; ""
	// for a lock. Leader is then that record's leader, as Election.Leader
	// reads it, or nil when the record is released: nobody leads. A leader
	// that died still shows until it is taken over.
	Election string
	Leader   *LeaderInfo

	// Err is set for a record this library cannot read: an item neither it
	// nor a known lock client wrote, or a damaged one. It is a *RecordError (ErrCorruptRecord), and
	// only Key and SortKey are filled in. Lock refuses such a key with the
	// same error and leaves the item alone.
	Err error

	pastDeadline bool // the Deadline has passed by this Session's bounded clock
	claimLive    bool // a claim stands that this Session has not seen go stale
}

// Free reports whether a Lock of this Session would take the lock at its
// next attempt: the record is released, this Session has watched it
// unchanged for its whole lease, or, for a Session with a clock bound, its
// Deadline has passed; and no live claim of another waiter stands in the
// way.
func (i LockInfo) Free() bool {
	return i.Err == nil && !i.claimLive &&
		(i.Released || i.SessionEnded || (i.Lease > 0 && i.Unchanged >= i.Lease) || i.pastDeadline)
}

// Inspect reads the record of key with one strongly consistent GetItem.
// For a table with a sort key, give the sort-key value as sortKey; give
// none for a table without one (more than one is an ErrInvalidKey). It
// returns ErrNoRecord if there is no record, and the LockInfo with its
// *RecordError for a record neither this library nor a known lock client
// (LockInfo.Client) wrote, or a damaged one.
//
// A read counts as an observation for takeovers, as a failed TryLock does: a
// Lock of this Session after Inspect has watched a record unchanged for its
// whole lease takes it over at once.
func (s *Session) Inspect(ctx context.Context, key string, sortKey ...string) (LockInfo, error) {
	var opts []MutexOption
	switch len(sortKey) {
	case 0:
	case 1:
		opts = append(opts, WithSortKeyValue(sortKey[0]))
	default:
		return LockInfo{}, fmt.Errorf("%w: Inspect takes one sort-key value at most, got %d", ErrInvalidKey, len(sortKey))
	}
	if isElectionKey(key) {
		opts = append(opts, func(m *Mutex) { m.more().election = true }) // an election is read as its record
	}
	m := s.NewMutex(key, opts...)
	if err := m.bad(); err != nil {
		return LockInfo{}, err
	}
	out, err := s.store.get(ctx, wire.Read(s.store.item(m.id)))
	if err != nil {
		return LockInfo{}, fmt.Errorf("dynamutex: inspect %q: %w", key, err)
	}
	if len(out.Item) == 0 {
		return LockInfo{}, fmt.Errorf("%w: %q", ErrNoRecord, key)
	}
	info := s.describe(m.id, out.Item, time.Now(), s.sessionLookup(ctx))
	return info, info.Err
}

// List returns every record of the table, read with strongly consistent
// Scan requests of up to 1 MB each, one page at a time as the loop
// advances. Foreign or damaged records come with LockInfo.Err set and the
// iteration goes on; the iteration's own error is set only when a request
// fails, and then it stops. Session records (WithSessionLease) are not
// locks and are left out; each lock held under a session lease names its
// Session, which List reads once per Session. Like Inspect, List counts as an observation of
// each record for takeovers: the Session remembers the version of every
// record it saw, about a hundred bytes each, for ten minutes or
// ten leases. Stop early by breaking out of the loop.
//
//	for info, err := range sess.List(ctx) {
//		if err != nil {
//			return err
//		}
//		fmt.Println(info.Key, info.Owner, info.Token, info.Released)
//	}
func (s *Session) List(ctx context.Context) iter.Seq2[LockInfo, error] {
	return func(yield func(LockInfo, error) bool) {
		var start map[string]types.AttributeValue
		look := s.sessionLookup(ctx)
		for {
			out, err := s.store.client.Scan(ctx, wire.Scan(s.store.table, start))
			if err != nil {
				yield(LockInfo{}, fmt.Errorf("dynamutex: list %q: %w", s.store.table, err))
				return
			}
			received := time.Now()
			for _, item := range out.Items {
				if k, _ := stringAttr(item, s.cfg.keys.partition); isSessionKey(k) {
					continue
				}
				if !yield(s.describeItem(item, received, look), nil) {
					return
				}
			}
			if len(out.LastEvaluatedKey) == 0 {
				return
			}
			start = out.LastEvaluatedKey
		}
	}
}

// describeItem reads the key of a scanned item, then describes it.
func (s *Session) describeItem(item map[string]types.AttributeValue, received time.Time, look sessionLookup) LockInfo {
	var id lockID
	var err error
	if id.key, err = stringAttr(item, s.cfg.keys.partition); err != nil {
		return LockInfo{Err: &RecordError{Attribute: s.cfg.keys.partition, Problem: err.Error()}}
	}
	if s.cfg.keys.sort != "" {
		if id.sort, err = stringAttr(item, s.cfg.keys.sort); err != nil {
			return LockInfo{Key: id.key, Err: &RecordError{Key: id.key, Attribute: s.cfg.keys.sort, Problem: err.Error()}}
		}
	}
	return s.describe(id, item, received, look)
}

// describeElection fills in the election and its leader for an election
// record, whose leader's envelope in the data must then be readable.
func describeElection(info *LockInfo, rec record) error {
	name, ok := strings.CutPrefix(info.Key, wire.ElectionKeyPrefix)
	if !ok {
		return nil
	}
	info.Election = name
	if rec.released {
		return nil
	}
	li, err := leaderOf(info.Key, rec)
	info.Leader = &li
	return err
}

// describe decodes the record of id, received at received, and notes its
// version as observed.
func (s *Session) describe(id lockID, item map[string]types.AttributeValue, received time.Time, look sessionLookup) LockInfo {
	info := LockInfo{Key: id.key, SortKey: id.sort}
	rec, err := decodeRecord(id.key, item)
	if err != nil {
		info.Err = err
		return info
	}
	info.Owner, info.Token, info.Data = rec.owner, rec.token, rec.data
	info.Lease, info.Released = rec.lease, rec.released
	info.LastWrite = rec.sent
	info.ClaimedBy = rec.claim.owner
	info.Client = rec.client
	if err := describeElection(&info, rec); err != nil {
		return LockInfo{Key: id.key, SortKey: id.sort, Err: err}
	}
	// A released record needs no watching for a takeover, but its claim
	// does, to be seen stale.
	o := s.observe(id, rec, received)
	info.claimLive = !rec.claim.none() && !s.claimStale(id, rec.claim, received)
	if !rec.released {
		info.Deadline = rec.deadline
		info.pastDeadline = s.store.takeableByClock(rec)
		info.Unchanged = received.Sub(o.seen)
	}
	if rec.session != "" && !rec.released {
		info.Session = rec.session
		info.Unchanged, info.Deadline, info.pastDeadline = 0, time.Time{}, false
		look(rec.session).describe(&info, s)
	}
	return info
}

// sessionLookup reads the Session record key, once per key for the
// lookup's life: an Inspect, or a List.
type sessionLookup func(key string) sessionLook

// sessionLook is what a lookup found (noteSession): the Session record, and
// when this Session first saw its version; or that it has ended (revoked,
// ended or gone); or nothing, when the read or the record failed.
type sessionLook struct {
	sr    record
	seen  sessionSeen
	ended bool
	ok    bool
}

func (s *Session) sessionLookup(ctx context.Context) sessionLookup {
	cache := map[string]sessionLook{}
	return func(key string) sessionLook {
		if l, ok := cache[key]; ok {
			return l
		}
		var l sessionLook
		if out, err := s.store.readSession(ctx, key); err == nil {
			var nerr error
			l.sr, l.seen, l.ended, nerr = s.noteSession(key, out.Item, time.Now())
			l.ok = nerr == nil
		}
		cache[key] = l
		return l
	}
}

// describe fills in what the Session record says of a lock it keeps.
func (l sessionLook) describe(info *LockInfo, s *Session) {
	switch {
	case !l.ok:
	case l.ended:
		info.SessionEnded = true
		if l.sr.version != "" { // revoked or ended, rather than gone
			info.Lease, info.LastWrite = l.sr.lease, l.sr.sent
		}
	default:
		info.Lease, info.LastWrite, info.Deadline = l.sr.lease, l.sr.sent, l.sr.deadline
		info.pastDeadline = s.store.takeableByClock(l.sr)
		info.Unchanged = time.Since(l.seen.seen)
	}
}
