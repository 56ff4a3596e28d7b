package dynamutex_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/dynamutex/dynamutex"
	"github.com/dynamutex/dynamutex/dynamutextest"
)

// foreignItem loads a record the Java or Python lock client wrote
// (testdata/foreign), with its key attribute set to key.
func foreignItem(t *testing.T, name, key string) map[string]types.AttributeValue {
	t.Helper()
	raw, err := os.ReadFile("testdata/foreign/" + name + ".json")
	if err != nil {
		t.Fatal(err)
	}
	var attrs map[string]map[string]string
	if err := json.Unmarshal(raw, &attrs); err != nil {
		t.Fatal(err)
	}
	item := map[string]types.AttributeValue{}
	for name, v := range attrs {
		switch {
		case v["S"] != "":
			item[name] = avS(v["S"])
		case v["N"] != "":
			item[name] = avN(v["N"])
		default:
			t.Fatalf("fixture attribute %s: %v is neither S nor N", name, v)
		}
	}
	for _, k := range []string{"key", "lock_key"} {
		if _, ok := item[k]; ok {
			item[k] = avS(key)
		}
	}
	return item
}

// Java's and Python's records decode to held (or Java keep-released)
// records naming the client, with the client's lease, and no token.
func TestForeignInspect(t *testing.T) {
	c, table, s := setup(t)
	putItem(t, c, table, foreignItem(t, "java-held", "held"))
	putItem(t, c, table, foreignItem(t, "java-released-keep", "released"))
	ctx := ctxTimeout(t, 10*time.Second)
	for _, tc := range []struct {
		key      string
		released bool
	}{{"held", false}, {"released", true}} {
		info, err := s.Inspect(ctx, tc.key)
		if err != nil {
			t.Fatalf("Inspect %s: %v", tc.key, err)
		}
		if info.Client != "java" || info.Owner != "java-a" || info.Lease != 2*time.Second || info.Token != 0 ||
			info.Released != tc.released || info.Free() != tc.released {
			t.Errorf("Inspect %s = %+v (Free %v), want Java's record by java-a, lease 2s, released %v",
				tc.key, info, info.Free(), tc.released)
		}
	}
}

// A Lock of a Java record that is never renewed waits exactly one of the
// record's leases from this Session's first look, then takes it over with one
// write that removes Java's attributes. TryLock meanwhile names the client.
// The Session says once, at Warn, that the table is shared.
func TestSynctestForeignJavaTakeover(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx := context.Background()
		var logs bytes.Buffer
		c := newTap(dynamutextest.New())
		s := memSession(t, c, dynamutex.WithOwner("waiter"),
			dynamutex.WithLogger(slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelWarn}))))
		defer s.Close(ctx)
		putItem(t, c, "locks", foreignItem(t, "java-held", "k"))
		putItem(t, c, "locks", foreignItem(t, "java-held", "k2"))

		start := time.Now()
		var held *dynamutex.HeldError
		_, err := s.NewMutex("k").TryLock(ctx)
		if !errors.As(err, &held) || held.Client != "java" || held.Owner != "java-a" || held.Lease != 2*time.Second ||
			errors.Is(err, dynamutex.ErrCorruptRecord) {
			t.Fatalf("TryLock of a Java record: %v, want a HeldError naming java", err)
		}
		if _, err := s.NewMutex("k2").TryLock(ctx); !errors.As(err, &held) {
			t.Fatalf("TryLock of a second Java record: %v", err)
		}
		lctx, err := s.NewMutex("k").Lock(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if waited := time.Since(start); waited != 2*time.Second {
			t.Errorf("took the Java record over after %v, want exactly its lease, 2s", waited)
		}
		item := getItem(t, c, "locks", "k")
		for _, gone := range []string{"recordVersionNumber", "ownerName", "leaseDuration", "isReleased"} {
			if _, ok := item[gone]; ok {
				t.Errorf("the takeover left Java's %s: %v", gone, item)
			}
		}
		if attrS(item, "owner") != "waiter" || mustLease(t, lctx).Token() <= uint64(start.UnixMicro()) {
			t.Errorf("record after the takeover: %v, token %d; want ours with a token seeded from the clock",
				item, mustLease(t, lctx).Token())
		}
		if err := s.Close(ctx); err != nil {
			t.Fatal(err)
		}
		if n := strings.Count(logs.String(), "another format than this Session writes"); n != 1 {
			t.Errorf("%d Warn lines about the shared table, want 1:\n%s", n, logs.String())
		}
	})
}

// A Java heartbeat that lands between the Session's last read and its
// takeover write makes the write fail its condition: the Session keeps
// waiting, a whole lease from the heartbeat, and the record stays Java's.
func TestSynctestForeignTakeoverRefusedByHeartbeat(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx := context.Background()
		c := newTap(dynamutextest.New())
		s := memSession(t, c)
		defer s.Close(ctx)
		putItem(t, c, "locks", foreignItem(t, "java-held", "k"))
		m := s.NewMutex("k")
		if _, err := m.TryLock(ctx); !errors.Is(err, dynamutex.ErrLocked) {
			t.Fatalf("first TryLock: %v", err)
		}
		var takeovers, beats atomic.Int32
		c.setFault(func(op, key string, in any) fault {
			u, ok := in.(*dynamodb.UpdateItemInput)
			if !ok || !strings.Contains(aws.ToString(u.ConditionExpression), ":w0") {
				return fault{}
			}
			if takeovers.Add(1) == 1 {
				javaHeartbeat(t, c, "k", "rvn-beat")
				beats.Add(1)
			}
			return fault{}
		})
		time.Sleep(2 * time.Second)
		var held *dynamutex.HeldError
		if _, err := m.TryLock(ctx); !errors.As(err, &held) || held.Client != "java" {
			t.Fatalf("TryLock a lease later, with a heartbeat before its write: %v, want a HeldError naming java", err)
		}
		if n := takeovers.Load(); n != 1 {
			t.Fatalf("%d takeover writes, want 1", n)
		}
		if got := attrS(getItem(t, c, "locks", "k"), "recordVersionNumber"); got != "rvn-beat" {
			t.Fatalf("record version %q after the refused takeover, want the heartbeat's", got)
		}
		start := time.Now()
		if _, err := m.Lock(ctx); err != nil {
			t.Fatal(err)
		}
		if waited := time.Since(start); waited != 2*time.Second || takeovers.Load() != 2 || beats.Load() != 1 {
			t.Errorf("Lock after the heartbeat took %v and %d takeover writes, want 2s and 2", waited, takeovers.Load())
		}
	})
}

// javaHeartbeat sends the Java client's heartbeat of key's record to rvn.
func javaHeartbeat(t *testing.T, c testDB, key, rvn string) {
	t.Helper()
	_, err := c.UpdateItem(context.Background(), &dynamodb.UpdateItemInput{
		TableName: aws.String("locks"), Key: map[string]types.AttributeValue{"key": avS(key)},
		UpdateExpression:          aws.String("SET #ld = :ld, #rvn = :new"),
		ConditionExpression:       aws.String("attribute_exists(#pk) AND #rvn = :rvn AND #on = :on"),
		ExpressionAttributeNames:  map[string]string{"#pk": "key", "#ld": "leaseDuration", "#rvn": "recordVersionNumber", "#on": "ownerName"},
		ExpressionAttributeValues: map[string]types.AttributeValue{":ld": avS("2000"), ":new": avS(rvn), ":rvn": avS(attrS(getItem(t, c, "locks", key), "recordVersionNumber")), ":on": avS("java-a")},
	})
	if err != nil {
		t.Fatalf("Java heartbeat: %v", err)
	}
}

// A Java record released with keep is free: TryLock takes it at once, the
// second write of the call (the first, the ordinary acquire, refuses any
// record carrying a Java version).
func TestForeignJavaKeepReleasedTakenAtOnce(t *testing.T) {
	c, table, s := setup(t)
	putItem(t, c, table, foreignItem(t, "java-released-keep", "k"))
	ctx := ctxTimeout(t, 10*time.Second)
	before := c.count(opAcquire)
	lctx, err := s.NewMutex("k").TryLock(ctx)
	if err != nil {
		t.Fatalf("TryLock of a keep-released Java record: %v", err)
	}
	if n := c.count(opAcquire) - before; n != 2 {
		t.Errorf("TryLock sent %d acquire writes, want 2", n)
	}
	item := getItem(t, c, table, "k")
	if _, ok := item["isReleased"]; ok || attrS(item, "version") == "" || mustLease(t, lctx).Token() == 0 {
		t.Errorf("record after taking the keep-released Java record: %v", item)
	}
}

// A record that carries our attributes, released, beside a Java version is
// held by both: never free by our released flag, and Java's owner named.
func TestForeignBothVersionsNotFree(t *testing.T) {
	c, table, s := setup(t)
	both := heldRecord("k", "ours", 7, testLease)
	both["released"] = avB(true)
	for k, v := range foreignItem(t, "java-held", "k") {
		both[k] = v
	}
	putItem(t, c, table, both)
	ctx := ctxTimeout(t, 10*time.Second)
	var held *dynamutex.HeldError
	if _, err := s.NewMutex("k").TryLock(ctx); !errors.As(err, &held) || held.Client != "java" || held.Token != 7 {
		t.Fatalf("TryLock of a record released by us but carrying a Java version: %v, want a HeldError", err)
	}
	info, err := s.Inspect(ctx, "k")
	if err != nil || info.Released || info.Free() || info.Client != "java" || info.Lease != 2*time.Second {
		t.Fatalf("Inspect = %+v, %v; want held by java with the longer lease", info, err)
	}
}

// Python's table (lock_key, sort key sort_key "-") works through the key
// options; its record is taken over one lease (2 s) after the first look.
func TestSynctestForeignPythonTakeover(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx := context.Background()
		c := newTap(dynamutextest.New())
		keys := []dynamutex.KeyOption{dynamutex.WithPartitionKey("lock_key"), dynamutex.WithSortKey("sort_key")}
		if err := dynamutex.CreateTable(ctx, c, "pylocks", keys[0], keys[1]); err != nil {
			t.Fatal(err)
		}
		s, err := dynamutex.NewSession(ctx, c, "pylocks", keys[0], keys[1])
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close(ctx)
		putItem(t, c, "pylocks", foreignItem(t, "python-held", "k"))
		m := s.NewMutex("k", dynamutex.WithSortKeyValue("-"))
		start := time.Now()
		var held *dynamutex.HeldError
		if _, err := m.TryLock(ctx); !errors.As(err, &held) || held.Client != "python" || held.Owner != "python-a" {
			t.Fatalf("TryLock of a Python record: %v, want a HeldError naming python", err)
		}
		if _, err := m.Lock(ctx); err != nil {
			t.Fatal(err)
		}
		if waited := time.Since(start); waited != 2*time.Second {
			t.Errorf("took the Python record over after %v, want its lease, 2s", waited)
		}
		out, err := c.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String("pylocks"), ConsistentRead: aws.Bool(true),
			Key: map[string]types.AttributeValue{"lock_key": avS("k"), "sort_key": avS("-")}})
		if err != nil {
			t.Fatal(err)
		}
		for _, gone := range []string{"record_version_number", "owner_name", "lease_duration", "expiry_time"} {
			if _, ok := out.Item[gone]; ok {
				t.Errorf("the takeover left Python's %s: %v", gone, out.Item)
			}
		}
	})
}
