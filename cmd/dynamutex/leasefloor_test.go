package main

import (
	"strings"
	"testing"
)

// TestLeaseUnderTheFloor checks that a lease too short for any request to
// fit in is a usage error naming --lease and the floor, before any request:
// the endpoint is a closed port, so a request would end in a connection
// error (exit 1) instead. It needs no DynamoDB Local.
func TestLeaseUnderTheFloor(t *testing.T) {
	t.Parallel()
	h := &harness{t: t}
	for _, tc := range []struct {
		name string
		env  []string
		args []string
		want string
	}{
		{"flag", nil, []string{"run", "--endpoint", "http://127.0.0.1:1", "--table", "locks", "--key", "k", "--lease", "5ms", "--", "true"},
			"dynamutex: --lease: lease duration must be at least 100ms, got 5ms"},
		{"environment", []string{"DYNAMUTEX_LEASE=99ms"}, []string{"run", "--endpoint", "http://127.0.0.1:1", "--table", "locks", "--key", "k", "--", "true"},
			"lease duration must be at least 100ms, got 99ms"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := h.exec(tc.env, tc.args...)
			if r.code != exitUsage {
				t.Fatalf("exit %d, want %d: %s", r.code, exitUsage, r)
			}
			if !strings.Contains(r.stderr, tc.want) || strings.Contains(r.stderr, "describe table") {
				t.Errorf("stderr does not say %q, or reports a request: %s", tc.want, r)
			}
		})
	}
}
