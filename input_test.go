package dynamutex_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/cenkalti/backoff/v4"

	"github.com/dynamutex/dynamutex"
	"github.com/dynamutex/dynamutex/dynamutextest"
)

// Bad input gets a clear error before any request. Each case names
// the rule it breaks, so that a case rejected by some other rule by accident
// does not pass for the wrong reason.
func TestBadOptions(t *testing.T) {
	c, tr := newClient(t)
	ctx := ctxTimeout(t, 10*time.Second)
	week := 7 * 24 * time.Hour
	cases := []struct {
		name, rule string
		opts       []dynamutex.Option
	}{
		{"negative lease", "lease duration must not be negative", []dynamutex.Option{dynamutex.WithLeaseDuration(-time.Second)}},
		{"negative heartbeat", "heartbeat period must not be negative", []dynamutex.Option{dynamutex.WithHeartbeatPeriod(-time.Second)}},
		{"negative safe time", "safe time must not be negative", []dynamutex.Option{dynamutex.WithSafeTime(-time.Second)}},
		{"negative expiry", "expiry must not be negative", []dynamutex.Option{dynamutex.WithExpiry(-time.Hour)}},
		// Requests are timed out at a fraction of the lease: below the floor
		// they time out instead of landing. The floor applies to a lease
		// derived from a safe time or heartbeat period set alone as well.
		{"lease of 5ms", "lease duration must be at least 100ms, got 5ms", []dynamutex.Option{dynamutex.WithLeaseDuration(5 * time.Millisecond)}},
		{"lease just under the floor", "at least 100ms", []dynamutex.Option{dynamutex.WithLeaseDuration(dynamutex.MinLeaseDuration - time.Millisecond)}},
		{"tiny safe time alone", "lease duration (derived from the safe time) must be at least 100ms, got 4ms", []dynamutex.Option{dynamutex.WithSafeTime(3 * time.Millisecond)}},
		{"tiny heartbeat alone", "lease duration (derived from the heartbeat period) must be at least 100ms, got 4ms", []dynamutex.Option{dynamutex.WithHeartbeatPeriod(time.Millisecond)}},
		// Records store the lease in whole milliseconds: a fraction would be
		// cut off, and waiters could take over before the holder's safe time.
		{"lease not whole milliseconds", "whole number of milliseconds", []dynamutex.Option{dynamutex.WithLeaseDuration(20*time.Second + time.Microsecond), dynamutex.WithSafeTime(20 * time.Second)}},
		// Other Sessions refuse a record with a longer lease as corrupt.
		{"lease over a week", "at most", []dynamutex.Option{dynamutex.WithLeaseDuration(week + time.Millisecond), dynamutex.WithExpiry(30 * 24 * time.Hour)}},
		{"heartbeat equals safe", "shorter than the safe time", []dynamutex.Option{dynamutex.WithHeartbeatPeriod(15 * time.Second), dynamutex.WithSafeTime(15 * time.Second)}},
		{"heartbeat above safe", "shorter than the safe time", []dynamutex.Option{dynamutex.WithLeaseDuration(20 * time.Second), dynamutex.WithHeartbeatPeriod(16 * time.Second)}},
		{"safe equals lease", "shorter than the lease duration", []dynamutex.Option{dynamutex.WithLeaseDuration(20 * time.Second), dynamutex.WithSafeTime(20 * time.Second)}},
		{"safe above lease", "shorter than the lease duration", []dynamutex.Option{dynamutex.WithLeaseDuration(10 * time.Second), dynamutex.WithSafeTime(15 * time.Second)}},
		{"expiry below lease", "longer than the lease duration", []dynamutex.Option{dynamutex.WithExpiry(10 * time.Second)}},
		{"expiry equals lease", "longer than the lease duration", []dynamutex.Option{dynamutex.WithExpiry(20 * time.Second)}},
		{"negative parallelism", "parallelism", []dynamutex.Option{dynamutex.WithParallelism(-1)}},
		{"negative clock bound", "clock bound", []dynamutex.Option{dynamutex.WithClockBound(-time.Nanosecond)}},
		{"clock bound over 7 days", "clock bound", []dynamutex.Option{dynamutex.WithClockBound(7*24*time.Hour + 1)}},
		{"owner too long", "owner", []dynamutex.Option{dynamutex.WithOwner(strings.Repeat("o", 1025))}},
		{"owner not UTF-8", "owner", []dynamutex.Option{dynamutex.WithOwner("\xff")}},
		{"partition key name over 255 bytes", "partition-key attribute name", []dynamutex.Option{dynamutex.WithPartitionKey(strings.Repeat("p", 256))}},
		{"partition key name not UTF-8", "partition-key attribute name", []dynamutex.Option{dynamutex.WithPartitionKey("\xc3\x28")}},
		{"sort key name over 255 bytes", "sort-key attribute name", []dynamutex.Option{dynamutex.WithSortKey(strings.Repeat("s", 256))}},
		{"sort key name not UTF-8", "sort-key attribute name", []dynamutex.Option{dynamutex.WithSortKey("\xff")}},
		{"sort equals default partition", "both named", []dynamutex.Option{dynamutex.WithSortKey("key")}},
		{"sort equals custom partition", "both named", []dynamutex.Option{dynamutex.WithPartitionKey("id"), dynamutex.WithSortKey("id")}},
		{"backoff factory returns nil", "nil BackOff", []dynamutex.Option{dynamutex.WithBackoff(func() backoff.BackOff { return nil })}},
		{"nil option", "nil Option", []dynamutex.Option{nil}},
		{"nil option after good ones", "nil Option", []dynamutex.Option{dynamutex.WithParallelism(2), nil}},
		{"zero KeyOption", "zero KeyOption", []dynamutex.Option{dynamutex.KeyOption{}}},
	}
	// Every attribute of the record itself is refused as either key name.
	for _, attr := range []string{"owner", "version", "token", "lease_ms", "released", "data", dynamutex.ExpiresAttribute} {
		cases = append(cases,
			struct {
				name, rule string
				opts       []dynamutex.Option
			}{"partition key named " + attr, "used by the lock record", []dynamutex.Option{dynamutex.WithPartitionKey(attr)}},
			struct {
				name, rule string
				opts       []dynamutex.Option
			}{"sort key named " + attr, "used by the lock record", []dynamutex.Option{dynamutex.WithSortKey(attr)}})
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			before := tr.total()
			_, err := dynamutex.NewSession(ctx, c, "any-table", tc.opts...)
			var oe *dynamutex.OptionError
			if !errors.Is(err, dynamutex.ErrInvalidOption) || !errors.As(err, &oe) || oe.Option == "" ||
				!strings.Contains(oe.Reason, tc.rule) {
				t.Fatalf("NewSession = %v, want an *OptionError about %q", err, tc.rule)
			}
			if n := tr.total() - before; n != 0 {
				t.Fatalf("%d requests made before the error", n)
			}
		})
	}

	// CreateTable checks the same key names, and its own nil option.
	tableCases := map[string][]dynamutex.TableOption{
		"nil table option":            {nil},
		"partition key name too long": {dynamutex.WithPartitionKey(strings.Repeat("p", 256))},
		"partition key named token":   {dynamutex.WithPartitionKey("token")},
		"sort key name not UTF-8":     {dynamutex.WithSortKey("\xff")},
		"sort key named data":         {dynamutex.WithSortKey("data")},
		"sort equals partition":       {dynamutex.WithPartitionKey("id"), dynamutex.WithSortKey("id")},
		"zero KeyOption":              {dynamutex.KeyOption{}},
	}
	for name, opts := range tableCases {
		t.Run("CreateTable "+name, func(t *testing.T) {
			before := tr.total()
			if err := dynamutex.CreateTable(ctx, c, "any-table", opts...); !errors.Is(err, dynamutex.ErrInvalidOption) {
				t.Fatalf("CreateTable = %v, want ErrInvalidOption", err)
			}
			if n := tr.total() - before; n != 0 {
				t.Fatalf("%d requests made before the error", n)
			}
		})
	}

	before := tr.total()
	for _, name := range []string{"", "ab", "bad name", "t\xff\xfet", strings.Repeat("t", 256)} {
		if _, err := dynamutex.NewSession(ctx, c, name); !errors.Is(err, dynamutex.ErrInvalidOption) {
			t.Errorf("NewSession(table %q) = %v, want ErrInvalidOption", name, err)
		}
		if err := dynamutex.CreateTable(ctx, c, name); !errors.Is(err, dynamutex.ErrInvalidOption) {
			t.Errorf("CreateTable(%q) = %v, want ErrInvalidOption", name, err)
		}
	}
	if _, err := dynamutex.NewSession(ctx, nil, "locks"); !errors.Is(err, dynamutex.ErrInvalidOption) {
		t.Errorf("NewSession(nil client) = %v", err)
	}
	if err := dynamutex.CreateTable(ctx, nil, "locks"); !errors.Is(err, dynamutex.ErrInvalidOption) {
		t.Errorf("CreateTable(nil client) = %v", err)
	}
	if n := tr.total() - before; n != 0 {
		t.Errorf("%d requests made for bad table names or a nil client", n)
	}

	// The limits themselves are accepted, and so are the options whose zero
	// value means "the default": rejecting them would take settings from users.
	table := newTable(t, c)
	for name, opts := range map[string][]dynamutex.Option{
		"lease at the floor":          {dynamutex.WithLeaseDuration(dynamutex.MinLeaseDuration)},
		"safe time at the floor":      {dynamutex.WithSafeTime(dynamutex.MinLeaseDuration * 3 / 4)},
		"lease of a week":             {dynamutex.WithLeaseDuration(week), dynamutex.WithExpiry(week + time.Second)},
		"owner of 1024 bytes":         {dynamutex.WithOwner(strings.Repeat("o", 1024))},
		"empty owner":                 {dynamutex.WithOwner("")},
		"nil logger and nil backoff":  {dynamutex.WithLogger(nil), dynamutex.WithBackoff(nil)},
		"parallelism 1":               {dynamutex.WithParallelism(1)},
		"clock bound 0":               {dynamutex.WithClockBound(0)},
		"partition key named default": {dynamutex.WithPartitionKey("key")},
	} {
		s, err := dynamutex.NewSession(ctx, c, table, opts...)
		if err != nil {
			t.Errorf("%s: NewSession = %v, want a Session", name, err)
			continue
		}
		if s.Owner() == "" {
			t.Errorf("%s: the Session has no owner name", name)
		}
		if err := s.Close(ctx); err != nil {
			t.Errorf("%s: Close = %v", name, err)
		}
	}
}

func TestMissingAndMismatchedTable(t *testing.T) {
	c, _ := newClient(t)
	ctx := ctxTimeout(t, 10*time.Second)
	_, err := dynamutex.NewSession(ctx, c, "no_such_table")
	if !errors.Is(err, dynamutex.ErrTableNotFound) || !strings.Contains(err.Error(), `"no_such_table"`) ||
		!strings.Contains(err.Error(), "CreateTable") {
		t.Fatalf("NewSession on a missing table = %v, want ErrTableNotFound naming the table and how to create it", err)
	}
	table := newTable(t, c)
	if _, err := dynamutex.NewSession(ctx, c, table, dynamutex.WithPartitionKey("id")); !errors.Is(err, dynamutex.ErrTableMismatch) {
		t.Fatalf("wrong partition key name: %v, want ErrTableMismatch", err)
	}
	if _, err := dynamutex.NewSession(ctx, c, table, dynamutex.WithSortKey("sk")); !errors.Is(err, dynamutex.ErrTableMismatch) {
		t.Fatalf("sort key the table lacks: %v, want ErrTableMismatch", err)
	}
	if err := dynamutex.CreateTable(ctx, c, table); err != nil {
		t.Fatalf("CreateTable on an existing, matching table: %v", err)
	}
	if err := dynamutex.CreateTable(ctx, c, table, dynamutex.WithSortKey("sk")); !errors.Is(err, dynamutex.ErrTableMismatch) {
		t.Fatalf("CreateTable with another schema on an existing table: %v, want ErrTableMismatch", err)
	}
}

// rejects asserts that every method of m fails with want, before any request.
func rejects(t *testing.T, tr *tap, m *dynamutex.Mutex, want error) {
	t.Helper()
	ctx := ctxTimeout(t, 10*time.Second)
	before := tr.total()
	if _, err := m.Lock(ctx); !errors.Is(err, want) {
		t.Fatalf("Lock = %v, want %v", err, want)
	}
	if _, err := m.TryLock(ctx); !errors.Is(err, want) {
		t.Fatalf("TryLock = %v, want %v", err, want)
	}
	if err := m.Unlock(ctx); !errors.Is(err, want) {
		t.Fatalf("Unlock = %v, want %v", err, want)
	}
	if n := tr.total() - before; n != 0 {
		t.Fatalf("%d requests made before the error", n)
	}
}

func TestBadKeysAndData(t *testing.T) {
	c, table, sess := setup(t)
	longOwner := newSession(t, c, table, dynamutex.WithOwner(strings.Repeat("o", 1024)))
	ctx := ctxTimeout(t, 10*time.Second)
	// nearlyFull fits beside the largest key, a short owner and room for
	// a waiter's claim (up to 1.25 KB, its owner another Session's), so
	// that the cases below show which other part of the record leaves it
	// no room.
	nearlyFull := dynamutex.WithData(make([]byte, 400*1024-2048-1800))
	cases := []struct {
		name string
		m    *dynamutex.Mutex
		want error
	}{
		{"empty key", sess.NewMutex(""), dynamutex.ErrInvalidKey},
		{"key over 2048 bytes", sess.NewMutex(strings.Repeat("k", 2049)), dynamutex.ErrInvalidKey},
		{"key over 2048 bytes in 2-byte runes", sess.NewMutex(strings.Repeat("é", 1025)), dynamutex.ErrInvalidKey},
		{"key not UTF-8", sess.NewMutex("\xc3\x28"), dynamutex.ErrInvalidKey},
		{"key ends in a cut rune", sess.NewMutex("k\xe2\x82"), dynamutex.ErrInvalidKey},
		{"sort value without sort key", sess.NewMutex("k", dynamutex.WithSortKeyValue("s")), dynamutex.ErrInvalidKey},
		{"empty sort value without sort key", sess.NewMutex("k", dynamutex.WithSortKeyValue("")), dynamutex.ErrInvalidKey},
		{"bad key and too much data", sess.NewMutex("", dynamutex.WithData(make([]byte, 400*1024))), dynamutex.ErrInvalidKey},
		{"data over 400 KB", sess.NewMutex("k", dynamutex.WithData(make([]byte, 400*1024))), dynamutex.ErrDataTooLarge},
		{"data just under 400 KB", sess.NewMutex("k", dynamutex.WithData(make([]byte, 400*1024-100))), dynamutex.ErrDataTooLarge},
		{"data beside a 1024-byte owner", longOwner.NewMutex(strings.Repeat("k", 2048), nearlyFull), dynamutex.ErrDataTooLarge},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) { rejects(t, c, tc.m, tc.want) })
	}
	// Data within 2 KB of the item limit, beside the largest key, is
	// accepted and really fits in an item.
	big := sess.NewMutex(strings.Repeat("k", 2048), nearlyFull)
	if _, err := big.Lock(ctx); err != nil {
		t.Fatalf("2048-byte key with nearly 400 KB of data: %v", err)
	}
	if err := big.Unlock(ctx); err != nil {
		t.Fatal(err)
	}

	sk := newTable(t, c, dynamutex.WithSortKey("sk"))
	skSess := newSession(t, c, sk, dynamutex.WithSortKey("sk"))
	for _, tc := range []struct {
		name string
		m    *dynamutex.Mutex
		want error
	}{
		{"missing sort value", skSess.NewMutex("k"), dynamutex.ErrInvalidKey},
		{"empty sort value", skSess.NewMutex("k", dynamutex.WithSortKeyValue("")), dynamutex.ErrInvalidKey},
		{"sort value over 1024", skSess.NewMutex("k", dynamutex.WithSortKeyValue(strings.Repeat("s", 1025))), dynamutex.ErrInvalidKey},
		{"sort value not UTF-8", skSess.NewMutex("k", dynamutex.WithSortKeyValue("\xff")), dynamutex.ErrInvalidKey},
		{"bad key with a good sort value", skSess.NewMutex("", dynamutex.WithSortKeyValue("s")), dynamutex.ErrInvalidKey},
		{"data beside a 1024-byte sort value", skSess.NewMutex(strings.Repeat("k", 2048),
			dynamutex.WithSortKeyValue(strings.Repeat("s", 1024)), nearlyFull), dynamutex.ErrDataTooLarge},
	} {
		t.Run(tc.name, func(t *testing.T) { rejects(t, c, tc.m, tc.want) })
	}
	// The largest sort value is accepted beside the largest key.
	edge := skSess.NewMutex(strings.Repeat("k", 2048), dynamutex.WithSortKeyValue(strings.Repeat("s", 1024)))
	if _, err := edge.Lock(ctx); err != nil {
		t.Fatalf("2048-byte key with a 1024-byte sort value: %v", err)
	}
	if err := edge.Unlock(ctx); err != nil {
		t.Fatal(err)
	}

	// A cancelled context is reported without a request.
	done, cancel := context.WithCancel(ctx)
	cancel()
	before := c.total()
	if _, err := sess.NewMutex("k").Lock(done); !errors.Is(err, context.Canceled) {
		t.Fatalf("Lock(cancelled) = %v", err)
	}
	if c.total() != before {
		t.Fatal("Lock with a cancelled context made a request")
	}
}

// An *OptionError names the option, so that callers such as the CLI need
// not read the message: the option function, the options of a combination,
// or the argument.
func TestOptionErrorNamesTheOption(t *testing.T) {
	ctx := context.Background()
	store := dynamutextest.New()
	for _, tc := range []struct {
		want string
		opts []dynamutex.Option
	}{
		{"WithLeaseDuration", []dynamutex.Option{dynamutex.WithLeaseDuration(-time.Second)}},
		{"WithParallelism", []dynamutex.Option{dynamutex.WithParallelism(-1)}},
		{"WithClockBound", []dynamutex.Option{dynamutex.WithClockBound(-time.Second)}},
		{"WithHeartbeatPeriod, WithSafeTime", []dynamutex.Option{dynamutex.WithHeartbeatPeriod(time.Second), dynamutex.WithSafeTime(time.Second)}},
		// A lease under the floor is blamed on the option it came from.
		{"WithLeaseDuration", []dynamutex.Option{dynamutex.WithLeaseDuration(5 * time.Millisecond), dynamutex.WithSafeTime(3 * time.Millisecond)}},
		{"WithSafeTime", []dynamutex.Option{dynamutex.WithSafeTime(3 * time.Millisecond), dynamutex.WithHeartbeatPeriod(time.Millisecond)}},
		{"WithHeartbeatPeriod", []dynamutex.Option{dynamutex.WithHeartbeatPeriod(time.Millisecond)}},
		{"WithExpiry, WithLeaseDuration", []dynamutex.Option{dynamutex.WithExpiry(time.Second)}},
		{"WithSortKey", []dynamutex.Option{dynamutex.WithSortKey("token")}},
		{"Option", []dynamutex.Option{nil}},
	} {
		_, err := dynamutex.NewSession(ctx, store, "locks", tc.opts...)
		var oe *dynamutex.OptionError
		if !errors.As(err, &oe) || oe.Option != tc.want || !errors.Is(err, dynamutex.ErrInvalidOption) {
			t.Errorf("NewSession = %v, want an *OptionError for %s", err, tc.want)
		}
	}
	var oe *dynamutex.OptionError
	if _, err := dynamutex.NewSession(ctx, nil, "locks"); !errors.As(err, &oe) || oe.Option != "client" {
		t.Errorf("NewSession with a nil client = %v, want an *OptionError for client", err)
	}
	if err := dynamutex.CreateTable(ctx, store, "x"); !errors.As(err, &oe) || oe.Option != "table" {
		t.Errorf("CreateTable with a 1-letter name = %v, want an *OptionError for table", err)
	}
}

// The one rule for option zero values: the zero value of an argument means
// the option's default, as if it were left out; a nil option of any kind,
// or a zero KeyOption, is a mistake and an *OptionError.
func TestOptionZeroMeansDefault(t *testing.T) {
	ctx := context.Background()
	store := dynamutextest.New()
	if err := dynamutex.CreateTable(ctx, store, "locks", dynamutex.WithPartitionKey("")); err != nil {
		t.Fatalf("CreateTable with WithPartitionKey(\"\"): %v", err)
	}
	s, err := dynamutex.NewSession(ctx, store, "locks", dynamutex.WithLeaseDuration(0), dynamutex.WithHeartbeatPeriod(0),
		dynamutex.WithSafeTime(0), dynamutex.WithExpiry(0), dynamutex.WithParallelism(0), dynamutex.WithOwner(""),
		dynamutex.WithLogger(nil), dynamutex.WithObserver(nil), dynamutex.WithBackoff(nil),
		dynamutex.WithPartitionKey(""), dynamutex.WithSortKey(""))
	if err != nil {
		t.Fatalf("NewSession with every option at its zero value: %v", err)
	}
	defer s.Close(ctx)
	want := dynamutex.Timings{Lease: dynamutex.DefaultLeaseDuration, Heartbeat: dynamutex.DefaultHeartbeatPeriod,
		Safe: dynamutex.DefaultSafeTime}
	if got := s.Timings(); got != want {
		t.Errorf("timings %+v, want the defaults %+v", got, want)
	}
	if s.Owner() == "" {
		t.Error("WithOwner(\"\") left the owner empty, want the default")
	}
	m := s.NewMutex("k", dynamutex.WithData(nil))
	if _, err := m.Lock(ctx); err != nil {
		t.Fatalf("Lock with WithData(nil) on a table keyed %q: %v", dynamutex.DefaultPartitionKey, err)
	}
	if err := m.Unlock(ctx); err != nil {
		t.Fatal(err)
	}
	var oe *dynamutex.OptionError
	if _, err := s.NewMutex("k", nil).Lock(ctx); !errors.As(err, &oe) || oe.Option != "MutexOption" {
		t.Errorf("Lock of a Mutex made with a nil MutexOption = %v, want an *OptionError", err)
	}
}
