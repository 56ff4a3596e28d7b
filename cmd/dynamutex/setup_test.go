//go:build dynamodblocal

package main

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
)

// TestFailingDescribeTableIsNotRetried: an endpoint that answers every
// request with a server error gets the AWS SDK's three attempts at
// DescribeTable and no more, from run, status and list alike; the library's
// NewSession alone would retry until the 30 s setup timeout.
func TestFailingDescribeTableIsNotRetried(t *testing.T) {
	t.Parallel()
	var requests atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		w.Header().Set("Content-Type", "application/x-amz-json-1.0")
		w.WriteHeader(http.StatusInternalServerError)
		_, _ = w.Write([]byte(`{"__type":"com.amazonaws.dynamodb.v20120810#InternalServerError","message":"the test says no"}`))
	}))
	defer srv.Close()
	h := &harness{t: t, dir: t.TempDir()}
	ran := h.path("ran")
	for _, args := range [][]string{
		{"run", "--endpoint", srv.URL, "--key", "k", "--", "touch", ran},
		{"status", "--endpoint", srv.URL, "k"},
		{"list", "--endpoint", srv.URL},
	} {
		requests.Store(0)
		r := h.exec(nil, args...)
		if r.code != exitFailure || !strings.Contains(r.stderr, "describe table") ||
			!strings.Contains(r.stderr, "the test says no") || strings.Contains(r.stderr, "and then") {
			t.Errorf("want exit 1 and the server's reason, once: %s", r)
		}
		if n := requests.Load(); n != 3 {
			t.Errorf("%s: %d requests, want the SDK's 3 attempts of one DescribeTable", args[0], n)
		}
	}
}

// TestThrottledDescribeTableIsRetried: throttling is ridden out, as the
// library's NewSession does, so that cron runs starting on the same minute
// do not fail on DynamoDB asking them to slow down; the first other failure
// still ends the setup.
func TestThrottledDescribeTableIsRetried(t *testing.T) {
	t.Parallel()
	var requests atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := requests.Add(1)
		w.Header().Set("Content-Type", "application/x-amz-json-1.0")
		w.WriteHeader(http.StatusBadRequest)
		if n <= 4 {
			_, _ = w.Write([]byte(`{"__type":"com.amazonaws.dynamodb.v20120810#ThrottlingException","message":"slow down"}`))
			return
		}
		_, _ = w.Write([]byte(`{"__type":"com.amazonaws.dynamodb.v20120810#ValidationException","message":"the test says no"}`))
	}))
	defer srv.Close()
	h := &harness{t: t, dir: t.TempDir()}
	r := h.exec(nil, "status", "--endpoint", srv.URL, "k")
	if r.code != exitFailure || !strings.Contains(r.stderr, "the test says no") {
		t.Errorf("want exit 1 with the error that followed the throttling: %s", r)
	}
	// The SDK's 3 attempts are all throttled; the library's retry gets one
	// more throttle and then the refusal, which the SDK does not retry.
	if n := requests.Load(); n != 5 {
		t.Errorf("%d requests, want 5: 4 throttled, then the refusal", n)
	}
}
