package dynamutex

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/dynamutex/dynamutex/internal/wire"
)

// Starvation mode, after sync.Mutex's. In normal mode a holder that
// unlocks and locks again at once may win the record again and again: its
// first write reaches DynamoDB before any waiter, which only reads, sees the
// record released. A waiter that has lost a turn (a read, or its own failed
// write, showed the lock pass to another acquisition while it waited) and
// has waited longer than claimAfter therefore claims the next turn in the
// record (attrClaim). While a live claim stands, only the claimant may take
// the record: the releasing holder's own re-lock and every other waiter of
// this release wait behind it. The claimant polls fast while its claim
// stands, so the lock does not sit released for long, and its acquire write
// removes the claim.
//
// A waiter that has seen one holder all along, live or dead, never claims:
// nobody took a turn from it, and when the holder releases or can be taken
// over its next read sees it and its next write takes the lock. A claim
// would buy it nothing and cost a write per third of a lease, so a lone
// waiter writes twice per Lock call: the first attempt, which keeps an
// uncontended Lock at one request, and the write that takes the lock.
// Only a turnover shows that others compete: a younger waiter's live claim
// implies one too, since its claimant saw the token change after it began,
// and so after this call's first write.
//
// A claim decides who goes next, never whether two may hold the lock at
// once: exclusion rests on the version alone, as before. So a claimant's
// wall clock, which orders claims by how long each waiter has waited, can
// be wrong without harm, and a release that does not know about claims
// (the one before) may take a claimed record: fairness is lost, exclusion
// is not.

// claimAfter is how long a Lock call that has lost a turn waits before it
// claims the next turn: a second, or a quarter of the lease if that is
// shorter, so that short test leases still see starvation mode.
func (c *config) claimAfter() time.Duration { return min(time.Second, c.lease/4) }

// claimBeat is how often a claimant re-asserts its claim: three times per
// lease, so that a claim is seen unchanged for a lease only when its
// claimant has stopped (or was paused for two thirds of a lease), and
// waiters then ignore it.
func (c *config) claimBeat() time.Duration { return c.lease / 3 }

// claimPoll is the first interval of a claimant's reads: it grows by half
// at every read up to the backoff's, so a claimant catches the release of
// a short hold within milliseconds and settles at the ordinary pace behind
// a long one. Every claimant has seen the lock change hands, so a short
// hold is what it most likely waits behind, and while the claim stands
// the lock sits released from its holder's Unlock to the claimant's next
// read: that gap is a handoff's latency. Starting at 2 ms rather than 10
// costs about four more reads per claim (about 15 to reach a 1 s cap).
func (c *config) claimPoll() time.Duration {
	return max(time.Millisecond, min(2*time.Millisecond, c.lease/1000))
}

// claim is the claim attribute of a record, decoded; the zero claim means
// none.
type claim struct {
	version string        // the claimant's acquisition version: its acquire write passes the gate
	owner   string        // the claimant's owner, for people
	since   time.Time     // the claimant's wall clock when its Lock call began: earlier wins
	beat    string        // changes at every claim write: a claim unchanged for lease is dead
	lease   time.Duration // the claimant's lease
}

func (c claim) none() bool { return c.version == "" }

// Field names inside the claim map, as package wire defines them.
const (
	claimVersion = wire.ClaimVersion
	claimOwner   = wire.ClaimOwner
	claimSince   = wire.ClaimSince
	claimBeat    = wire.ClaimBeat
	claimLease   = wire.ClaimLease
)

// decodeClaim reads the optional claim map. A claim that is there but
// malformed is damage, as any other attribute is.
func decodeClaim(key string, item map[string]types.AttributeValue) (claim, error) {
	v, ok := item[attrClaim]
	if !ok {
		return claim{}, nil
	}
	m, ok := v.(*types.AttributeValueMemberM)
	if !ok {
		return claim{}, &RecordError{Key: key, Attribute: attrClaim, Problem: fmt.Sprintf("has type %s, want M", wire.TypeName(v))}
	}
	fail := func(field string, err error) (claim, error) {
		return claim{}, &RecordError{Key: key, Attribute: attrClaim + "." + field, Problem: err.Error()}
	}
	var c claim
	var err error
	if c.version, err = stringAttr(m.Value, claimVersion); err == nil && c.version == "" {
		err = errors.New("is empty")
	}
	if err != nil {
		return fail(claimVersion, err)
	}
	if c.owner, err = stringAttr(m.Value, claimOwner); err != nil {
		return fail(claimOwner, err)
	}
	// An empty beat could never be told stale from "no stale claim".
	if c.beat, err = stringAttr(m.Value, claimBeat); err == nil && c.beat == "" {
		err = errors.New("is empty")
	}
	if err != nil {
		return fail(claimBeat, err)
	}
	since, err := numberAttr(m.Value, claimSince)
	if err == nil && since > maxStampMillis {
		err = fmt.Errorf("is %d ms, after the year 9999", since)
	}
	if err != nil {
		return fail(claimSince, err)
	}
	c.since = time.UnixMilli(int64(since))
	ms, err := numberAttr(m.Value, claimLease)
	if err == nil && (ms == 0 || ms > uint64(maxRecordLease/time.Millisecond)) {
		err = fmt.Errorf("is %d ms, outside 1 ms to %v", ms, maxRecordLease)
	}
	if err != nil {
		return fail(claimLease, err)
	}
	c.lease = time.Duration(ms) * time.Millisecond
	return c, nil
}

// claimReq is one claim write: it sets c as the record's claim if the
// record has none, if the claim is already ours, if ours is older, or if
// the standing one is stale (its beat watched unchanged for its lease).
type claimReq struct {
	id    lockID
	c     claim
	stale string // the beat of a claim watched unchanged for its lease, or ""
}

// claim writes r.c into the record (wire.ClaimWrite). It fails with a
// *conditionFailed carrying the record when another live claim stands, or
// when the record is gone.
func (s *store) claim(ctx context.Context, r claimReq) error {
	_, err := s.update(ctx, wire.ClaimWrite(wire.ClaimArgs{Item: s.item(r.id), Stale: r.stale, Claim: wire.Claim{
		Version: r.c.version, Owner: r.c.owner, Since: r.c.since, Beat: r.c.beat, Lease: r.c.lease,
	}}))
	return asConditionFailed(err)
}

// unclaim removes the claim of version from id's record, if it still
// stands: a Lock call that gives up must not leave its claim to block the
// lock for a lease.
func (s *store) unclaim(ctx context.Context, id lockID, version string) error {
	_, err := s.update(ctx, wire.Unclaim(s.item(id), version))
	return asConditionFailed(err)
}

// claimState is what one Lock call knows of its own claim.
type claimState struct {
	// token is the fencing token of the last record the call found held
	// or read, and tokenSeen whether there was one: a new token is a
	// turnover (noteToken).
	token     uint64
	tokenSeen bool
	landed    time.Time // when our last claim write that we know landed was sent; zero if none
	sent      time.Time // when our last claim write was sent
	inDoubt   bool      // a claim write of ours may have landed unheard
	standing  bool      // our claim stood at the last news of it
	announced bool      // EventClaimed was sent
}

// noteToken tells a of the token of a record it found in place of its
// own, by a failed write or a read: a token other than the last one seen
// means the lock passed to another acquisition (a re-lock of the same
// holder included) while a waited, a turn it lost. The token is compared
// across the call's failed writes too: a waiter that read the record
// released and lost the write that followed has lost a turn. A record that
// another client (Java, Python) wrote last has no token, read as zero, so
// a lock passing between two such holders shows no turnover; their
// acquires ignore claims, so a claim could not have stopped them anyway.
func (a *acquisition) noteToken(rec record) {
	if a.claim.tokenSeen && rec.token != a.claim.token {
		a.turnover = true
	}
	a.claim.token, a.claim.tokenSeen = rec.token, true
}

// mayClaim reports whether a has lost a turn and waited long enough, and
// rec's claim lets it, to write a claim now: none stands, a stale one, a
// younger waiter's, or its own that is due to be re-asserted.
func (s *Session) mayClaim(a *acquisition, rec record, now time.Time) bool {
	if !a.turnover || now.Sub(a.call.start) < s.cfg.claimAfter() {
		return false
	}
	c := rec.claim
	switch {
	case c.none() || s.claimStale(a.m.id, c, now):
		return true
	case c.version == a.req.version:
		return now.Sub(a.claim.landed) >= s.cfg.claimBeat()
	default:
		return a.wallStart.Before(c.since)
	}
}

// writeClaim makes one claim write for a: a first claim, a re-assertion
// of its own, or a takeover of a younger or stale one.
func (s *Session) writeClaim(ctx context.Context, a *acquisition, rec record) error {
	sent, err := s.sendClaim(ctx, a.m.id, claimFor{version: a.req.version, since: a.wallStart, rec: rec})
	a.claim.sent = sent
	a.attempts++
	var cf *conditionFailed
	switch {
	case err == nil:
		s.claimStands(a, sent)
		return nil
	case errors.As(err, &cf):
		return nil // another live claim, older than ours: wait behind it
	case classify(err) == kindFatal:
		return fmt.Errorf("dynamutex: lock %q: %w", a.m.id.key, err)
	default:
		if classify(err) == kindUnknown {
			a.claim.inDoubt = true
		}
		return nil // the next read tells whether it landed
	}
}

// claimFor is what a claim write needs to know of its claimant and of the
// record it claims.
type claimFor struct {
	version string    // the claimant's acquisition version
	since   time.Time // when the claimant began to wait, by the wall clock
	rec     record    // the record as last read: its claim may be replaced
}

// sendClaim makes one claim write on id and returns when it was sent and
// the store's answer: nil when it landed, a *conditionFailed when another
// live claim stands (or the record is gone).
func (s *Session) sendClaim(ctx context.Context, id lockID, f claimFor) (time.Time, error) {
	c := claim{version: f.version, owner: s.cfg.owner, since: f.since, beat: newVersion(), lease: s.cfg.lease}
	stale := "" // a stale claim of another call is replaced on the strength of its beat
	if f.rec.claim.version != f.version && s.claimStale(id, f.rec.claim, time.Now()) {
		stale = f.rec.claim.beat
	}
	sent := time.Now()
	actx, cancel := context.WithTimeout(ctx, s.cfg.attemptTimeout())
	defer cancel()
	return sent, s.store.claim(actx, claimReq{id: id, c: c, stale: stale})
}

// claimStands records news that a's claim, sent at sent, landed: a claim
// that did not stand before starts the fast reads, and the first one of
// the call is announced.
func (s *Session) claimStands(a *acquisition, sent time.Time) {
	fresh, first := a.claim.stood(sent)
	if fresh {
		a.poll = s.cfg.claimPoll()
	}
	if first {
		s.emit(Event{Kind: EventClaimed, Key: a.m.id.key, SortKey: a.m.id.sort,
			Wait: time.Since(a.call.start), Attempts: a.attempts})
	}
}

// stood records news that a claim write sent at sent landed. It reports
// whether the claim did not stand before, when the claimant's fast reads
// start, and whether it is the call's first, which EventClaimed announces.
func (cs *claimState) stood(sent time.Time) (fresh, first bool) {
	cs.landed = sent
	fresh, first = !cs.standing, !cs.announced
	cs.standing, cs.announced = true, true
	return fresh, first
}

// claimStale reports whether this Session has watched c, at its present
// beat, unchanged for c's lease: its claimant has stopped re-asserting it.
func (s *Session) claimStale(id lockID, c claim, now time.Time) bool {
	return !c.none() && s.staleClaim(id, now) == c.beat
}

// staleClaim returns the beat of id's claim if this Session has watched it
// unchanged for the claimant's lease, or "".
func (s *Session) staleClaim(id lockID, now time.Time) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if o, ok := s.obs[id]; ok && o.claimBeat != "" && now.Sub(o.claimSeen) >= o.claimLease {
		return o.claimBeat
	}
	return ""
}

// blockedByClaim reports whether rec's claim keeps a's write out: a live
// claim of another Lock call.
func (s *Session) blockedByClaim(a *acquisition, rec record, now time.Time) bool {
	return s.claimBlocks(a.m.id, rec, a.req.version, now)
}

// claimBlocks reports whether id's record rec has a live claim that keeps
// out every acquire write but one of its claimant's version.
func (s *Session) claimBlocks(id lockID, rec record, version string, now time.Time) bool {
	c := rec.claim
	return !c.none() && c.version != version && !s.claimStale(id, c, now)
}
