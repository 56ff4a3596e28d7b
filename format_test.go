package dynamutex_test

import (
	"context"
	"errors"
	"testing"
	"testing/synctest"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/dynamutex/dynamutex"
	"github.com/dynamutex/dynamutex/dynamutextest"
)

// formatKeys is the key of lock k in a table of format f's client.
func formatKeys(f dynamutex.Format, k string) map[string]types.AttributeValue {
	if f == dynamutex.FormatPython {
		return map[string]types.AttributeValue{"lock_key": avS(k), "sort_key": avS("-")}
	}
	return map[string]types.AttributeValue{"key": avS(k)}
}

// getFormatItem reads lock k of a table of format f's client.
func getFormatItem(tb testing.TB, c testDB, table string, f dynamutex.Format, k string) map[string]types.AttributeValue {
	tb.Helper()
	out, err := c.GetItem(context.Background(), &dynamodb.GetItemInput{TableName: aws.String(table),
		Key: formatKeys(f, k), ConsistentRead: aws.Bool(true)})
	if err != nil {
		tb.Fatalf("GetItem: %v", err)
	}
	return out.Item
}

// ttlOf is the attribute the table's TTL is enabled on, "" for none.
func ttlOf(tb testing.TB, c testDB, table string) string {
	tb.Helper()
	out, err := c.DescribeTimeToLive(context.Background(), &dynamodb.DescribeTimeToLiveInput{TableName: aws.String(table)})
	if err != nil {
		tb.Fatal(err)
	}
	if d := out.TimeToLiveDescription; d != nil && d.TimeToLiveStatus == types.TimeToLiveStatusEnabled {
		return aws.ToString(d.AttributeName)
	}
	return ""
}

// A Session with FormatJava writes the attributes the Java client reads:
// its version is recordVersionNumber, which every renewal changes; a
// release keeps the record with isReleased "1"; the next acquisition
// removes the mark and carries the token on. CreateTable makes Java's
// table: partition key "key", no TTL.
func TestFormatJavaRecord(t *testing.T) {
	c, _ := newClient(t)
	table := newTable(t, c, dynamutex.WithFormat(dynamutex.FormatJava))
	if ttl := ttlOf(t, c, table); ttl != "" {
		t.Errorf("a Java table has TTL on %q, want none", ttl)
	}
	s := newSession(t, c, table, dynamutex.WithFormat(dynamutex.FormatJava), dynamutex.WithOwner("go-a"))
	ctx := ctxTimeout(t, 10*time.Second)
	m := s.NewMutex("k", dynamutex.WithData([]byte("payload")))
	lctx, err := m.Lock(ctx)
	if err != nil {
		t.Fatal(err)
	}
	item := getItem(t, c, table, "k")
	rvn := attrS(item, "recordVersionNumber")
	if attrS(item, "ownerName") != "go-a" || attrS(item, "leaseDuration") != "600" || rvn == "" ||
		attrS(item, "stamped_version") != rvn || item["isReleased"] != nil || item["version"] != nil ||
		item["owner"] != nil || item["expires_at"] != nil {
		t.Fatalf("held record %v, want Java's attributes and no native ones", item)
	}
	waitFor(t, 2*time.Second, "a renewal to change recordVersionNumber", func() bool {
		return attrS(getItem(t, c, table, "k"), "recordVersionNumber") != rvn
	})
	token := mustLease(t, lctx).Token()
	if err := m.Unlock(ctx); err != nil {
		t.Fatal(err)
	}
	item = getItem(t, c, table, "k")
	if attrS(item, "isReleased") != "1" || attrS(item, "ownerName") != "go-a" {
		t.Fatalf("released record %v, want it kept with isReleased \"1\"", item)
	}
	info, err := s.Inspect(ctx, "k")
	if err != nil || info.Client != "" || !info.Released || info.Owner != "go-a" {
		t.Fatalf("Inspect = %+v, %v; want a released dynamutex record", info, err)
	}
	lctx, err = m.Lock(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if got := mustLease(t, lctx).Token(); got != token+1 {
		t.Errorf("token %d after a release kept the record, want %d", got, token+1)
	}
	if item := getItem(t, c, table, "k"); item["isReleased"] != nil {
		t.Errorf("isReleased survived an acquisition: %v", item)
	}
	if err := m.Unlock(ctx); err != nil {
		t.Fatal(err)
	}
}

// A Session with FormatPython writes the attributes python-dynamodb-lock
// reads, on its table (lock_key, sort_key "-", TTL on expiry_time). A
// release keeps the version and cuts the lease to 1 ms, with the library's
// released mark beside it.
func TestFormatPythonRecord(t *testing.T) {
	c, _ := newClient(t)
	table := newTable(t, c, dynamutex.WithFormat(dynamutex.FormatPython))
	if ttl := ttlOf(t, c, table); ttl != "expiry_time" {
		t.Errorf("a Python table has TTL on %q, want expiry_time", ttl)
	}
	py := dynamutex.FormatPython
	s := newSession(t, c, table, dynamutex.WithFormat(py), dynamutex.WithOwner("go-a"))
	ctx := ctxTimeout(t, 10*time.Second)
	m := s.NewMutex("k")
	lctx, err := m.Lock(ctx)
	if err != nil {
		t.Fatal(err)
	}
	item := getFormatItem(t, c, table, py, "k")
	rvn := attrS(item, "record_version_number")
	lease, _ := item["lease_duration"].(*types.AttributeValueMemberN)
	expiry, _ := item["expiry_time"].(*types.AttributeValueMemberN)
	if attrS(item, "owner_name") != "go-a" || lease == nil || lease.Value != "0.6" || rvn == "" || expiry == nil ||
		item["version"] != nil || item["expires_at"] != nil {
		t.Fatalf("held record %v, want Python's attributes, lease_duration 0.6", item)
	}
	token := mustLease(t, lctx).Token()
	waitFor(t, 2*time.Second, "a renewal to change record_version_number", func() bool {
		return attrS(getFormatItem(t, c, table, py, "k"), "record_version_number") != rvn
	})
	if err := m.Unlock(ctx); err != nil {
		t.Fatal(err)
	}
	item = getFormatItem(t, c, table, py, "k")
	lease, _ = item["lease_duration"].(*types.AttributeValueMemberN)
	if !attrBool(item, "released") || lease == nil || lease.Value != "0.001" ||
		attrS(item, "stamped_version") != attrS(item, "record_version_number") {
		t.Fatalf("released record %v, want released true, lease_duration 0.001, its version kept", item)
	}
	lctx, err = m.Lock(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if got := mustLease(t, lctx).Token(); got != token+1 {
		t.Errorf("token %d after a release kept the record, want %d", got, token+1)
	}
	if err := m.Unlock(ctx); err != nil {
		t.Fatal(err)
	}
	// A holder that does not renew in between (a 20 s lease here) releases
	// under the very version it acquired with.
	slow := newSession(t, c, table, dynamutex.WithFormat(py),
		dynamutex.WithLeaseDuration(20*time.Second), dynamutex.WithSafeTime(15*time.Second),
		dynamutex.WithHeartbeatPeriod(5*time.Second))
	sm := slow.NewMutex("k")
	if _, err := sm.Lock(ctx); err != nil {
		t.Fatal(err)
	}
	rvn = attrS(getFormatItem(t, c, table, py, "k"), "record_version_number")
	if err := sm.Unlock(ctx); err != nil {
		t.Fatal(err)
	}
	if got := attrS(getFormatItem(t, c, table, py, "k"), "record_version_number"); got != rvn {
		t.Errorf("the release changed the version from %s to %s; a Python waiter that saw it would wait again", rvn, got)
	}
}

// Guarded writes hold in both foreign formats while the lock is held.
func TestFormatGuardedWrite(t *testing.T) {
	for _, f := range []dynamutex.Format{dynamutex.FormatJava, dynamutex.FormatPython} {
		t.Run(f.String(), func(t *testing.T) {
			c, _ := newClient(t)
			table := newTable(t, c, dynamutex.WithFormat(f))
			data := newTable(t, c)
			s := newSession(t, c, table, dynamutex.WithFormat(f))
			ctx := ctxTimeout(t, 10*time.Second)
			lctx, err := s.NewMutex("k").Lock(ctx)
			if err != nil {
				t.Fatal(err)
			}
			put := types.TransactWriteItem{Put: &types.Put{TableName: aws.String(data),
				Item: map[string]types.AttributeValue{"key": avS("row"), "v": avS("1")}}}
			if err := mustLease(t, lctx).GuardedWrite(ctx, put); err != nil {
				t.Fatalf("GuardedWrite in %s: %v", f, err)
			}
			if attrS(getItem(t, c, data, "row"), "v") != "1" {
				t.Fatal("the guarded write did not land")
			}
		})
	}
}

// An unknown Format is an *OptionError before any request, for NewSession
// and CreateTable alike.
func TestFormatUnknown(t *testing.T) {
	c, tr := newClient(t)
	var oe *dynamutex.OptionError
	_, err := dynamutex.NewSession(context.Background(), c, "locks", dynamutex.WithFormat(dynamutex.Format(7)))
	if !errors.As(err, &oe) || oe.Option != "WithFormat" {
		t.Fatalf("NewSession: %v, want an *OptionError for WithFormat", err)
	}
	if err := dynamutex.CreateTable(context.Background(), c, "locks", dynamutex.WithFormat(9)); !errors.As(err, &oe) {
		t.Fatalf("CreateTable: %v, want an *OptionError", err)
	}
	if n := tr.total(); n != 0 {
		t.Errorf("%d requests, want none", n)
	}
	if got := dynamutex.Format(7).String(); got != "Format(7)" {
		t.Errorf("String = %q", got)
	}
	for f, want := range map[dynamutex.Format]string{dynamutex.FormatNative: dynamutex.ExpiresAttribute,
		dynamutex.FormatJava: "", dynamutex.FormatPython: "expiry_time"} {
		if got := f.TTLAttribute(); got != want {
			t.Errorf("%v.TTLAttribute() = %q, want %q", f, got, want)
		}
	}
}

// crossPair is a holder and a waiter that write different formats on one
// table: the waiter takes the crashed holder's lock over by watching its
// version for its lease, rewrites the record in its own format, and the
// holder learns that it lost the lock.
type crossPair struct{ holder, waiter dynamutex.Format }

func TestSynctestFormatCrossTakeover(t *testing.T) {
	for _, p := range []crossPair{
		{dynamutex.FormatJava, dynamutex.FormatNative}, {dynamutex.FormatNative, dynamutex.FormatJava},
		{dynamutex.FormatPython, dynamutex.FormatNative}, {dynamutex.FormatNative, dynamutex.FormatPython},
	} {
		t.Run(p.holder.String()+"_to_"+p.waiter.String(), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) { crossTakeover(t, p) })
		})
	}
}

func crossTakeover(t *testing.T, p crossPair) {
	ctx := context.Background()
	db := dynamutextest.New()
	tableFormat := max(p.holder, p.waiter) // the client's table: Java's or Python's
	if err := dynamutex.CreateTable(ctx, db, "locks", dynamutex.WithFormat(tableFormat)); err != nil {
		t.Fatal(err)
	}
	open := func(c dynamutex.DynamoDBAPI, f dynamutex.Format, owner string) *dynamutex.Session {
		opts := []dynamutex.Option{dynamutex.WithFormat(f), dynamutex.WithOwner(owner)}
		if tableFormat == dynamutex.FormatPython && f != dynamutex.FormatPython {
			opts = append(opts, dynamutex.WithPartitionKey("lock_key"), dynamutex.WithSortKey("sort_key"))
		}
		s, err := dynamutex.NewSession(ctx, c, "locks", opts...)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	mutex := func(s *dynamutex.Session) *dynamutex.Mutex {
		if tableFormat == dynamutex.FormatPython {
			return s.NewMutex("k", dynamutex.WithSortKeyValue("-"))
		}
		return s.NewMutex("k")
	}
	hc := newTap(db)
	holder := open(hc, p.holder, "holder")
	hctx, err := mutex(holder).Lock(ctx)
	if err != nil {
		t.Fatal(err)
	}
	hc.setFault(func(string, string, any) fault { return fault{block: true} }) // the holder is cut off
	waiter := open(db, p.waiter, "waiter")
	defer waiter.Close(ctx)
	start := time.Now()
	wm := mutex(waiter)
	wctx, err := wm.Lock(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if waited := time.Since(start); waited < dynamutex.DefaultLeaseDuration {
		t.Errorf("took the %s holder's lock after %v, less than its lease", p.holder, waited)
	}
	if hctx.Err() == nil {
		t.Errorf("the cut-off holder's context is still live after the takeover")
	}
	item := getFormatItem(t, db, "locks", tableFormat, "k")
	wantVersion := map[dynamutex.Format]string{dynamutex.FormatNative: "version",
		dynamutex.FormatJava: "recordVersionNumber", dynamutex.FormatPython: "record_version_number"}
	if attrS(item, wantVersion[p.waiter]) == "" || item[wantVersion[p.holder]] != nil {
		t.Errorf("record after the takeover %v, want it in %s alone", item, p.waiter)
	}
	info, err := waiter.Inspect(ctx, "k", inspectSort(tableFormat)...)
	if err != nil || info.Owner != "waiter" || info.Client != "" || info.Token != mustLease(t, wctx).Token() {
		t.Errorf("Inspect after the takeover = %+v, %v", info, err)
	}
	hc.setFault(nil)
	if err := holder.Close(ctx); err != nil && !errors.Is(err, dynamutex.ErrLockLost) {
		t.Logf("holder Close: %v", err)
	}
	if err := wm.Unlock(ctx); err != nil {
		t.Fatal(err)
	}
}

// inspectSort is the sort-key value Inspect needs on a table of format f.
func inspectSort(f dynamutex.Format) []string {
	if f == dynamutex.FormatPython {
		return []string{"-"}
	}
	return nil
}
