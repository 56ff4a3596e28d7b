package main

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/dynamutex/dynamutex"
)

// The default grace is half the margin between the danger sign and the
// earliest takeover, and a longer --grace than three quarters of it is a
// usage error: CMD must be dead before another process may take over.
func TestGraceFitsTheMargin(t *testing.T) {
	for _, tc := range []struct {
		name string
		env  []string // KEY=VALUE pairs set for the test
		args []string
		want time.Duration // the grace parseRun settles on, when accepted
		err  string        // a part of the usage error, when refused
	}{
		{name: "default lease", want: 2500 * time.Millisecond},
		{name: "short lease", args: []string{"--lease", "4s"}, want: 500 * time.Millisecond},
		{name: "longest accepted", args: []string{"--grace", "3750ms"}, want: 3750 * time.Millisecond},
		{name: "zero kills at once", args: []string{"--grace", "0"}, want: 0},
		{name: "old default refused", args: []string{"--grace", "10s"},
			err: "--grace 10s is too long for a lease of 20s: the lock may be taken over 5s after it falls into danger"},
		{name: "just over refused", args: []string{"--lease", "4s", "--grace", "751ms"},
			err: "the longest grace for this lease is 750ms (default 500ms)"},
		{name: "from the environment", env: []string{"DYNAMUTEX_GRACE=4s"},
			err: "DYNAMUTEX_GRACE 4s is too long"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, kv := range tc.env {
				k, v, _ := strings.Cut(kv, "=")
				t.Setenv(k, v)
			}
			args := append(append([]string{"--key", "k"}, tc.args...), "--", "true")
			o, err := parseRun(newCommon(), args)
			var ee *exitError
			switch {
			case tc.err != "" && (!errors.As(err, &ee) || ee.code != exitUsage || !strings.Contains(ee.msg, tc.err)):
				t.Fatalf("got %v, want a usage error containing %q", err, tc.err)
			case tc.err == "" && err != nil:
				t.Fatalf("refused: %v", err)
			case tc.err == "" && o.grace != tc.want:
				t.Fatalf("grace %v, want %v", o.grace, tc.want)
			}
		})
	}
}

// A danger sign that comes late (the process was paused, or the machine is
// loaded) leaves less than the margin: SIGKILL then comes early enough to
// land a quarter margin before the earliest takeover, or at once.
func TestKillDelayShrinksToTheDeadline(t *testing.T) {
	now := time.Now()
	danger := func(sinceConfirmed time.Duration) error {
		return &dynamutex.DangerError{Key: "k", Safe: 15 * time.Second, Lease: 20 * time.Second,
			Confirmed: now.Add(-sinceConfirmed)}
	}
	const grace = 2500 * time.Millisecond
	for _, tc := range []struct {
		name  string
		cause error
		want  time.Duration
	}{
		{"on time", danger(15 * time.Second), grace},
		{"late", danger(17 * time.Second), 1750 * time.Millisecond}, // 3 s left, less a 1.25 s room
		{"at the room", danger(18750 * time.Millisecond), 0},
		{"after a pause", danger(time.Minute), 0},
		{"lost", &dynamutex.LostError{Key: "k", Reason: "taken over"}, grace},
	} {
		if got := killDelay(grace, tc.cause, now); got != tc.want {
			t.Errorf("%s: kill delay %v, want %v", tc.name, got, tc.want)
		}
	}
}

// The danger message says how long is left, and after a pause longer than
// the lease that another process may already hold the lock, never "soon".
func TestDescribeDanger(t *testing.T) {
	now := time.Now()
	d := &dynamutex.DangerError{Key: "k", Safe: 3 * time.Second, Lease: 4 * time.Second, Confirmed: now.Add(-3 * time.Second)}
	if got, want := describeDanger("k", d, now), "another process may take it over in 1s"; !strings.HasSuffix(got, want) {
		t.Errorf("on time: %q, want it to end with %q", got, want)
	}
	d.Confirmed = now.Add(-30 * time.Second)
	got := describeDanger("k", d, now)
	if want := "no renewal confirmed for 30s, longer than its lease of 4s (was this process paused?); " +
		"another process may already hold it"; !strings.Contains(got, want) {
		t.Errorf("after a pause: %q, want %q", got, want)
	}
}
