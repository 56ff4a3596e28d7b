//go:build unix && dynamodblocal

package main

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/dynamutex/dynamutex"
)

// electionKey is the record of the election these tests campaign on.
const electionKey = "dynamutex-election:scheduler"

// wantLeader is the leader that status and list should show.
type wantLeader struct {
	owner    string
	token    uint64
	seq      uint64
	value    string // as the JSON carries it: text, or base64
	encoding string
	text     string // the value as the human output shows it
}

// TestElectionStatusAndList: a Session of this process campaigns, proclaims
// and resigns, and status and list, text and JSON, show the election
// record as an election each time: its leader's owner, token, since, seq
// and value, beside an ordinary lock that shows none, and "no leader"
// once it resigned.
func TestElectionStatusAndList(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	ctx, cancel := context.WithTimeout(context.Background(), processTimeout)
	defer cancel()
	sess, err := dynamutex.NewSession(ctx, h.sdk(), h.table, dynamutex.WithOwner("sched-a"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sess.Close(context.Background()) })
	e := sess.NewElection("scheduler")

	before := time.Now().Truncate(time.Millisecond)
	lead, err := e.Campaign(ctx, []byte("10.0.0.7:8080"))
	after := time.Now()
	if err != nil {
		t.Fatal(err)
	}
	lease, _ := dynamutex.LeaseFrom(lead)
	want := wantLeader{owner: "sched-a", token: lease.Token(), seq: 0,
		value: "10.0.0.7:8080", encoding: "utf-8", text: "10.0.0.7:8080"}
	since := checkLeaderStatus(t, h, want)
	if s := parseTime(t, "since", since); s.Before(before) || s.After(after) {
		t.Errorf("since %s is not between the Campaign's start %s and return %s", since, formatTime(before), formatTime(after))
	}

	proclaim(t, e, []byte("10.0.0.8:9090"))
	want.seq, want.value, want.text = 1, "10.0.0.8:9090", "10.0.0.8:9090"
	if s := checkLeaderStatus(t, h, want); s != since {
		t.Errorf("since after a Proclaim: %s, want the leadership's start %s", s, since)
	}
	octets := []byte{0xff, 0x00, 'x'}
	proclaim(t, e, octets)
	enc := base64.StdEncoding.EncodeToString(octets)
	want.seq, want.value, want.encoding, want.text = 2, enc, "base64", "base64:"+enc
	checkLeaderStatus(t, h, want)

	m := sess.NewMutex("deploys", dynamutex.WithData([]byte("deploy v2")))
	if _, err := m.Lock(ctx); err != nil {
		t.Fatal(err)
	}
	checkElectionList(t, h, want, since)
	if err := m.Unlock(ctx); err != nil {
		t.Fatal(err)
	}

	if err := e.Resign(ctx); err != nil {
		t.Fatal(err)
	}
	if cause := context.Cause(lead); !errors.Is(cause, dynamutex.ErrResigned) {
		t.Errorf("Campaign context after Resign: cause %v, want ErrResigned", cause)
	}
	checkNoLeader(t, h)
}

// proclaim publishes value as the election's leader.
func proclaim(t *testing.T, e *dynamutex.Election, value []byte) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), processTimeout)
	defer cancel()
	if err := e.Proclaim(ctx, value); err != nil {
		t.Fatalf("Proclaim %q: %v", value, err)
	}
}

// checkLeaderStatus checks that status, JSON and text, shows the leader w
// and exits 0, and returns the leadership's since from the JSON.
func checkLeaderStatus(t *testing.T, h *harness, w wantLeader) string {
	t.Helper()
	v := h.status(electionKey) // fails the test unless it exits 0
	ev := v.Election
	if v.State != stateHeld || v.Free || v.Owner == nil || *v.Owner != w.owner || v.Token == nil || *v.Token != w.token ||
		v.Data != nil || v.DataEncoding != "" {
		t.Errorf("status --json of a led election, record fields: %s, want held by %s with token %d, no raw data",
			jsonOf(v), w.owner, w.token)
	}
	if ev == nil || ev.Name != "scheduler" || !ev.Leader || ev.Owner != w.owner || ev.Token == nil || *ev.Token != w.token ||
		ev.Seq == nil || *ev.Seq != w.seq || ev.Value == nil || *ev.Value != w.value || ev.ValueEncoding != w.encoding {
		t.Fatalf("status --json election: %s, want %+v", jsonOf(ev), w)
	}
	r := h.exec(nil, h.args("status", electionKey)...)
	line := fmt.Sprintf("leader %s, token %d, since %s, seq %d, value %s", w.owner, w.token, ev.Since, w.seq, w.text)
	if r.code != exitOK || !hasLine(r.stdout, "state:", "held") || !hasLine(r.stdout, "election:", "scheduler") ||
		!hasLine(r.stdout, "leader:", line) || hasLine(r.stdout, "data:", "") {
		t.Errorf("status of a led election: want exit 0, held, election scheduler, leader %q and no data line: %s", line, r)
	}
	return ev.Since
}

// jsonOf renders v for a failure message, pointers followed.
func jsonOf(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprintf("%+v (%v)", v, err)
	}
	return string(b)
}

// hasLine reports whether out has a line of status's "field:  value" form
// with the given field and value; an empty value matches any.
func hasLine(out, field, value string) bool {
	for _, l := range strings.Split(out, "\n") {
		rest, ok := strings.CutPrefix(l, field)
		if ok && (value == "" || strings.TrimSpace(rest) == value) {
			return true
		}
	}
	return false
}

// checkElectionList checks that list, JSON and text, shows the election
// with its leader w and the lock "deploys" with its data and no election.
func checkElectionList(t *testing.T, h *harness, w wantLeader, since string) {
	t.Helper()
	r := h.exec(nil, h.args("list", "--json")...)
	var views []lockView
	if err := json.Unmarshal([]byte(r.stdout), &views); err != nil || r.code != exitOK || len(views) != 2 {
		t.Fatalf("list --json: want exit 0 and 2 records (%v): %s", err, r)
	}
	byKey := map[string]lockView{}
	for _, v := range views {
		byKey[v.Key] = v
	}
	if ev := byKey[electionKey].Election; ev == nil || !ev.Leader || ev.Owner != w.owner || ev.Token == nil ||
		*ev.Token != w.token || ev.Seq == nil || *ev.Seq != w.seq || ev.Value == nil || *ev.Value != w.value ||
		ev.Since != since {
		t.Errorf("list --json, election: %s, want %+v since %s", jsonOf(ev), w, since)
	}
	if v := byKey["deploys"]; v.State != stateHeld || v.Election != nil || v.Data == nil || *v.Data != "deploy v2" {
		t.Errorf("list --json, lock: %s, want held with its data and no election", jsonOf(v))
	}

	r = h.exec(nil, h.args("list")...)
	row := listRow(r.stdout, electionKey)
	text := fmt.Sprintf("election scheduler: leader %s, token %d, since %s, seq %d, value %s", w.owner, w.token, since, w.seq, w.text)
	if r.code != exitOK || !strings.Contains(row, " held ") || !strings.HasSuffix(row, text) {
		t.Errorf("list: want exit 0 and the election row held, ending %q: %s", text, r)
	}
	if lock := listRow(r.stdout, "deploys"); !strings.Contains(lock, " held ") || !strings.HasSuffix(lock, "deploy v2") ||
		strings.Contains(lock, "election") || strings.Contains(lock, "leader") {
		t.Errorf("list: want the lock row held with its data and no election: %q\n%s", lock, r)
	}
}

// listRow is the row of list's text output for key, or "".
func listRow(out, key string) string {
	for _, l := range strings.Split(out, "\n") {
		if strings.HasPrefix(l, key+" ") {
			return strings.TrimRight(l, " ")
		}
	}
	return ""
}

// checkNoLeader checks that status and list show the resigned election as
// released, free, with no leader, and that status exits 0.
func checkNoLeader(t *testing.T, h *harness) {
	t.Helper()
	r := h.exec(nil, h.args("status", "--json", electionKey)...)
	var raw struct {
		State    string         `json:"state"`
		Free     bool           `json:"free"`
		Election map[string]any `json:"election"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &raw); err != nil || r.code != exitOK {
		t.Fatalf("status --json after Resign: want exit 0 (%v): %s", err, r)
	}
	wantElection := map[string]any{"name": "scheduler", "leader": false}
	if raw.State != stateReleased || !raw.Free || fmt.Sprint(raw.Election) != fmt.Sprint(wantElection) {
		t.Errorf("status --json after Resign: %+v, want released, free, election %v and nothing more", raw, wantElection)
	}
	r = h.exec(nil, h.args("status", electionKey)...)
	if r.code != exitOK || !hasLine(r.stdout, "state:", "released") || !hasLine(r.stdout, "election:", "scheduler") ||
		!hasLine(r.stdout, "leader:", "no leader") {
		t.Errorf("status after Resign: want exit 0, released, election scheduler, no leader: %s", r)
	}
	r = h.exec(nil, h.args("list")...)
	if row := listRow(r.stdout, electionKey); r.code != exitOK || !strings.Contains(row, " released ") ||
		!strings.HasSuffix(row, "election scheduler: no leader") {
		t.Errorf("list after Resign: want the election row released with no leader: %s", r)
	}
}
