package dynamutex_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/dynamutex/dynamutex"
)

// Point 9: bad input gets a clear error before any request.
func TestBadOptions(t *testing.T) {
	c, tr := newClient(t)
	ctx := ctxTimeout(t, 10*time.Second)
	cases := []struct {
		name string
		opts []dynamutex.Option
	}{
		{"zero lease", []dynamutex.Option{dynamutex.WithLeaseDuration(0)}},
		{"negative heartbeat", []dynamutex.Option{dynamutex.WithHeartbeatPeriod(-time.Second)}},
		{"zero safe time", []dynamutex.Option{dynamutex.WithSafeTime(0)}},
		{"zero expiry", []dynamutex.Option{dynamutex.WithExpiry(0)}},
		{"heartbeat equals safe", []dynamutex.Option{dynamutex.WithHeartbeatPeriod(15 * time.Second)}},
		{"heartbeat above safe", []dynamutex.Option{dynamutex.WithHeartbeatPeriod(16 * time.Second)}},
		{"safe equals lease", []dynamutex.Option{dynamutex.WithSafeTime(20 * time.Second)}},
		{"safe above lease", []dynamutex.Option{dynamutex.WithLeaseDuration(10 * time.Second)}},
		{"expiry below lease", []dynamutex.Option{dynamutex.WithExpiry(10 * time.Second)}},
		{"lease under 1ms", []dynamutex.Option{dynamutex.WithLeaseDuration(time.Microsecond * 900), dynamutex.WithSafeTime(time.Microsecond * 500), dynamutex.WithHeartbeatPeriod(time.Microsecond)}},
		{"parallelism 0", []dynamutex.Option{dynamutex.WithParallelism(0)}},
		{"owner too long", []dynamutex.Option{dynamutex.WithOwner(strings.Repeat("o", 1025))}},
		{"owner not UTF-8", []dynamutex.Option{dynamutex.WithOwner("\xff")}},
		{"empty partition key name", []dynamutex.Option{dynamutex.WithPartitionKey("")}},
		{"partition key clashes", []dynamutex.Option{dynamutex.WithPartitionKey("token")}},
		{"sort key clashes", []dynamutex.Option{dynamutex.WithSortKey("expires_at")}},
		{"sort equals partition", []dynamutex.Option{dynamutex.WithSortKey("key")}},
		{"nil option", []dynamutex.Option{nil}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			before := tr.total()
			_, err := dynamutex.NewSession(ctx, c, "any-table", tc.opts...)
			if !errors.Is(err, dynamutex.ErrInvalidOption) {
				t.Fatalf("NewSession = %v, want ErrInvalidOption", err)
			}
			if n := tr.total() - before; n != 0 {
				t.Fatalf("%d requests made before the error", n)
			}
		})
	}
	for _, name := range []string{"", "ab", "bad name", strings.Repeat("t", 256)} {
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

func TestBadKeysAndData(t *testing.T) {
	c, tr := newClient(t)
	table := newTable(t, c)
	sess := newSession(t, c, table)
	ctx := ctxTimeout(t, 10*time.Second)
	cases := []struct {
		name string
		m    *dynamutex.Mutex
		want error
	}{
		{"empty key", sess.NewMutex(""), dynamutex.ErrInvalidKey},
		{"key over 2048 bytes", sess.NewMutex(strings.Repeat("k", 2049)), dynamutex.ErrInvalidKey},
		{"key not UTF-8", sess.NewMutex("\xc3\x28"), dynamutex.ErrInvalidKey},
		{"sort value without sort key", sess.NewMutex("k", dynamutex.WithSortKeyValue("s")), dynamutex.ErrInvalidKey},
		{"data over 400 KB", sess.NewMutex("k", dynamutex.WithData(make([]byte, 400*1024))), dynamutex.ErrDataTooLarge},
		{"data just under 400 KB", sess.NewMutex("k", dynamutex.WithData(make([]byte, 400*1024-100))), dynamutex.ErrDataTooLarge},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			before := tr.total()
			if _, err := tc.m.Lock(ctx); !errors.Is(err, tc.want) {
				t.Fatalf("Lock = %v, want %v", err, tc.want)
			}
			if _, err := tc.m.TryLock(ctx); !errors.Is(err, tc.want) {
				t.Fatalf("TryLock = %v, want %v", err, tc.want)
			}
			if err := tc.m.Unlock(ctx); !errors.Is(err, tc.want) {
				t.Fatalf("Unlock = %v, want %v", err, tc.want)
			}
			if n := tr.total() - before; n != 0 {
				t.Fatalf("%d requests made before the error", n)
			}
		})
	}
	// Data within a few hundred bytes of the item limit, beside the largest
	// key, is accepted and really fits in an item.
	big := sess.NewMutex(strings.Repeat("k", 2048), dynamutex.WithData(make([]byte, 400*1024-2048-500)))
	if _, err := big.Lock(ctx); err != nil {
		t.Fatalf("2048-byte key with nearly 400 KB of data: %v", err)
	}
	if err := big.Unlock(ctx); err != nil {
		t.Fatal(err)
	}

	sk := newTable(t, c, dynamutex.WithSortKey("sk"))
	skSess := newSession(t, c, sk, dynamutex.WithSortKey("sk"))
	for name, m := range map[string]*dynamutex.Mutex{
		"missing sort value":   skSess.NewMutex("k"),
		"empty sort value":     skSess.NewMutex("k", dynamutex.WithSortKeyValue("")),
		"sort value over 1024": skSess.NewMutex("k", dynamutex.WithSortKeyValue(strings.Repeat("s", 1025))),
		"sort value not UTF-8": skSess.NewMutex("k", dynamutex.WithSortKeyValue("\xff")),
	} {
		if _, err := m.Lock(ctx); !errors.Is(err, dynamutex.ErrInvalidKey) {
			t.Errorf("%s: Lock = %v, want ErrInvalidKey", name, err)
		}
	}
	// A cancelled context is reported without a request.
	done, cancel := context.WithCancel(ctx)
	cancel()
	before := tr.total()
	if _, err := sess.NewMutex("k").Lock(done); !errors.Is(err, context.Canceled) {
		t.Fatalf("Lock(cancelled) = %v", err)
	}
	if tr.total() != before {
		t.Fatal("Lock with a cancelled context made a request")
	}
}
