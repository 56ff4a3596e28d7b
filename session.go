package dynamutex

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
	"golang.org/x/sync/errgroup"

	"github.com/dynamutex/dynamutex/internal/wire"
)

// A Session is one process's connection to a lock table. It owns a single
// heartbeat goroutine that renews every lock it holds, whatever their number,
// and hands out Mutex values. Create one per process and table with
// NewSession, share it between goroutines, and Close it when done.
type Session struct {
	store store
	cfg   *config
	log   *slog.Logger

	epoch time.Time // origin of the monotonic times kept in atomics
	// ctx is cancelled by Close, with the cause ErrSessionClosed: the
	// parent of heartbeat requests, and the Session's done channel.
	ctx      context.Context
	stop     context.CancelCauseFunc
	loopDone chan struct{}
	wake     chan struct{}
	once     sync.Once

	mu     sync.Mutex
	closed bool
	// keys holds the local state of every key a goroutine of this Session
	// waits for or holds, and the lease held on it (local.go).
	keys  map[lockID]keyState
	obs   map[lockID]observation
	sched schedule
	// dangers, dangerTimer and dangerStopped put leases in danger when
	// their safe time runs out (danger.go).
	dangers       dangers
	dangerTimer   *time.Timer
	dangerStopped bool
	abandoned     []lockVersion
	pruned        time.Time

	// sl is the Lease of the Session record under WithSessionLease, nil
	// otherwise: the one record the heartbeat loop renews, whose safe time
	// is every held lock's (sessionlease.go). revoked is set, with s.mu,
	// once its renewal found it revoked or gone.
	sl      *Lease
	revoked bool
	// sessions and dead are what this Session has seen of the Session
	// records that keep other processes' locks (sessionwatch.go).
	sessions map[string]sessionSeen
	dead     map[string]time.Time
	// recentDead lists the latest Sessions found dead, for every acquire
	// write to name (deadSessions). looking holds the reads of Session
	// records under way, so that goroutines waiting on locks of one
	// Session read its record once.
	recentDead []string
	looking    map[string]chan struct{}

	writes  writeSlots      // one write of a lease at a time (Lease.lockWrites)
	trouble *renewalTrouble // keeps Warn lines about renewals to one a period
	// foreignMet is set the first time a read or write meets a record of
	// another lock client, which is logged once per Session.
	foreignMet atomic.Bool
}

// observation is the first moment this Session saw a record version, on its
// own monotonic clock. A takeover is allowed once a version has been seen
// unchanged for its lease.
type observation struct {
	version string
	seen    time.Time
	lease   time.Duration
	// claimBeat is the beat of the record's claim when claimSeen first saw
	// it: a claim outlives holders, so it is watched apart from the version.
	claimBeat  string
	claimSeen  time.Time
	claimLease time.Duration
}

// lockVersion names a write of ours whose fate is unknown and that must be
// released if it landed.
type lockVersion struct {
	id      lockID
	version string
	claim   bool // it is the claim of that version that must go, not the lock
}

// NewSession checks that the table exists with the configured key schema and
// starts the Session's heartbeat loop. It makes one DescribeTable request,
// retried with the Session's backoff (WithBackoff) through throttling,
// server errors and timeouts until ctx ends, as Lock does; bound ctx to
// bound the wait. A missing table gives ErrTableNotFound at once; create it
// once with CreateTable.
func NewSession(ctx context.Context, client DynamoDBAPI, table string, opts ...Option) (*Session, error) {
	if client == nil {
		return nil, optionError("client", "the DynamoDBAPI client is nil")
	}
	if err := validateTableName(table); err != nil {
		return nil, err
	}
	cfg, err := newConfig(opts)
	if err != nil {
		return nil, err
	}
	if err := checkTable(ctx, client, table, cfg); err != nil {
		return nil, err
	}
	sctx, stop := context.WithCancelCause(context.Background())
	log := cfg.logger.With(slog.String("table", table), slog.String("owner", cfg.owner))
	s := &Session{
		store:    store{client: client, table: table, keys: cfg.keys, expiry: cfg.expiry, lease: cfg.lease},
		cfg:      cfg,
		epoch:    time.Now(),
		log:      log,
		ctx:      sctx,
		stop:     stop,
		loopDone: make(chan struct{}),
		wake:     make(chan struct{}, 1),
		keys:     make(map[lockID]keyState),
		obs:      make(map[lockID]observation),
		sessions: make(map[string]sessionSeen),
		dead:     make(map[string]time.Time),
		looking:  make(map[string]chan struct{}),
		trouble:  &renewalTrouble{log: log, period: cfg.heartbeat},
	}
	if cfg.hasBound {
		s.store.clock = &clockCheck{bound: cfg.clockBound, lease: cfg.lease, s: s}
	}
	if cfg.sessionLease {
		if err := s.startSessionLease(ctx); err != nil {
			stop(err)
			return nil, err
		}
	}
	go s.run()
	return s, nil
}

// Owner returns the owner name this Session writes into its records.
func (s *Session) Owner() string { return s.cfg.owner }

// Done returns a channel that is closed when Close is called.
func (s *Session) Done() <-chan struct{} { return s.ctx.Done() }

// Close stops the heartbeat loop, makes waiting Lock calls return
// ErrSessionClosed and cancels the context of every lock still held with
// ErrSessionClosed.
//
// Close does not release the records of locks still held: their holders may
// still be working, and releasing would let another process in alongside
// them. Unlock still works after Close and releases the record; a record
// never unlocked is taken over by other processes once its lease runs out.
// Close waits for in-flight renewals to stop, or for ctx to end. It finishes
// the clean-up of Lock calls that gave up, with one request each within ctx:
// it releases acquisitions whose reply was lost and removes claims, so that
// a process that cancels its waiters and closes at shutdown leaves no claim
// to hold the lock back for a lease. It is safe to call more than once.
func (s *Session) Close(ctx context.Context) error {
	s.once.Do(func() {
		s.mu.Lock()
		s.closed = true
		leases := s.heldLocked()
		abandoned := s.abandoned
		s.abandoned = nil
		s.mu.Unlock()
		s.stop(ErrSessionClosed)
		for _, l := range leases {
			l.cancel(ErrSessionClosed)
		}
		var g errgroup.Group
		g.SetLimit(s.cfg.parallelism)
		for _, a := range abandoned {
			g.Go(func() error { s.abandon(ctx, a); return nil })
		}
		_ = g.Wait()
		s.endSessionRecord(ctx, len(leases))
		s.log.Debug("dynamutex: session closed", slog.Int("held", len(leases)))
	})
	select {
	case <-s.loopDone:
		return nil
	case <-ctx.Done():
		return context.Cause(ctx)
	}
}

// heldLocked lists the leases the Session holds. Called with s.mu, in the
// same hold as any change (closed, revoked) that keeps grant from adding
// one after the list was made.
func (s *Session) heldLocked() []*Lease {
	var held []*Lease
	for _, ks := range s.keys {
		if ks.lease != nil {
			held = append(held, ks.lease)
		}
	}
	return held
}

// observe records the version a failed acquisition found and returns the
// observation, whose first-seen time survives as long as the version does.
func (s *Session) observe(id lockID, rec record, received time.Time) observation {
	if s.store.cross(rec) && s.foreignMet.CompareAndSwap(false, true) {
		s.warnForeign(id, rec)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	o, ok := s.obs[id]
	if !ok || o.version != rec.version {
		o.version, o.seen, o.lease = rec.version, received, rec.lease
	}
	if !ok || o.claimBeat != rec.claim.beat {
		o.claimBeat, o.claimSeen, o.claimLease = rec.claim.beat, received, rec.claim.lease
	}
	s.obs[id] = o
	return o
}

// observation returns what this Session has seen of id.
func (s *Session) observation(id lockID) (observation, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	o, ok := s.obs[id]
	return o, ok
}

// expiredVersion returns the version of id that this Session has watched
// unchanged for its whole lease, or "".
func (s *Session) expiredVersion(id lockID, now time.Time) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if o, ok := s.obs[id]; ok && now.Sub(o.seen) >= o.lease {
		return o.version
	}
	return ""
}

// pruneObservations forgets observations nobody has used for a long time,
// so that a Session that probes many keys does not grow without bound. The
// retention is long on purpose: a TryLock repeated within it still takes an
// abandoned lock over.
func (s *Session) pruneObservationsLocked(now time.Time) {
	if now.Sub(s.pruned) < s.cfg.heartbeat {
		return
	}
	s.pruned = now
	for id, o := range s.obs {
		if now.Sub(o.seen) > observationRetention(o.lease) {
			if _, busy := s.keys[id]; !busy {
				delete(s.obs, id)
			}
		}
	}
	s.pruneSessionsLocked(now)
}

func observationRetention(lease time.Duration) time.Duration {
	return max(10*time.Minute, 10*lease)
}

// abandonLater asks the heartbeat loop to release a record that an acquire
// attempt may have written without the caller hearing back, or to remove a
// claim. Once the Session is closed there is no loop: the caller, a Lock
// call that is giving up, does it itself, within a lease.
func (s *Session) abandonLater(v lockVersion) {
	s.mu.Lock()
	closed := s.closed
	if !closed {
		s.abandoned = append(s.abandoned, v)
	}
	s.mu.Unlock()
	if closed {
		s.abandon(context.Background(), v)
		return
	}
	s.poke()
}

func (s *Session) poke() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// sleep waits for d, the end of ctx or the end of the Session.
func (s *Session) sleep(ctx context.Context, d time.Duration) error {
	return sleepUntil(ctx, d, s.ctx.Done())
}

// sleepUntil waits for d, or until ctx ends (its cause) or stop is closed
// (ErrSessionClosed); a nil stop never closes. It is the one timer select
// of the package.
func sleepUntil(ctx context.Context, d time.Duration, stop <-chan struct{}) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return context.Cause(ctx)
	case <-stop:
		return ErrSessionClosed
	}
}

// releaseRecord marks the record released if it is still at one of the
// versions cur. It retries transient errors until ctx ends. A
// *conditionFailed means the record is no longer ours.
//
// ownedUntil is when others could first have taken the record over: the
// holder's safe time, or zero if unknown. A retry that finds someone else's
// record before then, after an attempt whose outcome was unknown, proves
// that attempt landed: nobody else could have written the record otherwise.
// The release then succeeded, and the record moved on after it.
func (s *Session) releaseRecord(ctx context.Context, id lockID, cur []string, ownedUntil time.Time) error {
	next := newVersion()
	if s.store.layout().Client == wire.ClientPython && len(cur) == 1 {
		// Python waiters take over a version they have seen for longer than
		// the record's lease: kept, with the lease cut to 1 ms, it frees
		// the lock at their next look (wire.ReleasedLease).
		next = cur[0]
	}
	bo := s.cfg.newBackoff()
	inDoubt := false
	for {
		actx, cancel := context.WithTimeout(ctx, s.cfg.attemptTimeout())
		err := s.store.replace(actx, replaceReq{id: id, cur: cur, next: next, released: true})
		cancel()
		var cf *conditionFailed
		switch {
		case err == nil:
			return nil
		case errors.As(err, &cf):
			if s.store.versionOf(cf.item) == next {
				return nil // an earlier attempt landed and its reply was lost
			}
			if inDoubt && time.Now().Before(ownedUntil) {
				return nil
			}
			return cf
		case classify(err) == kindFatal || ctx.Err() != nil:
			return err
		case classify(err) == kindUnknown:
			inDoubt = true
		}
		d := bo.NextBackOff()
		if d < 0 {
			return err
		}
		if sleepUntil(ctx, d, nil) != nil {
			return err
		}
	}
}

func newVersion() string { return uuid.NewString() }
