package chaos

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"os"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"golang.org/x/sync/errgroup"

	"github.com/dynamutex/dynamutex"
	"github.com/dynamutex/dynamutex/internal/localdb"
	"github.com/dynamutex/dynamutex/internal/wallclock"
)

// WorkerConfig is one worker process's share of a run.
type WorkerConfig struct {
	Endpoint   string
	Table      string // the lock table
	Ledger     string // the fenced ledger table
	Proc       int    // this process's number, from 1
	Goroutines int
	Keys       int
	Lease      time.Duration
	Wait       time.Duration // how long one Lock call may wait
	Hold       time.Duration // the longest pause between two writes of a holder
	Faults     Faults
	Seed       uint64
	Events     string // the file this worker appends its events to
	Clock      Clock  // the zero Clock: no bound, no offset
	// Format is the record format the worker's Session writes: native, or
	// the Java or Python client's in a mixed run.
	Format dynamutex.Format
	// SessionLease makes the worker's Session keep its locks with one
	// Session record (WithSessionLease), and its goroutines prefer keys of
	// their own, so that a kill or pause of the process catches several
	// locks under one Session.
	SessionLease bool
	// Election makes the worker's goroutines campaign on one election
	// instead of locking keys (election.go).
	Election bool
	// Semaphore, when positive, makes the worker's goroutines take permits
	// of the one semaphore SemaphoreName of that many permits instead of
	// locking keys.
	Semaphore int
}

// SemaphoreName is the semaphore of a semaphore run.
const SemaphoreName = "chaos"

// SafeTime is the workers' safe time, which the checker needs too: the
// library's own, derived from the lease.
func SafeTime(lease time.Duration) time.Duration {
	return dynamutex.DeriveTimings(dynamutex.Timings{Lease: lease}).Safe
}

// KeyName is the name of lock number i.
func KeyName(i int) string { return "chaos/key-" + strconv.Itoa(i) }

// RunWorker contends for locks until ctx ends, writing events to out. Its
// lock-table client goes through a fault-injecting Transport; its ledger
// client does not, so that every refused ledger write is the fence at work.
func RunWorker(ctx context.Context, cfg WorkerConfig, out io.Writer) error {
	log := NewLog(out, cfg.Proc)
	base := newBase()
	defer base.CloseIdleConnections()
	faults := cfg.Faults
	faults.Seed = cfg.Seed
	tr := NewTransport(base, cfg.Table, faults, log)
	locks := client(cfg.Endpoint, tr, cfg.Lease)
	ledger := client(cfg.Endpoint, base, cfg.Lease)

	opts := []dynamutex.Option{
		dynamutex.WithOwner(fmt.Sprintf("proc-%d/pid-%d", cfg.Proc, os.Getpid())),
		dynamutex.WithLeaseDuration(cfg.Lease),
		dynamutex.WithFormat(cfg.Format),
		dynamutex.WithLogger(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))),
	}
	if c := cfg.Clock; c.Bound > 0 {
		// Shifted before the first request, so that every stamp and every
		// Date check of this process sees the offset.
		wallclock.SetOffset(c.Offset)
		log.Add(Event{Kind: KindClock, Offset: int64(c.Offset), Bound: int64(c.Bound)})
		opts = append(opts, dynamutex.WithClockBound(c.Bound), dynamutex.WithObserver(clockObserver{log}))
	}
	if cfg.SessionLease {
		opts = append(opts, dynamutex.WithSessionLease(), dynamutex.WithObserver(lostObserver{log}))
	}
	ss := &sessions{open: func(ctx context.Context) (*dynamutex.Session, error) {
		return dynamutex.NewSession(ctx, locks, cfg.Table, opts...)
	}}
	if _, err := ss.replace(ctx, nil); err != nil {
		return err
	}
	defer ss.closeAll()

	var g errgroup.Group
	for i := range cfg.Goroutines {
		w := &holder{cfg: cfg, g: i + 1, sess: ss, ledger: ledger, log: log,
			rng: rand.New(rand.NewPCG(cfg.Seed, uint64(i)))}
		g.Go(func() error { w.run(ctx); return nil })
	}
	return g.Wait()
}

// client builds a DynamoDB client for DynamoDB Local. The SDK's own retries
// stay on, as users run them, but with a backoff scaled to the short lease.
func client(endpoint string, rt http.RoundTripper, lease time.Duration) *dynamodb.Client {
	return localdb.Client(endpoint, rt, func(o *dynamodb.Options) {
		o.Retryer = retry.AddWithMaxBackoffDelay(retry.NewStandard(), lease/20)
	})
}

func newBase() *http.Transport { return http.DefaultTransport.(*http.Transport).Clone() }

// httpClient returns a client over rt; nil means net/http's default.
func httpClient(rt http.RoundTripper) *http.Client { return &http.Client{Transport: rt} }

// holder is one goroutine of a worker: it locks a random key, makes a few
// fenced writes and unlocks, over and over.
type holder struct {
	cfg    WorkerConfig
	g      int
	sess   *sessions
	ledger *dynamodb.Client
	log    *Log
	rng    *rand.Rand
}

func (h *holder) run(ctx context.Context) {
	for ctx.Err() == nil {
		if h.cfg.Election {
			h.lead(ctx)
		} else {
			h.once(ctx)
		}
		sleepCtx(ctx, time.Duration(h.rng.Int64N(int64(h.cfg.Hold)/4+1)))
	}
}

// pickKey chooses the key to lock. A goroutine of a session-lease worker
// takes a key of its own half the time, so that the process often holds
// several locks at once, all kept by its one Session record.
func (h *holder) pickKey() string {
	if h.cfg.SessionLease && h.rng.IntN(2) == 0 {
		return KeyName((h.g - 1) % h.cfg.Keys)
	}
	return KeyName(h.rng.IntN(h.cfg.Keys))
}

// acquired logs that the goroutine holds key under lctx since a Lock that
// began at start, and arranges to log the end of lctx; it returns the
// lease and its token.
func (h *holder) acquired(lctx context.Context, key string, start int64) (*dynamutex.Lease, uint64) {
	l, _ := dynamutex.LeaseFrom(lctx)
	tok := l.Token()
	h.log.Add(Event{Kind: KindAcquired, G: h.g, Key: key, Token: tok, Start: start})
	context.AfterFunc(lctx, func() {
		h.log.Add(Event{Kind: KindCancelled, G: h.g, Key: key, Token: tok, Cause: errClass(context.Cause(lctx))})
	})
	return l, tok
}

func (h *holder) once(ctx context.Context) {
	sess := h.sess.current()
	start := time.Now().UnixNano()
	key, lctx, unlock, err := h.lock(ctx, sess)
	if err != nil {
		h.failed(ctx, sess, Event{Key: key, Start: start, Cause: lockFailure(err)}, err)
		return
	}
	h.serve(term{key: key, lctx: lctx, start: start, release: unlock, most: 3})
}

// failed logs a Lock (or Campaign) that failed, and replaces a Session
// found revoked, as a service would.
func (h *holder) failed(ctx context.Context, sess *dynamutex.Session, e Event, err error) {
	e.Kind, e.G = KindLockFailed, h.g
	h.log.Add(e)
	if errors.Is(err, dynamutex.ErrSessionRevoked) {
		_, _ = h.sess.replace(ctx, sess) // fails only once the worker stops
	}
}

// term is one hold of a goroutine: a lock, a permit or a leadership.
type term struct {
	key     string
	lctx    context.Context
	start   int64                       // when the Lock (or Campaign) began
	release func(context.Context) error // Unlock, Release or Resign
	most    int                         // the most fenced writes to make
	// between, if set, runs after each write, with the token held and
	// the writes left (n, this one included): an election's Proclaim.
	between func(tok uint64, n int)
}

// serve works under t: one to t.most fenced writes with pauses between
// them, then, if the lock's context ended in danger or loss, one more
// write, then the release, and logs it.
func (h *holder) serve(t term) {
	l, tok := h.acquired(t.lctx, t.key, t.start)
	// One holder in five works for up to two leases, so renewals, and faults
	// in them, happen while it holds.
	hold := h.cfg.Hold
	if h.rng.IntN(5) == 0 {
		hold = h.cfg.Lease
	}
	for n := 1 + h.rng.IntN(t.most); n > 0; n-- {
		h.write(t.lctx, l, false)
		if t.between != nil {
			t.between(tok, n)
		}
		if n > 1 && !sleepCtx(t.lctx, time.Duration(h.rng.Int64N(int64(hold)+1))) {
			break
		}
	}
	// A holder told it is in danger or lost may already be mid-write; make
	// that write, as such a holder would, and let the fence refuse it.
	if c := errClass(context.Cause(t.lctx)); c == CauseDanger || c == CauseLost {
		h.write(t.lctx, l, true)
	}
	releasing := time.Now().UnixNano()
	err := t.release(context.Background())
	h.log.Add(Event{Kind: KindReleased, G: h.g, Key: t.key, Token: tok, Start: releasing, Cause: errClass(err)})
}

// lock takes a random key (LockWithin), or in a semaphore run a permit of
// the run's semaphore, and returns the key held, its context and what
// releases it. Either way the wait alone is bounded: the lock's context is a
// child of ctx, so nothing of the worker's own ends it but its shutdown.
func (h *holder) lock(ctx context.Context, sess *dynamutex.Session) (string, context.Context, func(context.Context) error, error) {
	if h.cfg.Semaphore > 0 {
		return h.acquirePermit(ctx, sess)
	}
	key := h.pickKey()
	m := sess.NewMutex(key)
	lctx, err := m.LockWithin(ctx, h.cfg.Wait)
	return key, lctx, m.Unlock, err
}

// acquirePermit takes a permit of the semaphore of a semaphore run. The
// wait is bounded by a timer that is stopped once the permit is held, so
// that the permit's context, a child of the wait's, outlives the bound.
func (h *holder) acquirePermit(ctx context.Context, sess *dynamutex.Session) (string, context.Context, func(context.Context) error, error) {
	wctx, cancel := context.WithCancelCause(ctx)
	t := time.AfterFunc(h.cfg.Wait, func() { cancel(context.DeadlineExceeded) })
	lctx, p, err := sess.NewSemaphore(SemaphoreName, h.cfg.Semaphore).Acquire(wctx)
	t.Stop()
	if err != nil {
		cancel(nil)
		return SemaphoreName, nil, nil, err
	}
	release := func(ctx context.Context) error {
		defer cancel(nil)
		return p.Release(ctx)
	}
	return p.Lease().Key(), lctx, release, nil
}

// write makes, at random, a fenced or a guarded write to the ledger. It
// deliberately ignores the lock context: the fence and the guard, not the
// holder's diligence, are what is tested.
func (h *holder) write(lctx context.Context, l *dynamutex.Lease, zombie bool) {
	live := lctx.Err() == nil
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	start := time.Now().UnixNano()
	e := Event{Kind: KindWrite, G: h.g, Key: l.Key(), Token: l.Token(), Start: start, Live: live, Zombie: zombie}
	if h.rng.IntN(2) == 0 {
		e.Guarded = true
		h.guarded(ctx, l, &e)
	} else {
		h.fenced(ctx, l, &e)
	}
	h.log.Add(e)
}

// guarded is a write under Lease.GuardedWrite to the key's guarded ledger
// item: it lands only while the lock record still carries the lease's
// token, unreleased. It goes through the Session's client, whose transport
// leaves transactions alone.
func (h *holder) guarded(ctx context.Context, l *dynamutex.Lease, e *Event) {
	err := l.GuardedWrite(ctx, types.TransactWriteItem{Update: &types.Update{
		TableName:        aws.String(h.cfg.Ledger),
		Key:              map[string]types.AttributeValue{"key": &types.AttributeValueMemberS{Value: l.Key() + "#guarded"}},
		UpdateExpression: aws.String("SET holder = :t ADD seq :one"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":t":   &types.AttributeValueMemberN{Value: strconv.FormatUint(l.Token(), 10)},
			":one": &types.AttributeValueMemberN{Value: "1"},
		},
	}})
	switch {
	case err == nil:
		e.OK = true
	case errors.Is(err, dynamutex.ErrLockLost):
		e.Cause = "refused"
	default:
		e.Cause = "error: " + err.Error()
	}
}

// fenced is a fenced write to the ledger: it lands only if no higher token
// has landed for the key.
func (h *holder) fenced(ctx context.Context, l *dynamutex.Lease, e *Event) {
	key, token := l.Key(), l.Token()
	out, err := h.ledger.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:           aws.String(h.cfg.Ledger),
		Key:                 map[string]types.AttributeValue{"key": &types.AttributeValueMemberS{Value: key}},
		UpdateExpression:    aws.String("SET fence = :t ADD seq :one"),
		ConditionExpression: aws.String("attribute_not_exists(fence) OR fence <= :t"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":t":   &types.AttributeValueMemberN{Value: strconv.FormatUint(token, 10)},
			":one": &types.AttributeValueMemberN{Value: "1"},
		},
		ReturnValues: types.ReturnValueUpdatedNew,
	})
	var ccf *types.ConditionalCheckFailedException
	switch {
	case err == nil:
		e.OK = true
		if v, ok := out.Attributes["seq"].(*types.AttributeValueMemberN); ok {
			e.Seq, _ = strconv.ParseUint(v.Value, 10, 64)
		}
	case errors.As(err, &ccf):
		e.Cause = "refused"
	default:
		e.Cause = "error: " + err.Error()
	}
}

// errClass names an error by the sentinel it wraps.
func errClass(err error) string {
	switch {
	case err == nil:
		return ""
	case errors.Is(err, dynamutex.ErrLeaseInDanger):
		return CauseDanger
	case errors.Is(err, dynamutex.ErrLockLost):
		return CauseLost
	case errors.Is(err, dynamutex.ErrUnlocked):
		return CauseUnlocked
	case errors.Is(err, dynamutex.ErrSessionClosed):
		return CauseClosed
	case errors.Is(err, dynamutex.ErrSessionRevoked):
		return CauseRevoked
	case errors.Is(err, context.Canceled):
		return CauseShutdown
	case errors.Is(err, context.DeadlineExceeded):
		return "deadline"
	case errors.Is(err, dynamutex.ErrLocked):
		return "locked"
	default:
		return "error: " + err.Error()
	}
}

// lockFailure names the error of a LockWithin call: CauseWaited when its
// bound ran out, with a holder seen (a *HeldError with a Reason) or without
// (a deadline), else as errClass does.
func lockFailure(err error) string {
	var held *dynamutex.HeldError
	if errors.As(err, &held) && held.Reason != "" || errors.Is(err, context.DeadlineExceeded) {
		return CauseWaited
	}
	return errClass(err)
}

// sleepCtx sleeps for d and reports whether ctx was still live after it.
func sleepCtx(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}
