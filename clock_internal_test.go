package dynamutex

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"testing"
	"time"

	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/smithy-go/middleware"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

type eventLog []Event

func (l *eventLog) Observe(ev Event) { *l = append(*l, ev) }

// The rule: only a skew beyond bound + 1 s + round trip proves the clock
// wrong; one such reply turns clock takeover off with one event, and it
// comes back after replies agree for a whole lease.
func TestClockJudge(t *testing.T) {
	var evs eventLog
	s := &Session{cfg: &config{observer: &evs}, log: slog.New(slog.DiscardHandler)}
	c := &clockCheck{bound: 100 * time.Millisecond, lease: time.Second, s: s}
	t0 := time.Unix(1_800_000_000, 0)
	rtt := 20 * time.Millisecond
	steps := []struct {
		skew      time.Duration
		at        time.Duration
		wantTrust bool
		wantKinds int
	}{
		{skew: 1100 * time.Millisecond, at: 0, wantTrust: true, wantKinds: 0},               // within 0.1+1+0.02 s
		{skew: -1120 * time.Millisecond, at: 0, wantTrust: true, wantKinds: 0},              // exactly at the limit
		{skew: -1121 * time.Millisecond, at: 0, wantTrust: false, wantKinds: 1},             // just past it, behind
		{skew: 3 * time.Second, at: 100 * time.Millisecond, wantTrust: false, wantKinds: 1}, // no second event
		{skew: 0, at: 500 * time.Millisecond, wantTrust: false, wantKinds: 1},               // agreeing, not yet a lease
		{skew: 0, at: 1100 * time.Millisecond, wantTrust: true, wantKinds: 2},               // a lease after the last bad one
	}
	for i, st := range steps {
		c.judge(st.skew, rtt, t0.Add(st.at))
		if _, ok := c.active(); ok != st.wantTrust || len(evs) != st.wantKinds {
			t.Fatalf("step %d (skew %v): trusted %v with %d events, want %v with %d", i, st.skew, ok, len(evs), st.wantTrust, st.wantKinds)
		}
	}
	if evs[0].Kind != EventClockUntrusted || evs[0].Skew != -1121*time.Millisecond || evs[0].Err == nil {
		t.Errorf("first event %+v, want EventClockUntrusted with the skew and an error", evs[0])
	}
	if evs[1].Kind != EventClockTrusted || evs[1].Err != nil {
		t.Errorf("second event %+v, want EventClockTrusted without error", evs[1])
	}
}

// The Date header comes from the raw response on success and from the
// response inside the error on failure; anything else says nothing.
func TestReplyDate(t *testing.T) {
	want := time.Date(2026, 12, 1, 18, 0, 0, 0, time.UTC)
	resp := &smithyhttp.Response{Response: &http.Response{Header: http.Header{"Date": {want.Format(http.TimeFormat)}}}}
	md := withRawResponse(t, resp)
	if d, ok := replyDate(md, nil); !ok || !d.Equal(want) {
		t.Errorf("success: %v, %v; want %v", d, ok, want)
	}
	err := &smithyhttp.ResponseError{Response: resp, Err: errors.New("ConditionalCheckFailedException")}
	if d, ok := replyDate(middleware.Metadata{}, err); !ok || !d.Equal(want) {
		t.Errorf("error with a response: %v, %v; want %v", d, ok, want)
	}
	if _, ok := replyDate(middleware.Metadata{}, errors.New("no HTTP here")); ok {
		t.Error("an error without a response gave a date")
	}
	if _, ok := replyDate(middleware.Metadata{}, nil); ok {
		t.Error("metadata without a response gave a date")
	}
	bad := &smithyhttp.Response{Response: &http.Response{Header: http.Header{"Date": {"yesterday"}}}}
	if _, ok := replyDate(middleware.Metadata{}, &smithyhttp.ResponseError{Response: bad}); ok {
		t.Error("an unparsable Date gave a date")
	}
}

// withRawResponse runs the SDK's own middleware that keeps the raw
// response in the metadata, rather than restate its private key.
func withRawResponse(t *testing.T, resp *smithyhttp.Response) middleware.Metadata {
	_, md, err := awsmiddleware.AddRawResponse{}.HandleDeserialize(context.Background(), middleware.DeserializeInput{},
		middleware.DeserializeHandlerFunc(func(context.Context, middleware.DeserializeInput) (middleware.DeserializeOutput, middleware.Metadata, error) {
			return middleware.DeserializeOutput{RawResponse: resp}, middleware.Metadata{}, nil
		}))
	if err != nil {
		t.Fatal(err)
	}
	return md
}
