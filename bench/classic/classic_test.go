package classic_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/dynamutex/dynamutex/bench/classic"
)

// These tests check that the baseline behaves as the classic clients do, so
// that the benchmarks compare with the real protocol and not a strawman.

const (
	testLease   = 400 * time.Millisecond
	testRefresh = 50 * time.Millisecond
)

// A crashed holder's item is taken over once its rvn has stayed unchanged for
// the lease, counted from the waiter's first read, with one conditional
// PutItem and a read per refresh period meanwhile.
func TestTakeoverAfterLease(t *testing.T) {
	c, tr := client()
	table := newClassicTable(t, c)
	ctx := ctxFor(t, 10*time.Second)
	if _, err := c.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(table), Item: map[string]types.AttributeValue{
		"key": avS("k"), "owner_name": avS("crashed"), "lease_duration": avN("400"),
		"record_version_number": avS("dead"), "expiry_time": avN("0"),
	}}); err != nil {
		t.Fatal(err)
	}
	cl := classic.New(c, table, classic.Options{RefreshPeriod: testRefresh, HeartbeatPeriod: time.Hour})
	before := tr.snapshot()
	start := time.Now()
	l, err := cl.Acquire(ctx, "k")
	if err != nil {
		t.Fatal(err)
	}
	took := time.Since(start)
	reqs := tr.since(before)
	if err := l.Release(ctx); err != nil {
		t.Fatal(err)
	}
	if took < testLease || took > testLease+4*testRefresh {
		t.Errorf("takeover after %v, want just over the %v lease", took, testLease)
	}
	if reqs["PutItem"] != 1 || reqs["GetItem"] < int(testLease/testRefresh) || len(reqs) != 2 {
		t.Errorf("requests %v, want one PutItem and a GetItem per refresh period", reqs)
	}
}

// A live holder renews its rvn every heartbeat, so a waiter never takes over;
// the waiter gets the lock at its first read after the release.
func TestHeartbeatKeepsLock(t *testing.T) {
	c, tr := client()
	table := newClassicTable(t, c)
	ctx := ctxFor(t, 10*time.Second)
	holder := classic.New(c, table, classic.Options{LeaseDuration: testLease, HeartbeatPeriod: testLease / 4})
	waiter := classic.New(c, table, classic.Options{LeaseDuration: testLease, RefreshPeriod: testRefresh})
	l, err := holder.Acquire(ctx, "k")
	if err != nil {
		t.Fatal(err)
	}
	before := tr.snapshot()
	wctx, cancel := context.WithTimeout(ctx, 3*testLease)
	_, err = waiter.Acquire(wctx, "k")
	cancel()
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("waiter: %v, want to wait past three leases", err)
	}
	if n := tr.since(before)["UpdateItem"]; n < 8 {
		t.Errorf("%d heartbeats in three leases, want about 12", n)
	}
	go func() {
		time.Sleep(testRefresh)
		_ = l.Release(ctx)
	}()
	start := time.Now()
	l2, err := waiter.Acquire(ctx, "k")
	if err != nil {
		t.Fatal(err)
	}
	if took := time.Since(start); took > testRefresh+3*testRefresh {
		t.Errorf("acquired %v after the release, want within about one refresh period", took)
	}
	if err := l2.Release(ctx); err != nil {
		t.Fatal(err)
	}
}

// A holder whose item was replaced learns it at its next heartbeat or at
// release, and does not delete the new holder's item.
func TestReleaseAfterTheft(t *testing.T) {
	c, _ := client()
	table := newClassicTable(t, c)
	ctx := ctxFor(t, 10*time.Second)
	cl := classic.New(c, table, classic.Options{HeartbeatPeriod: 20 * time.Millisecond})
	l, err := cl.Acquire(ctx, "k")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(table), Item: map[string]types.AttributeValue{
		"key": avS("k"), "owner_name": avS("thief"), "lease_duration": avN("20000"),
		"record_version_number": avS("stolen"), "expiry_time": avN("0"),
	}}); err != nil {
		t.Fatal(err)
	}
	time.Sleep(60 * time.Millisecond)
	if err := l.Release(ctx); !errors.Is(err, classic.ErrLockStolen) {
		t.Fatalf("release: %v, want ErrLockStolen", err)
	}
	out, err := c.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(table), Key: map[string]types.AttributeValue{"key": avS("k")}, ConsistentRead: aws.Bool(true)})
	if err != nil || out.Item == nil {
		t.Fatalf("the thief's item is gone: %v", err)
	}
}
