package dynamutex

import (
	"fmt"
	"log/slog"
	"os"
	"time"
	"unicode/utf8"

	"github.com/cenkalti/backoff/v4"
	"github.com/google/uuid"

	"github.com/dynamutex/dynamutex/internal/wire"
)

// Defaults of the Session options. Together they give a 5 s margin
// (lease − safe time) between a holder learning that its lease is in danger
// and a waiter being allowed to take the lock over. The heartbeat period and
// the safe time follow the lease in these proportions unless set
// (DeriveTimings), so WithLeaseDuration alone keeps a quarter of the lease
// as the margin.
const (
	DefaultLeaseDuration   = 20 * time.Second
	DefaultHeartbeatPeriod = 5 * time.Second
	DefaultSafeTime        = 15 * time.Second
	DefaultExpiry          = 24 * time.Hour
	DefaultPartitionKey    = "key"
)

// DefaultParallelism is how many renewals the heartbeat loop has in flight
// at most unless WithParallelism says otherwise: as many as the idle
// connections per host that the AWS SDK's default HTTP client keeps
// (awshttp.DefaultHTTPTransportMaxIdleConnsPerHost, 10).
// More renewals in flight than idle connections make the client close the
// surplus connections when they finish and dial new ones for the next
// burst, each a TCP and TLS handshake against DynamoDB; with this limit
// the renewals reuse the connections they opened. At 10 in flight a Session
// renews about 10 ÷ round-trip time locks a second: 2,000 with 5 ms round
// trips, enough for 10,000 locks at the default heartbeat.
const DefaultParallelism = 10

// Attribute names of a lock record, besides the table's key attributes.
// Package wire defines them, with what each holds and the rules by which
// they may change; these short names keep the decoders readable.
const (
	attrOwner    = wire.AttrOwner
	attrVersion  = wire.AttrVersion
	attrToken    = wire.AttrToken
	attrLease    = wire.AttrLease
	attrReleased = wire.AttrReleased
	attrData     = wire.AttrData
	attrSent     = wire.AttrSent
	attrDeadline = wire.AttrDeadline
	attrStamped  = wire.AttrStamped
	attrClaim    = wire.AttrClaim
)

// ExpiresAttribute is the record attribute that holds the epoch second
// after which DynamoDB's TTL may delete an idle record. CreateTable enables
// TTL on it. It is only for clean-up: the library never decides a takeover
// by comparing it with a clock.
const ExpiresAttribute = wire.AttrExpires

// reservedAttrs are the record's own attributes, which cannot be key
// attributes too.
var reservedAttrs = append(append(wire.Attributes(), wire.Java.Attributes()...), wire.Python.Attributes()...)

// config holds a Session's settings after the options ran.
type config struct {
	lease, heartbeat, safe, expiry time.Duration
	// timingSet says which of lease, heartbeat and safe an option set; the
	// others are derived from it (DeriveTimings).
	timingSet   [3]bool
	owner       string
	keys        keyNames
	logger      *slog.Logger
	newBackoff  func() backoff.BackOff
	parallelism int
	observer    Observer
	// clockBound is the declared error of this machine's wall clock
	// (WithClockBound); hasBound is false when none was declared.
	clockBound time.Duration
	hasBound   bool
	// sessionLease: the Session keeps its locks under one Session record
	// (WithSessionLease).
	sessionLease bool
}

// keyNames are the table's key attribute names, sort empty for a table with
// a partition key only, and the record format. Names left "" by the
// options take the format's defaults (resolve).
type keyNames struct {
	partition, sort string
	format          Format
	zeroOption      bool // a zero KeyOption was given
}

// Option configures a Session. See the With* functions.
//
// One rule holds for every option of the package: the zero value of an
// option's argument (0, "", nil) means that option's default, as if the
// option were left out, and a value out of range is an *OptionError before
// any request. WithClockBound is the one option whose zero is a value of its
// own, a declared bound of zero; leave it out to declare none. A nil Option,
// TableOption or MutexOption, or a zero KeyOption, is an *OptionError too:
// it is a mistake, not a choice.
type Option interface {
	applySession(*config)
}

// TableOption configures CreateTable. WithPartitionKey and WithSortKey are
// both Options and TableOptions, so one value configures both.
type TableOption interface {
	applyTable(*keyNames)
}

type sessionOption func(*config)

func (f sessionOption) applySession(c *config) { f(c) }

// KeyOption names a key attribute of the lock table. It is both an Option
// and a TableOption.
type KeyOption struct {
	apply func(*keyNames)
}

func (o KeyOption) applySession(c *config) { o.applyTable(&c.keys) }
func (o KeyOption) applyTable(k *keyNames) {
	if o.apply == nil {
		k.zeroOption = true // a KeyOption{} made by hand, not by a With* function
		return
	}
	o.apply(k)
}

// WithPartitionKey sets the name of the table's partition-key attribute
// (type string). Default, and for "": "key", or "lock_key" with
// FormatPython, as python-dynamodb-lock names it.
func WithPartitionKey(name string) KeyOption {
	return KeyOption{func(k *keyNames) { k.partition = name }}
}

// WithSortKey declares that the table has a sort-key attribute (type string)
// of this name. Every Mutex of such a Session needs WithSortKeyValue, but
// with FormatPython, where it defaults to "-". Default, and for "": no sort
// key, or "sort_key" with FormatPython, whose tables always have one.
func WithSortKey(name string) KeyOption {
	return KeyOption{func(k *keyNames) { k.sort = name }}
}

// resolve fills in the names the options left "" with the format's
// defaults.
func (k *keyNames) resolve() {
	if k.partition == "" {
		k.partition = DefaultPartitionKey
		if k.format == FormatPython {
			k.partition = pythonPartitionKey
		}
	}
	if k.sort == "" && k.format == FormatPython {
		k.sort = pythonSortKey
	}
}

// WithLeaseDuration sets how long a lock stays valid without a renewal. A
// waiter in another process takes a lock over only after it has watched the
// record unchanged for this long. It is stored in each record, so Sessions
// with different leases share a table correctly; that is why it must be a
// whole number of milliseconds, and at most the 7 days a Session accepts in
// a record. It must be at least MinLeaseDuration (100 ms), for requests to
// fit in it. Default: 20 s, or 4/3 of the safe time or 4 times the
// heartbeat period when one of those is set (DeriveTimings).
func WithLeaseDuration(d time.Duration) Option {
	return sessionOption(func(c *config) { c.lease, c.timingSet[0] = d, d != 0 })
}

// WithHeartbeatPeriod sets how often each held lock is renewed, with one
// request per lock per period. Each renewal starts a twentieth of a period
// early, so that delays never push it past its period. It must be shorter
// than the safe time. A Session renews about WithParallelism ÷ round-trip
// time locks per second; size the period for the number of locks it holds.
// Default: a quarter of the lease (5 s), and never a third of the safe time
// or more (DeriveTimings).
func WithHeartbeatPeriod(d time.Duration) Option {
	return sessionOption(func(c *config) { c.heartbeat, c.timingSet[1] = d, d != 0 })
}

// WithSafeTime sets the danger threshold: when the last confirmed renewal of a
// lock was sent longer ago than this, its context is cancelled with
// ErrLeaseInDanger. It must lie strictly between the heartbeat period and the
// lease duration; lease − safe time is the margin that covers the holder's
// reaction time and the clock-rate difference between machines. Default:
// three quarters of the lease (15 s) (DeriveTimings).
func WithSafeTime(d time.Duration) Option {
	return sessionOption(func(c *config) { c.safe, c.timingSet[2] = d, d != 0 })
}

// WithExpiry sets how long an idle record (released, or no longer renewed)
// stays in the table before DynamoDB's TTL may delete it. It must exceed the
// lease duration. Fencing tokens stay increasing after such a deletion as long
// as the clocks of the machines that use a key are within this much of each
// other (see the package documentation). Default, and for 0: 24 h.
func WithExpiry(d time.Duration) Option {
	return sessionOption(func(c *config) {
		if d != 0 {
			c.expiry = d
		}
	})
}

// WithOwner sets the owner name stored in each record this Session writes, for
// people and tools that inspect the table. It should identify the process.
// Correctness does not depend on it being unique. At most 1024 bytes of UTF-8.
// Default: hostname/pid/random suffix.
func WithOwner(name string) Option {
	return sessionOption(func(c *config) { c.owner = name })
}

// WithLogger sets the logger for lifecycle events, each with the table,
// owner, key and token: acquisitions, renewals and releases at Debug;
// endangered and lost locks at Warn; late or failing renewals at Debug, and
// at Warn at most once per heartbeat period per Session, summed up. Late
// means retried, or late enough to eat into the time before the safe time
// (Event.Late); a renewal a few milliseconds past its period is not.
// Default: slog.Default().
func WithLogger(l *slog.Logger) Option {
	return sessionOption(func(c *config) { c.logger = l })
}

// WithBackoff sets the retry policy of Lock, as a factory called once per Lock
// call: the pause between a waiter's reads of the holder's record, and
// between retries of a request that failed. Whatever it returns, a waiter
// never sleeps past the moment its observation of the holder, or the
// holder's clock deadline, makes a takeover possible. When the policy
// returns backoff.Stop, Lock gives up with a *HeldError. Default:
// exponential from 250 ms, factor 1.5, jitter ±50 %, capped at
// min(1 s, lease/2), no time limit (the caller's context bounds the wait):
// about one read a second while the lock is held elsewhere. NewSession
// calls the factory once to check that it returns a BackOff, and uses it to
// retry its DescribeTable.
func WithBackoff(newBackOff func() backoff.BackOff) Option {
	return sessionOption(func(c *config) { c.newBackoff = newBackOff })
}

// WithObserver sends every lifecycle event of the Session's locks to o, for
// metrics such as acquire latency, wait time, renewals and losses by cause.
// See Observer for the rules o must follow. Default: none.
func WithObserver(o Observer) Option {
	return sessionOption(func(c *config) { c.observer = o })
}

// WithClockBound declares that this machine's wall clock is within d of true
// time, as Amazon Time Sync (about 1 ms, tens of microseconds with the
// hardware clock) or AWS ClockBound can vouch for. d may be 0; it must not be
// negative, nor exceed the longest lease a record may hold (7 days).
//
// With a bound, every acquisition and renewal also writes a deadline into
// the record: this clock at send, plus the lease, plus d. Any Session with a
// bound takes over a record whose deadline is earlier than its own clock
// less its own bound at once, in the one conditional write of Lock or
// TryLock, with no lease of watching. That is what lets a brand-new Session,
// such as one per AWS Lambda invocation, take a dead holder's lock at its
// first attempt. Records written without a bound are taken over only by
// observation, as without this option, and the holder's danger timer is the
// same either way. If both bounds hold, a takeover by clock comes at least a
// lease after the holder's last write in true time, so the margin
// lease − safe time still covers the holder.
//
// A wrong bound is a broken guarantee: two holders at once. So the Session
// checks its clock against the Date header of every DynamoDB reply (whole
// seconds, no extra request). When its clock is provably further from
// DynamoDB's than d plus one second plus the round trip, it stops writing
// deadlines and stops taking over by clock, logs a Warn once and sends
// EventClockUntrusted; once replies have agreed for a whole lease it
// resumes, with EventClockTrusted. A store without HTTP replies, such as
// package dynamutextest, gives nothing to check.
// Default: no bound; takeover by observation only.
func WithClockBound(d time.Duration) Option {
	return sessionOption(func(c *config) { c.clockBound, c.hasBound = d, true })
}

// WithParallelism bounds how many renewal requests the heartbeat loop has in
// flight at once, so that a slow request does not delay the others.
// Default, and for 0: DefaultParallelism (10).
//
// The library cannot see or change the connection pool of the client it is
// given. If you raise the limit, raise the client's idle pool with it, or
// renewals keep dialling new connections: for example
// awshttp.NewBuildableClient().WithTransportOptions(func(t *http.Transport)
// { t.MaxIdleConnsPerHost = n }) as the HTTPClient of the dynamodb.Options,
// with room on top for the Lock and Unlock calls the program makes at the
// same time.
func WithParallelism(n int) Option {
	return sessionOption(func(c *config) {
		if n != 0 {
			c.parallelism = n
		}
	})
}

func newConfig(opts []Option) (*config, error) {
	c := &config{
		expiry:      DefaultExpiry,
		keys:        keyNames{},
		parallelism: DefaultParallelism,
	}
	for _, o := range opts {
		if o == nil {
			return nil, optionError("Option", "nil Option in the list")
		}
		o.applySession(c)
	}
	c.keys.resolve()
	if err := c.deriveTimings(); err != nil {
		return nil, err
	}
	if c.owner == "" {
		c.owner = defaultOwner()
	}
	if c.logger == nil {
		c.logger = slog.Default()
	}
	if err := c.validate(); err != nil {
		return nil, err
	}
	if c.newBackoff == nil {
		c.newBackoff = defaultBackoff(c.lease)
	} else if c.newBackoff() == nil {
		// Caught here rather than as a panic at the first contended Lock.
		return nil, optionError("WithBackoff", "the function returned a nil BackOff")
	}
	return c, nil
}

// deriveTimings fills in the timings no option set, or set to zero. A
// negative one is refused.
func (c *config) deriveTimings() error {
	given := []struct {
		option, name string
		v            *time.Duration
	}{{"WithLeaseDuration", "lease duration", &c.lease}, {"WithHeartbeatPeriod", "heartbeat period", &c.heartbeat},
		{"WithSafeTime", "safe time", &c.safe}}
	for i, g := range given {
		if c.timingSet[i] && *g.v < 0 {
			return optionError(g.option, "%s must not be negative, got %v", g.name, *g.v)
		}
	}
	t := DeriveTimings(Timings{Lease: c.lease, Heartbeat: c.heartbeat, Safe: c.safe})
	c.lease, c.heartbeat, c.safe = t.Lease, t.Heartbeat, t.Safe
	return nil
}

func (c *config) validate() error {
	if c.expiry < 0 {
		return optionError("WithExpiry", "expiry must not be negative, got %v", c.expiry)
	}
	switch {
	case c.lease > maxRecordLease:
		// Other Sessions would refuse our records as corrupt instead of waiting.
		return optionError("WithLeaseDuration", "lease duration must be at most %v, got %v", maxRecordLease, c.lease)
	case c.lease%time.Millisecond != 0:
		// Records store whole milliseconds. A cut-off fraction would let waiters
		// take over before the holder's safe time has run out.
		return optionError("WithLeaseDuration", "lease duration must be a whole number of milliseconds, got %v", c.lease)
	case c.lease < MinLeaseDuration:
		return c.leaseFloorError()
	case c.heartbeat >= c.safe:
		return optionError("WithHeartbeatPeriod, WithSafeTime", "heartbeat period (%v) must be shorter than the safe time (%v)", c.heartbeat, c.safe)
	case c.safe >= c.lease:
		return optionError("WithSafeTime, WithLeaseDuration", "safe time (%v) must be shorter than the lease duration (%v)", c.safe, c.lease)
	case c.expiry <= c.lease:
		return optionError("WithExpiry, WithLeaseDuration", "expiry (%v) must be longer than the lease duration (%v)", c.expiry, c.lease)
	case c.hasBound && (c.clockBound < 0 || c.clockBound > maxRecordLease):
		return optionError("WithClockBound", "clock bound must be from 0 to %v, got %v", maxRecordLease, c.clockBound)
	case c.parallelism < 1:
		return optionError("WithParallelism", "parallelism must not be negative, got %d", c.parallelism)
	case c.sessionLease && c.keys.format != FormatNative:
		return optionError("WithSessionLease, WithFormat", "session leases need FormatNative: the %s lock client "+
			"watches the version of each lock, which a session lease never renews, and would take live locks over",
			c.keys.format)
	case len(c.owner) > maxOwnerBytes || !utf8.ValidString(c.owner):
		return optionError("WithOwner", "owner must be valid UTF-8 of at most %d bytes", maxOwnerBytes)
	}
	return c.keys.validate()
}

func (k keyNames) validate() error {
	if k.zeroOption {
		return optionError("KeyOption", "a zero KeyOption; make one with WithPartitionKey or WithSortKey")
	}
	if _, ok := k.format.layout(); !ok {
		return optionError("WithFormat", "unknown format %d; use FormatNative, FormatJava or FormatPython", int(k.format))
	}
	check := func(option, what, name string) error {
		if name == "" || len(name) > 255 || !utf8.ValidString(name) {
			return optionError(option, "%s attribute name must be 1 to 255 bytes of UTF-8, got %q", what, name)
		}
		for _, r := range reservedAttrs {
			if name == r {
				return optionError(option, "%s attribute name %q is used by the lock record itself", what, name)
			}
		}
		return nil
	}
	if err := check("WithPartitionKey", "partition-key", k.partition); err != nil {
		return err
	}
	if k.sort == "" {
		return nil
	}
	if err := check("WithSortKey", "sort-key", k.sort); err != nil {
		return err
	}
	if k.sort == k.partition {
		return optionError("WithSortKey, WithPartitionKey", "sort key and partition key are both named %q", k.sort)
	}
	return nil
}

func defaultOwner() string {
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "unknown-host"
	}
	return fmt.Sprintf("%s/%d/%s", host, os.Getpid(), uuid.NewString()[:8])
}

// defaultBackoff paces a waiter's reads: from a quarter of a second, growing
// by half each time, to one a second, so that a waiter costs about one
// strongly consistent read a second in steady state and there is no burst
// at the start. The cap is also at most half the lease, so that with short
// leases a released lock is noticed within one lease (1.5 caps with the
// jitter). It is not lower: a waiter never sleeps past the moment it may
// take a silent holder over (capSleep), so takeovers do not wait on it,
// and a quarter of the lease made a waiter read twice a second at a 2 s
// lease for nothing.
func defaultBackoff(lease time.Duration) func() backoff.BackOff {
	maxInterval := min(time.Second, lease/2)
	return func() backoff.BackOff {
		return backoff.NewExponentialBackOff(
			backoff.WithInitialInterval(min(250*time.Millisecond, maxInterval)),
			backoff.WithMultiplier(1.5),
			backoff.WithRandomizationFactor(0.5),
			backoff.WithMaxInterval(maxInterval),
			backoff.WithMaxElapsedTime(0),
		)
	}
}

// MutexOption configures a Mutex. See WithData and WithSortKeyValue. A nil
// MutexOption makes the Mutex's calls fail with an *OptionError.
type MutexOption func(*Mutex)

// WithData stores b in the lock record with every acquisition; holders and
// waiters read it through Lease.Data and HeldError. The slice is copied. It
// must fit in a DynamoDB item (400 KB) with the lock's own attributes.
func WithData(b []byte) MutexOption {
	return func(m *Mutex) { m.more().data = append([]byte(nil), b...) }
}

// WithSortKeyValue sets the sort-key value of the lock record, for a Session
// configured WithSortKey. At most 1024 bytes of UTF-8, not empty. Default:
// none, or "-" with FormatPython, as python-dynamodb-lock's default.
func WithSortKeyValue(v string) MutexOption {
	return func(m *Mutex) { m.id.sort = v; m.more().hasSort = true }
}

// attemptTimeout bounds one acquire or release request. Without it a request
// lost in a dead connection would hold a Lock until its caller's deadline, or
// forever under context.Background. Half a lease leaves room for a retry
// before waiters could take the lock over, and is far beyond a healthy
// request's latency. Renewals use the shorter heartbeat period instead.
func (c *config) attemptTimeout() time.Duration { return c.lease / 2 }
