//go:build dynamodblocal

package main

import (
	"context"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/dynamutex/dynamutex"
)

// deadLease is the lease of the crashed holders these tests leave behind.
const deadLease = 600 * time.Millisecond

// deadHolder takes key through the library with a lease of deadLease and
// closes its Session without Unlock, which leaves the record as a holder
// that crashed leaves it: held, and renewed no more. It returns the token.
func (h *harness) deadHolder(key string, opts ...dynamutex.Option) uint64 {
	h.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	opts = append([]dynamutex.Option{dynamutex.WithOwner("dead-holder"), dynamutex.WithLeaseDuration(deadLease),
		dynamutex.WithHeartbeatPeriod(deadLease / 4), dynamutex.WithSafeTime(deadLease * 3 / 4)}, opts...)
	sess, err := dynamutex.NewSession(ctx, h.sdk(), h.table, opts...)
	if err != nil {
		h.t.Fatal(err)
	}
	lctx, err := sess.NewMutex(key).Lock(ctx)
	if err != nil {
		h.t.Fatal(err)
	}
	lease, _ := dynamutex.LeaseFrom(lctx)
	if err := sess.Close(ctx); err != nil {
		h.t.Fatal(err)
	}
	return lease.Token()
}

// sleepUntil sleeps until this machine's wall clock has passed t.
func sleepUntil(t time.Time) { time.Sleep(time.Until(t)) }

// parseTime reads a last_write or deadline field, failing the test if it is
// not RFC 3339 with three digits of milliseconds in UTC.
func parseTime(t *testing.T, field, s string) time.Time {
	t.Helper()
	v, err := time.Parse(timeLayout, s)
	if err != nil || !strings.HasSuffix(s, "Z") || len(s) != len("2006-01-02T15:04:05.000Z") {
		t.Fatalf("%s %q is not RFC 3339 with milliseconds in UTC: %v", field, s, err)
	}
	return v
}

// tokenOut reads the DYNAMUTEX_TOKEN a run's command printed.
func tokenOut(t *testing.T, r result) uint64 {
	t.Helper()
	n, err := strconv.ParseUint(strings.TrimSpace(r.stdout), 10, 64)
	if err != nil {
		t.Fatalf("the command did not print its token: %s", r)
	}
	return n
}

// printToken is a command that prints the token it was given.
var printToken = []string{"--", "sh", "-c", `echo "$DYNAMUTEX_TOKEN"`}

// TestNoWaitTakesDeadHolderByClock: a holder that declared a clock bound
// and crashed is taken over by a --no-wait run with a bound at its first
// attempt, once the deadline has passed, without watching; status reports
// it free only when it is read with a bound.
func TestNoWaitTakesDeadHolderByClock(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	const bound = 50 * time.Millisecond
	dead := h.deadHolder("cron", dynamutex.WithClockBound(bound))

	s := h.status("cron")
	if s.State != stateHeld || s.Deadline == "" || s.LastWrite == "" {
		t.Fatalf("status of the dead holder's record: %+v", s)
	}
	// The takeover condition: this clock, less this bound, past the deadline.
	sleepUntil(parseTime(t, "deadline", s.Deadline).Add(bound + 10*time.Millisecond))
	if s := h.status("cron"); s.Free {
		t.Errorf("status without --clock-bound calls a record free by its deadline: %+v", s)
	}
	r := h.exec([]string{"DYNAMUTEX_CLOCK_BOUND=" + bound.String()}, h.args("status", "--json", "cron")...)
	if r.code != 0 || !strings.Contains(r.stdout, `"free": true`) {
		t.Errorf("status with DYNAMUTEX_CLOCK_BOUND of a record past its deadline is not free: %s", r)
	}
	r = h.exec(nil, h.args("list", "--json", "--clock-bound", bound.String())...)
	if r.code != 0 || !strings.Contains(r.stdout, `"free": true`) {
		t.Errorf("list --clock-bound of a record past its deadline is not free: %s", r)
	}
	r = h.exec(nil, h.args("status", "--clock-bound", bound.String(), "cron")...)
	if !strings.Contains(r.stdout, "past its deadline") {
		t.Errorf("status --clock-bound does not say the record is past its deadline: %s", r)
	}

	r = h.exec(nil, h.args("run", append([]string{"--key", "cron", "--no-wait", "--clock-bound", bound.String(), "-v"},
		printToken...)...)...)
	if r.code != 0 {
		t.Fatalf("--no-wait --clock-bound on a dead holder past its deadline: %s", r)
	}
	if got := tokenOut(t, r); got <= dead {
		t.Errorf("token %d after taking over token %d", got, dead)
	}
	if !strings.Contains(r.stderr, "trying lock \"cron\" once (--no-wait, clock bound 50ms)") ||
		strings.Contains(r.stderr, "watching") || strings.Contains(r.stderr, "last wrote") {
		t.Errorf("the run did not take the lock at its first attempt: %s", r)
	}
}

// acquiredAfter finds the wait and the requests in the verbose report of
// an acquisition.
var acquiredAfter = regexp.MustCompile(`acquired lock "[^"]*" \(token \d+\) after (\S+) and (\d+) requests?\n`)

// TestNoWaitWatchesDeadHolder: a holder without a bound that crashed is
// taken over by a --no-wait run that finds it silent for longer than its
// lease, after watching it for one lease, with or without a bound of its
// own (a record without a deadline gives the bound nothing to go by).
func TestNoWaitWatchesDeadHolder(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	for _, extra := range [][]string{nil, {"--clock-bound", "50ms"}} {
		key := "cron" + strings.Join(extra, "")
		dead := h.deadHolder(key)
		s := h.status(key)
		if s.State != stateHeld || s.LastWrite == "" || s.Deadline != "" {
			t.Fatalf("status of the dead holder's record: %+v", s)
		}
		sleepUntil(parseTime(t, "last_write", s.LastWrite).Add(deadLease + 10*time.Millisecond))

		args := append(append([]string{"--key", key, "--no-wait", "-v"}, extra...), printToken...)
		r := h.exec(nil, h.args("run", args...)...)
		if r.code != 0 {
			t.Fatalf("--no-wait %q on a dead holder: %s", extra, r)
		}
		if got := tokenOut(t, r); got <= dead {
			t.Errorf("token %d after taking over token %d", got, dead)
		}
		for _, want := range []string{`holder "dead-holder" last wrote `, "longer than its lease: watching for 600ms",
			"after watching it for a lease"} {
			if !strings.Contains(r.stderr, want) {
				t.Errorf("--no-wait %q: stderr does not say %q: %s", extra, want, r)
			}
		}
		// The report of the acquisition covers the watch and both TryLocks,
		// not the second TryLock alone.
		m := acquiredAfter.FindStringSubmatch(r.stderr)
		if m == nil {
			t.Fatalf("--no-wait %q: no report of the acquisition: %s", extra, r)
		}
		if d, err := time.ParseDuration(m[1]); err != nil || d < deadLease || m[2] != "2" {
			t.Errorf("--no-wait %q: reported a wait of %s and %s requests, want the lease of the watch and 2: %s", extra, m[1], m[2], r)
		}
	}
}

// TestNoWaitLiveHolderIsBusy: a holder that renews is busy for --no-wait
// at once, with and without bounds on either side, and is not watched.
func TestNoWaitLiveHolderIsBusy(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	plain := h.hold("plain", "--lease", "2s")
	bounded := h.hold("bounded", "--lease", "2s", "--clock-bound", "50ms")
	ran := h.path("ran")
	for _, tc := range []struct {
		key   string
		extra []string
	}{
		{"plain", nil}, {"plain", []string{"--clock-bound", "50ms"}},
		{"bounded", nil}, {"bounded", []string{"--clock-bound", "50ms"}},
	} {
		args := append(append([]string{"--key", tc.key, "--no-wait", "-v"}, tc.extra...), "--", "touch", ran)
		r := h.exec(nil, h.args("run", args...)...)
		if r.code != exitBusy {
			t.Errorf("--no-wait %q on a live holder of %q: exit %d, want %d: %s", tc.extra, tc.key, r.code, exitBusy, r)
		}
		if !strings.Contains(r.stderr, "within its lease of 2s: busy") || strings.Contains(r.stderr, "watching") {
			t.Errorf("--no-wait %q on a live holder of %q: not busy at once: %s", tc.extra, tc.key, r)
		}
		if !strings.Contains(r.stderr, "lease 2s, last write ") {
			t.Errorf("the busy message does not give the last write: %s", r)
		}
	}
	if _, err := os.Stat(ran); err == nil {
		t.Error("a command ran without the lock")
	}
	plain.release()
	bounded.release()
}

// plant writes a held record of key in the library's format: sent, when
// not zero, is the writer's clock at its last write, stamped on version.
func (h *harness) plant(key, version string, token uint64, sent time.Time) {
	h.t.Helper()
	item := map[string]types.AttributeValue{
		"key":      &types.AttributeValueMemberS{Value: key},
		"owner":    &types.AttributeValueMemberS{Value: "zombie"},
		"version":  &types.AttributeValueMemberS{Value: version},
		"token":    &types.AttributeValueMemberN{Value: strconv.FormatUint(token, 10)},
		"lease_ms": &types.AttributeValueMemberN{Value: "1500"},
		"released": &types.AttributeValueMemberBOOL{Value: false},
	}
	if !sent.IsZero() {
		item["sent_ms"] = &types.AttributeValueMemberN{Value: strconv.FormatInt(sent.UnixMilli(), 10)}
		item["stamped_version"] = &types.AttributeValueMemberS{Value: version}
	}
	h.put(item)
}

// TestNoWaitWatchEndsWhenRecordChanges: a record that looks dead (its last
// write an hour old) but changes while the run watches it, by a renewal of
// its holder or a takeover by another, is busy: exit 75, command not run.
// A record without a write time, as an earlier release wrote it, is busy
// at once.
func TestNoWaitWatchEndsWhenRecordChanges(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	ran := h.path("ran")
	old := time.Now().Add(-time.Hour)
	for _, tc := range []struct {
		name  string
		token uint64 // of the record written during the watch
		want  string
	}{
		{"renewed", 7, `holder "zombie" wrote to the record during the watch: it is alive`},
		{"taken", 8, `lock "taken" was taken by "zombie" (token 8) during the watch`},
	} {
		h.plant(tc.name, "v1", 7, old)
		p := h.start(nil, h.args("run", "--key", tc.name, "--no-wait", "-v", "--", "touch", ran)...)
		p.waitStderr("longer than its lease: watching for 1.5s")
		h.plant(tc.name, "v2", tc.token, time.Now())
		r := p.wait()
		if r.code != exitBusy || !strings.Contains(r.stderr, tc.want) {
			t.Errorf("%s during the watch: want exit %d and %q: %s", tc.name, exitBusy, tc.want, r)
		}
	}

	h.plant("unstamped", "v1", 7, time.Time{})
	r := h.exec(nil, h.args("run", "--key", "unstamped", "--no-wait", "-v", "--", "touch", ran)...)
	if r.code != exitBusy || !strings.Contains(r.stderr, "left no write time") || strings.Contains(r.stderr, "watching") {
		t.Errorf("--no-wait on a record without a write time: want exit %d at once: %s", exitBusy, r)
	}
	if _, err := os.Stat(ran); err == nil {
		t.Error("a command ran without the lock")
	}
}
