//go:build dynamodblocal

package chaos

import (
	"bytes"
	"context"
	"errors"
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
	ep := localdb.Endpoint(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	plainBase := newBase()
	defer plainBase.CloseIdleConnections()
	plain := client(ep, plainBase, time.Second)
	table := "chaos_transport_" + time.Now().Format("150405.000000")
	if err := dynamutex.CreateTable(ctx, plain, table); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	base := newBase()
	defer base.CloseIdleConnections()
	tr := NewTransport(base, table, Faults{Seed: 1}, NewLog(&buf, 1))
	c := localdb.Client(ep, tr, localdb.NoRetries)

	// write makes the library's acquire write, built by package wire: it
	// lands on a missing or released item only.
	write := func(key, version string, timeout time.Duration) error {
		wctx, cancel := context.WithTimeout(ctx, timeout)
		defer cancel()
		now := time.Now()
		_, err := c.UpdateItem(wctx, wire.Acquire(wire.AcquireArgs{
			Item: wire.Item{Table: table, PartitionKey: "key", Key: key}, Owner: "transport-test", Version: version,
			Lease: time.Second, Seed: now, Expires: now.Add(time.Hour), Stamp: wire.Stamp{Sent: uint64(now.UnixMilli())},
		}))
		return err
	}
	stored := func(key string) bool {
		out, err := plain.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(table), ConsistentRead: aws.Bool(true),
			Key: map[string]types.AttributeValue{"key": &types.AttributeValueMemberS{Value: key}}})
		if err != nil {
			t.Fatal(err)
		}
		return out.Item != nil
	}
	kinds := func() []string {
		evs, err := ReadEvents(bytes.NewReader(buf.Bytes()))
		if err != nil {
			t.Fatal(err)
		}
		buf.Reset()
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

	cases := []struct {
		fault   string
		code    string // the API error code the SDK reports, or a text in the error
		applied bool
		events  string
	}{
		{FaultThrottling, "ThrottlingException", false, "fault:throttling"},
		{FaultProvisioned, "ProvisionedThroughputExceededException", false, "fault:provisioned-throughput"},
		{Fault500, "InternalServerError", false, "fault:http-500"},
		{Fault503, "ServiceUnavailable", false, "fault:http-503"},
		{FaultTimeout, "deadline exceeded", false, "fault:timeout"},
		{FaultReset, "connection reset", false, "fault:reset"},
		{FaultLostReply, "connection reset", true, "fault:lost-reply sent landed:dropped:token"},
		{FaultLatency, "", true, "fault:latency sent landed:token"},
	}
	for _, tc := range cases {
		t.Run(tc.fault, func(t *testing.T) {
			tr.SetFaults(Faults{Rate: 1, Kinds: []string{tc.fault}, Spike: 20 * time.Millisecond})
			err := write(tc.fault, "v-"+tc.fault, 300*time.Millisecond)
			tr.SetFaults(Faults{})
			var api smithy.APIError
			switch {
			case tc.code == "" && err != nil:
				t.Fatalf("write failed: %v", err)
			case tc.code != "" && err == nil:
				t.Fatalf("write succeeded, want %s", tc.code)
			case tc.code != "" && !(errors.As(err, &api) && api.ErrorCode() == tc.code) && !strings.Contains(err.Error(), tc.code):
				t.Fatalf("error %v, want %s", err, tc.code)
			}
			if got := stored(tc.fault); got != tc.applied {
				t.Fatalf("item stored = %v, want %v", got, tc.applied)
			}
			if got := strings.Join(kinds(), " "); got != tc.events {
				t.Fatalf("events %q, want %q", got, tc.events)
			}
		})
	}

	// A waiter's read of the lock table meets the same faults, logged as
	// such, and nothing else: a read changes nothing the checker follows.
	read := func(key string) error {
		rctx, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
		defer cancel()
		_, err := c.GetItem(rctx, &dynamodb.GetItemInput{TableName: aws.String(table), ConsistentRead: aws.Bool(true),
			Key: map[string]types.AttributeValue{"key": &types.AttributeValueMemberS{Value: key}}})
		return err
	}
	for _, tc := range cases {
		tr.SetFaults(Faults{Rate: 1, Kinds: []string{tc.fault}, Spike: 20 * time.Millisecond})
		err := read(tc.fault)
		tr.SetFaults(Faults{})
		if (err == nil) != (tc.fault == FaultLatency) {
			t.Errorf("read with fault %s: %v", tc.fault, err)
		}
		evs, rerr := ReadEvents(bytes.NewReader(buf.Bytes()))
		buf.Reset()
		if rerr != nil || len(evs) != 1 || evs[0].Kind != KindFault || evs[0].Op != OpRead || evs[0].Key != tc.fault {
			t.Errorf("read with fault %s: events %+v (%v), want one read fault for the key", tc.fault, evs, rerr)
		}
	}

	// A retry of a write that landed fails its condition and finds its own
	// version: the transport reports it found, with the token it got.
	if err := write("again", "v-again", time.Second); err != nil {
		t.Fatal(err)
	}
	var ccf *types.ConditionalCheckFailedException
	if err := write("again", "v-again", time.Second); !errors.As(err, &ccf) {
		t.Fatalf("retry: %v, want a condition failure", err)
	}
	if err := write("again", "v-other", time.Second); !errors.As(err, &ccf) {
		t.Fatalf("other version: %v, want a condition failure", err)
	}
	if got, want := strings.Join(kinds(), " "), "sent landed:token sent found:token sent refused"; got != want {
		t.Fatalf("events %q, want %q", got, want)
	}
}
