package dynamutex_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sort"
	"testing"
	"testing/synctest"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/dynamutex/dynamutex"
	"github.com/dynamutex/dynamutex/dynamutextest"
)

func TestInspectHeldAndReleased(t *testing.T) {
	c, table, holder := setup(t, dynamutex.WithOwner("holder"))
	viewer := newSession(t, c, table, dynamutex.WithOwner("viewer"))
	ctx := ctxTimeout(t, 10*time.Second)

	m := holder.NewMutex("job", dynamutex.WithData([]byte("step 3")))
	lctx, err := m.Lock(ctx)
	if err != nil {
		t.Fatal(err)
	}
	token := mustLease(t, lctx).Token()
	// The holder renews through the same transport, so count reads only.
	info, err := viewer.Inspect(ctx, "job")
	if err != nil {
		t.Fatal(err)
	}
	if n := c.count("GetItem"); n != 1 {
		t.Errorf("Inspect made %d GetItem requests, want 1", n)
	}
	if info.Key != "job" || info.Owner != "holder" || info.Token != token || string(info.Data) != "step 3" ||
		info.Lease != testLease || info.Released || info.Unchanged != 0 || info.Free() || info.Err != nil {
		t.Errorf("Inspect of a held lock = %+v", info)
	}
	if err := m.Unlock(ctx); err != nil {
		t.Fatal(err)
	}
	info, err = viewer.Inspect(ctx, "job")
	if err != nil {
		t.Fatal(err)
	}
	if !info.Released || !info.Free() || info.Token != token {
		t.Errorf("Inspect of a released lock = %+v", info)
	}
}

func TestInspectMissingForeignAndInvalid(t *testing.T) {
	c, table, s := setup(t)
	ctx := ctxTimeout(t, 10*time.Second)

	if _, err := s.Inspect(ctx, "never"); !errors.Is(err, dynamutex.ErrNoRecord) {
		t.Errorf("Inspect of a missing record = %v, want ErrNoRecord", err)
	}
	putItem(t, c, table, map[string]types.AttributeValue{"key": avS("alien"), "owner": avN("42")})
	info, err := s.Inspect(ctx, "alien")
	var re *dynamutex.RecordError
	if !errors.As(err, &re) || !errors.Is(info.Err, dynamutex.ErrCorruptRecord) || info.Key != "alien" || info.Owner != "" {
		t.Errorf("Inspect of a foreign record = %+v, %v; want a *RecordError", info, err)
	}
	before := c.total()
	if _, err := s.Inspect(ctx, ""); !errors.Is(err, dynamutex.ErrInvalidKey) {
		t.Errorf("Inspect(\"\") = %v, want ErrInvalidKey", err)
	}
	if _, err := s.Inspect(ctx, "k", "x"); !errors.Is(err, dynamutex.ErrInvalidKey) {
		t.Errorf("Inspect with a sort key on a table without one = %v, want ErrInvalidKey", err)
	}
	if n := c.total() - before; n != 0 {
		t.Errorf("invalid Inspect calls made %d requests", n)
	}
}

// Reads count as observations: once Inspect has seen an abandoned record
// unchanged for its lease, it reports it free, and Lock takes it over with a
// single request instead of watching it for another lease. In a synctest
// bubble, so that the lease passes exactly.
func TestInspectFeedsTakeover(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c, table, s := setupOn(t, dynamutextest.New())
		ctx := ctxTimeout(t, 10*time.Second)
		const lease = 300 * time.Millisecond
		putItem(t, c, table, heldRecord("stuck", "crashed", 7, lease))

		first, err := s.Inspect(ctx, "stuck")
		if err != nil {
			t.Fatal(err)
		}
		if first.Free() || first.Unchanged != 0 {
			t.Fatalf("first Inspect = %+v, want not free", first)
		}
		time.Sleep(lease)
		later, err := s.Inspect(ctx, "stuck")
		if err != nil {
			t.Fatal(err)
		}
		if later.Unchanged != lease || !later.Free() {
			t.Fatalf("Inspect a lease later = %+v, want free, unchanged for %v", later, lease)
		}
		before := c.count(opAcquire)
		lctx, err := s.NewMutex("stuck").Lock(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if n := c.count(opAcquire) - before; n != 1 {
			t.Errorf("takeover after Inspect took %d requests, want 1", n)
		}
		if tok := mustLease(t, lctx).Token(); tok != 8 {
			t.Errorf("token after takeover = %d, want 8", tok)
		}
	})
}

// smallPages makes every Scan ask for at most 5 items. DynamoDB pages at
// 1 MB, which DynamoDB Local does not do, so this is how the tests make List
// follow LastEvaluatedKey over many pages.
type smallPages struct {
	testDB
}

func (p smallPages) Scan(ctx context.Context, in *dynamodb.ScanInput, optFns ...func(*dynamodb.Options)) (*dynamodb.ScanOutput, error) {
	limited := *in
	limited.Limit = aws.Int32(5)
	return p.testDB.Scan(ctx, &limited, optFns...)
}

// List reads a table over many Scan pages, reports foreign records without
// stopping, and stops when the loop breaks.
func TestList(t *testing.T) {
	c, tr := newClient(t)
	table := newTable(t, c)
	s := newSession(t, smallPages{c}, table, dynamutex.WithOwner("lister"))
	ctx := ctxTimeout(t, 20*time.Second)

	want := lockForList(ctx, t, s)
	putItem(t, c, table, map[string]types.AttributeValue{"key": avS("alien"), "colour": avS("green")})

	scans := tr.count("Scan")
	keys, foreign := listChecked(ctx, t, s, want)
	if n := tr.count("Scan") - scans; n < 5 {
		t.Errorf("List made %d Scan requests for 25 records in pages of 5, want at least 5", n)
	}
	sort.Strings(keys)
	if len(keys) != len(want) || foreign != 1 {
		t.Fatalf("List gave %d records and %d foreign ones, want %d and 1: %v", len(keys), foreign, len(want), keys)
	}
	for i := 1; i < len(keys); i++ {
		if keys[i] == keys[i-1] {
			t.Errorf("List gave %q twice", keys[i])
		}
	}

	scans = tr.count("Scan")
	n := 0
	for range s.List(ctx) {
		n++
		break
	}
	if n != 1 || tr.count("Scan")-scans != 1 {
		t.Errorf("breaking out after %d records made %d Scan requests, want 1 and 1", n, tr.count("Scan")-scans)
	}
}

// listBigData is the size of the data of TestList's big records.
const listBigData = 300 << 10

// lockForList locks four records with big data and twenty small ones, every
// other one released again; the rest stay held until the test ends. It
// returns the keys, each with whether it is released.
func lockForList(ctx context.Context, t *testing.T, s *dynamutex.Session) map[string]bool {
	big := bytes.Repeat([]byte("x"), listBigData)
	want := map[string]bool{}
	for i := range 4 {
		key := fmt.Sprintf("big-%d", i)
		m := s.NewMutex(key, dynamutex.WithData(big))
		if _, err := m.Lock(ctx); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { m.Unlock(ctx) })
		want[key] = false
	}
	for i := range 20 {
		key := fmt.Sprintf("small-%02d", i)
		m := s.NewMutex(key)
		if _, err := m.Lock(ctx); err != nil {
			t.Fatal(err)
		}
		if i%2 == 0 {
			if err := m.Unlock(ctx); err != nil {
				t.Fatal(err)
			}
		} else {
			t.Cleanup(func() { m.Unlock(ctx) })
		}
		want[key] = i%2 == 0
	}
	return want
}

// listChecked lists the table, checks each record against want, and returns
// the keys listed and the number of foreign records.
func listChecked(ctx context.Context, t *testing.T, s *dynamutex.Session, want map[string]bool) (keys []string, foreign int) {
	for info, err := range s.List(ctx) {
		if err != nil {
			t.Fatal(err)
		}
		if info.Err != nil {
			if info.Key != "alien" || !errors.Is(info.Err, dynamutex.ErrCorruptRecord) {
				t.Errorf("unexpected record error %+v", info)
			}
			foreign++
			continue
		}
		released, ok := want[info.Key]
		if !ok || info.Released != released || info.Owner != "lister" || info.Token == 0 {
			t.Errorf("List gave %+v; want released=%v (known: %v)", info, released, ok)
		}
		if len(info.Key) > 3 && info.Key[:3] == "big" && len(info.Data) != listBigData {
			t.Errorf("%s carries %d bytes of data, want %d", info.Key, len(info.Data), listBigData)
		}
		keys = append(keys, info.Key)
	}
	return keys, foreign
}

func TestListScanFails(t *testing.T) {
	c, _, s := setup(t)
	ctx := ctxTimeout(t, 10*time.Second)
	c.setFault(func(op, key string, in any) fault {
		if op == "Scan" {
			return fault{status: 400, errCode: "AccessDeniedException"}
		}
		return fault{}
	})
	calls := 0
	for info, err := range s.List(ctx) {
		calls++
		if err == nil || info.Key != "" {
			t.Errorf("List gave %+v, %v; want only an error", info, err)
		}
	}
	if calls != 1 {
		t.Errorf("List yielded %d times, want once, with the error", calls)
	}
}

func TestInspectAndListSortKey(t *testing.T) {
	c, _ := newClient(t)
	table := newTable(t, c, dynamutex.WithSortKey("shard"))
	s := newSession(t, c, table, dynamutex.WithSortKey("shard"))
	ctx := ctxTimeout(t, 10*time.Second)

	m := s.NewMutex("job", dynamutex.WithSortKeyValue("eu-1"))
	lctx, err := m.Lock(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Unlock(ctx)
	info, err := s.Inspect(ctx, "job", "eu-1")
	if err != nil || info.SortKey != "eu-1" || info.Token != mustLease(t, lctx).Token() {
		t.Errorf("Inspect = %+v, %v", info, err)
	}
	if _, err := s.Inspect(ctx, "job", "eu-1", "us-1"); !errors.Is(err, dynamutex.ErrInvalidKey) {
		t.Errorf("Inspect with two sort-key values = %v, want ErrInvalidKey", err)
	}
	if _, err := s.Inspect(ctx, "job", "us-1"); !errors.Is(err, dynamutex.ErrNoRecord) {
		t.Errorf("Inspect of another sort key = %v, want ErrNoRecord", err)
	}
	for info, err := range s.List(ctx) {
		if err != nil || info.Key != "job" || info.SortKey != "eu-1" {
			t.Errorf("List gave %+v, %v", info, err)
		}
	}
}
