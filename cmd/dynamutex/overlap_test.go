//go:build unix && dynamodblocal

package main

import (
	"os"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestNoOverlapWhenCutOff is the guarantee of run end to end: a holder cut
// off from DynamoDB runs a command that ignores SIGTERM; a second run
// waits for the lock and takes it over. The first command must be dead
// before the second one starts. It runs at the default flags (20 s lease,
// default grace) and at a short lease, where the margin between the danger
// sign and the earliest takeover is only a second.
func TestNoOverlapWhenCutOff(t *testing.T) {
	for _, tc := range []struct {
		name string
		flag []string
	}{
		{"default flags", nil},
		{"short lease", []string{"--lease", "4s"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			checkNoOverlap(t, tc.flag)
		})
	}
}

// stubbornScript ignores SIGTERM, in its children too (an ignored signal
// stays ignored across exec), and appends the time in nanoseconds to
// $BEATS every 20 ms until something kills it.
const stubbornScript = `trap '' TERM; touch "$READY"; while :; do date +%s%N >> "$BEATS"; sleep 0.02; done`

// checkNoOverlap runs the holder and the taker with the extra run flags
// and compares the holder's last beat with the taker's start.
func checkNoOverlap(t *testing.T, flags []string) {
	h := newHarness(t)
	proxy := newCutProxy(t, h.endpoint)
	ready, beats, start := h.path("ready"), h.path("beats"), h.path("start")
	holderArgs := append([]string{"run", "--endpoint", proxy.url(), "--table", h.table, "--key", "overlap"}, flags...)
	holder := h.start([]string{"READY=" + ready, "BEATS=" + beats},
		append(holderArgs, "--", "sh", "-c", stubbornScript)...)
	waitFile(t, ready)
	takerArgs := append(h.args("run", "--key", "overlap"), flags...)
	taker := h.start([]string{"START=" + start},
		append(takerArgs, "--", "sh", "-c", `date +%s%N > "$START"`)...)
	time.Sleep(200 * time.Millisecond) // the taker has read the record and is watching it
	proxy.cut()

	held := holder.wait()
	if held.code != exitLost || !strings.Contains(held.stderr, "of SIGTERM; sending SIGKILL to its process group") {
		t.Fatalf("holder: want exit %d after SIGKILL: %s", exitLost, held)
	}
	if took := taker.wait(); took.code != 0 {
		t.Fatalf("taker: %s", took)
	}
	last, first := lastBeat(t, beats), nanos(t, waitFile(t, start))
	if !last.Before(first) {
		t.Fatalf("the old command still ran %v after the new one started:\nholder: %s", last.Sub(first), held)
	}
	t.Logf("the old command died %v before the new one started", first.Sub(last))
}

// lastBeat returns the last time the stubborn command wrote.
func lastBeat(t *testing.T, path string) time.Time {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Fields(string(b))
	if len(lines) == 0 {
		t.Fatal("the holder's command never ran")
	}
	return nanos(t, lines[len(lines)-1])
}

// nanos parses the output of date +%s%N.
func nanos(t *testing.T, s string) time.Time {
	t.Helper()
	n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
	if err != nil {
		t.Fatalf("not a time in nanoseconds: %q", s)
	}
	return time.Unix(0, n)
}
