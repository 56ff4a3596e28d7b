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
