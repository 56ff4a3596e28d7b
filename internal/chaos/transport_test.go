//go:build dynamodblocal

package chaos

import (
	"bytes"
	"context"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go"

	"github.com/dynamutex/dynamutex"
	"github.com/dynamutex/dynamutex/internal/localdb"
	"github.com/dynamutex/dynamutex/internal/wire"
)

// TestTransportFaults proves against DynamoDB Local that each injected fault
// does what its name says: whether the write reached the table, what the
// SDK reports, and what the transport logs for the checker.
func TestTransportFaults(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	r := newFaultRig(ctx, t)
	for _, tc := range transportCases {
		t.Run(tc.fault, func(t *testing.T) { r.checkWriteFault(t, tc) })
	}
	r.checkReadFaults(t)
	r.checkRetryFound(t)
	r.checkBatchUnprocessed(t)
}

// transportCase is an injected fault and what a write meeting it must do.
type transportCase struct {
	fault   string
	code    string // the API error code the SDK reports, or a text in the error
	applied bool
	events  string
}

var transportCases = []transportCase{
	{FaultThrottling, "ThrottlingException", false, "fault:throttling"},
	{FaultProvisioned, "ProvisionedThroughputExceededException", false, "fault:provisioned-throughput"},
	{Fault500, "InternalServerError", false, "fault:http-500"},
	{Fault503, "ServiceUnavailable", false, "fault:http-503"},
	{FaultTimeout, "deadline exceeded", false, "fault:timeout"},
	{FaultReset, "connection reset", false, "fault:reset"},
	{FaultLostReply, "connection reset", true, "fault:lost-reply sent landed:dropped:token"},
	{FaultLatency, "", true, "fault:latency sent landed:token"},
}

// faultRig is a table on DynamoDB Local with two clients: c goes through
// the fault-injecting transport tr, which logs to buf, and plain does not.
type faultRig struct {
	ctx   context.Context
	table string
	plain *dynamodb.Client
	c     *dynamodb.Client
	tr    *Transport
	buf   *bytes.Buffer
}

func newFaultRig(ctx context.Context, t *testing.T) *faultRig {
	ep := localdb.Endpoint(t)
	plainBase := newBase()
	t.Cleanup(plainBase.CloseIdleConnections)
	plain := client(ep, plainBase, time.Second)
	table := "chaos_transport_" + time.Now().Format("150405.000000")
	if err := dynamutex.CreateTable(ctx, plain, table); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	base := newBase()
	t.Cleanup(base.CloseIdleConnections)
	tr := NewTransport(base, table, Faults{Seed: 1}, NewLog(&buf, 1))
	c := localdb.Client(ep, tr, localdb.NoRetries)
	return &faultRig{ctx: ctx, table: table, plain: plain, c: c, tr: tr, buf: &buf}
}

// write makes the library's acquire write, built by package wire: it
// lands on a missing or released item only.
func (r *faultRig) write(key, version string, timeout time.Duration) error {
	wctx, cancel := context.WithTimeout(r.ctx, timeout)
	defer cancel()
	now := time.Now()
	_, err := r.c.UpdateItem(wctx, wire.Acquire(wire.AcquireArgs{
		Item: wire.Item{Table: r.table, PartitionKey: "key", Key: key}, Owner: "transport-test", Version: version,
		Lease: time.Second, Seed: now, Expires: now.Add(time.Hour), Stamp: wire.Stamp{Sent: uint64(now.UnixMilli())},
	}))
	return err
}

func (r *faultRig) stored(t *testing.T, key string) bool {
	out, err := r.plain.GetItem(r.ctx, &dynamodb.GetItemInput{TableName: aws.String(r.table), ConsistentRead: aws.Bool(true),
		Key: map[string]types.AttributeValue{"key": &types.AttributeValueMemberS{Value: key}}})
	if err != nil {
		t.Fatal(err)
	}
	return out.Item != nil
}

func (r *faultRig) kinds(t *testing.T) []string {
	evs, err := ReadEvents(bytes.NewReader(r.buf.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	r.buf.Reset()
	var ks []string
	for _, e := range evs {
		k := e.Kind
		if e.Kind == KindFault {
			k += ":" + e.Fault
		}
		if e.Dropped {
			k += ":dropped"
		}
		if e.Token != 0 {
			k += ":token"
		}
		ks = append(ks, k)
	}
	return ks
}

func (r *faultRig) checkWriteFault(t *testing.T, tc transportCase) {
	r.tr.SetFaults(Faults{Rate: 1, Kinds: []string{tc.fault}, Spike: 20 * time.Millisecond})
	err := r.write(tc.fault, "v-"+tc.fault, 300*time.Millisecond)
	r.tr.SetFaults(Faults{})
	var api smithy.APIError
	switch {
	case tc.code == "" && err != nil:
		t.Fatalf("write failed: %v", err)
	case tc.code != "" && err == nil:
		t.Fatalf("write succeeded, want %s", tc.code)
	case tc.code != "" && !(errors.As(err, &api) && api.ErrorCode() == tc.code) && !strings.Contains(err.Error(), tc.code):
		t.Fatalf("error %v, want %s", err, tc.code)
	}
	if got := r.stored(t, tc.fault); got != tc.applied {
		t.Fatalf("item stored = %v, want %v", got, tc.applied)
	}
	if got := strings.Join(r.kinds(t), " "); got != tc.events {
		t.Fatalf("events %q, want %q", got, tc.events)
	}
}

// checkReadFaults: a waiter's read of the lock table meets the same faults,
// logged as such, and nothing else: a read changes nothing the checker
// follows.
func (r *faultRig) checkReadFaults(t *testing.T) {
	read := func(key string) error {
		rctx, cancel := context.WithTimeout(r.ctx, 300*time.Millisecond)
		defer cancel()
		_, err := r.c.GetItem(rctx, &dynamodb.GetItemInput{TableName: aws.String(r.table), ConsistentRead: aws.Bool(true),
			Key: map[string]types.AttributeValue{"key": &types.AttributeValueMemberS{Value: key}}})
		return err
	}
	for _, tc := range transportCases {
		r.tr.SetFaults(Faults{Rate: 1, Kinds: []string{tc.fault}, Spike: 20 * time.Millisecond})
		err := read(tc.fault)
		r.tr.SetFaults(Faults{})
		if (err == nil) != (tc.fault == FaultLatency) {
			t.Errorf("read with fault %s: %v", tc.fault, err)
		}
		evs, rerr := ReadEvents(bytes.NewReader(r.buf.Bytes()))
		r.buf.Reset()
		if rerr != nil || len(evs) != 1 || evs[0].Kind != KindFault || evs[0].Op != OpRead || evs[0].Key != tc.fault {
			t.Errorf("read with fault %s: events %+v (%v), want one read fault for the key", tc.fault, evs, rerr)
		}
	}
}

// checkRetryFound: a retry of a write that landed fails its condition and
// finds its own version: the transport reports it found, with the token it
// got.
func (r *faultRig) checkRetryFound(t *testing.T) {
	if err := r.write("again", "v-again", time.Second); err != nil {
		t.Fatal(err)
	}
	var ccf *types.ConditionalCheckFailedException
	if err := r.write("again", "v-again", time.Second); !errors.As(err, &ccf) {
		t.Fatalf("retry: %v, want a condition failure", err)
	}
	if err := r.write("again", "v-other", time.Second); !errors.As(err, &ccf) {
		t.Fatalf("other version: %v, want a condition failure", err)
	}
	if got, want := strings.Join(r.kinds(t), " "), "sent landed:token sent found:token sent refused"; got != want {
		t.Fatalf("events %q, want %q", got, want)
	}
}

// checkBatchUnprocessed: DynamoDB Local answers the part of a batch read
// that the unprocessed fault sends (its body rewritten under the SDK's
// signature), and the library's client sees those items plus the rest of
// the keys unprocessed; reading those again gets them all.
func (r *faultRig) checkBatchUnprocessed(t *testing.T) {
	var keys []map[string]types.AttributeValue
	for i := range 4 {
		key := "batch-" + strconv.Itoa(i)
		if err := r.write(key, "v-"+key, time.Second); err != nil {
			t.Fatal(err)
		}
		keys = append(keys, map[string]types.AttributeValue{"key": &types.AttributeValueMemberS{Value: key}})
	}
	r.buf.Reset()
	r.tr.SetFaults(Faults{Rate: 1, Kinds: []string{FaultUnprocessed}})
	defer r.tr.SetFaults(Faults{})
	in := &dynamodb.BatchGetItemInput{RequestItems: map[string]types.KeysAndAttributes{
		r.table: {Keys: keys, ConsistentRead: aws.Bool(true)}}}
	out, err := r.c.BatchGetItem(r.ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	got, left := len(out.Responses[r.table]), len(out.UnprocessedKeys[r.table].Keys)
	if got == 0 || left == 0 || got+left != len(keys) {
		t.Fatalf("%d items and %d unprocessed of %d keys", got, left, len(keys))
	}
	r.tr.SetFaults(Faults{})
	again, err := r.c.BatchGetItem(r.ctx, &dynamodb.BatchGetItemInput{RequestItems: out.UnprocessedKeys})
	if err != nil || len(again.Responses[r.table]) != left || len(again.UnprocessedKeys) != 0 {
		t.Fatalf("read again: %d items, %d tables unprocessed, %v", len(again.Responses[r.table]), len(again.UnprocessedKeys), err)
	}
	if ks := r.kinds(t); len(ks) != 1 || ks[0] != "fault:unprocessed" {
		t.Fatalf("events %q, want one unprocessed fault", ks)
	}
}
