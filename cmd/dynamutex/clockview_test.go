//go:build dynamodblocal

package main

import (
	"encoding/json"
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestStatusAndListShowClockStamps checks last_write and deadline in status
// and list, JSON and human: a holder with a bound has both, 2s + 50ms apart
// (lease plus bound, the deadline rounded up to the millisecond); a released
// record only its last write; a record of an earlier release neither, and
// the JSON leaves them out.
func TestStatusAndListShowClockStamps(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	ho := h.hold("bounded", "--lease", "2s", "--clock-bound", "50ms")
	if r := h.exec(nil, h.args("run", "--key", "released", "--", "true")...); r.code != 0 {
		t.Fatalf("run: %s", r)
	}
	h.plant("unstamped", "v1", 7, time.Time{})

	s := h.status("bounded")
	lw, dl := parseTime(t, "last_write", s.LastWrite), parseTime(t, "deadline", s.Deadline)
	if d := dl.Sub(lw); d != 2050*time.Millisecond && d != 2051*time.Millisecond {
		t.Errorf("deadline %s is %v after the last write %s, want the 2s lease plus the 50ms bound", s.Deadline, d, s.LastWrite)
	}
	if s := h.status("released"); s.LastWrite == "" || s.Deadline != "" {
		t.Errorf("status of a released record: %+v", s)
	}
	if s := h.status("unstamped"); s.LastWrite != "" || s.Deadline != "" {
		t.Errorf("status of a record without stamps: %+v", s)
	}

	stamp := `\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z`
	age := `(\d[\dmsµ.]*s ago|in \d[\dmsµ.]*s)`
	r := h.exec(nil, h.args("status", "bounded")...)
	for _, re := range []string{`last write:\s+` + age + ` \(` + stamp + `\)`, `deadline:\s+` + age + ` \(` + stamp + `\)`} {
		if !regexp.MustCompile(re).MatchString(r.stdout) {
			t.Errorf("status does not match %s: %s", re, r)
		}
	}
	r = h.exec(nil, h.args("status", "unstamped")...)
	if !strings.Contains(r.stdout, "last write:  -") || strings.Contains(r.stdout, "deadline") {
		t.Errorf("status of a record without stamps: %s", r)
	}

	r = h.exec(nil, h.args("list", "--json")...)
	var raw []map[string]any
	if err := json.Unmarshal([]byte(r.stdout), &raw); err != nil || r.code != 0 {
		t.Fatalf("list --json: %v: %s", err, r)
	}
	for _, v := range raw {
		_, hasLW := v["last_write"]
		_, hasDL := v["deadline"]
		want := map[string][2]bool{"bounded": {true, true}, "released": {true, false}, "unstamped": {false, false}}[v["key"].(string)]
		if hasLW != want[0] || hasDL != want[1] {
			t.Errorf("list --json of %v: last_write and deadline present %v, %v; want %v", v["key"], hasLW, hasDL, want)
		}
	}
	if len(raw) != 3 {
		t.Errorf("list --json: %d records, want 3: %s", len(raw), r)
	}
	r = h.exec(nil, h.args("list")...)
	lines := strings.Split(r.stdout, "\n")
	if !strings.Contains(lines[0], "LAST WRITE") || !strings.Contains(lines[0], "DEADLINE") {
		t.Errorf("list has no LAST WRITE and DEADLINE columns: %s", r)
	}
	for _, l := range lines {
		if strings.HasPrefix(l, "bounded") && len(regexp.MustCompile(stamp).FindAllString(l, -1)) != 2 {
			t.Errorf("list does not show the last write and the deadline of a bounded holder: %q", l)
		}
	}
	ho.release()
}
