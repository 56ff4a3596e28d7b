//go:build dynamodblocal

package main

import (
	"encoding/base64"
	"encoding/json"
	"strconv"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// TestStatusAndList checks status and list, human and JSON, while a run
// holds a key, after it released it, for a key without a record, for data
// that is not UTF-8, and for a record dynamutex did not write.
func TestStatusAndList(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	if r := h.exec(nil, h.args("run", "--key", "binary", "--data", "\xff\xfe", "--", "true")...); r.code != 0 {
		t.Fatalf("run: %s", r)
	}
	h.put(map[string]types.AttributeValue{
		"key": &types.AttributeValueMemberS{Value: "junk"}, "colour": &types.AttributeValueMemberS{Value: "red"},
	})
	ho := h.hold("report", "--lease", "2s", "--owner", "alice", "--data", "deploy v1.2")

	checkHeldStatus(t, h, ho)
	checkListJSON(t, h)
	checkList(t, h, ho)
	checkCorruptAndAbsent(t, h)

	ho.release()
	if s := h.status("report"); s.State != stateReleased || !s.Free || s.Released == nil || !*s.Released {
		t.Errorf("status --json after the run: %+v", s)
	}
	r := h.exec(nil, h.args("list")...)
	if !strings.Contains(r.stdout, "released") || strings.Contains(r.stdout, " held ") {
		t.Errorf("list after the run:\n%s", r.stdout)
	}
}

func checkHeldStatus(t *testing.T, h *harness, ho *holder) {
	s := h.status("report")
	if s.State != stateHeld || s.Free || s.Owner == nil || *s.Owner != "alice" ||
		s.Token == nil || strconv.FormatUint(*s.Token, 10) != ho.token ||
		s.Released == nil || *s.Released || s.LeaseMS == nil || *s.LeaseMS != 2000 ||
		s.Data == nil || *s.Data != "deploy v1.2" || s.DataEncoding != "utf-8" {
		t.Errorf("status --json of a held key: %+v (holder's token %s)", s, ho.token)
	}
	r := h.exec(nil, h.args("status", "report")...)
	for _, want := range []string{"held", "alice", ho.token, "2s", "deploy v1.2"} {
		if r.code != 0 || !strings.Contains(r.stdout, want) {
			t.Errorf("status does not show %q: %s", want, r)
		}
	}
}

func checkListJSON(t *testing.T, h *harness) {
	r := h.exec(nil, h.args("list", "--json")...)
	var views []lockView
	if err := json.Unmarshal([]byte(r.stdout), &views); err != nil || r.code != 0 {
		t.Fatalf("list --json: %v: %s", err, r)
	}
	byKey := map[string]lockView{}
	for _, v := range views {
		byKey[v.Key] = v
	}
	if v := byKey["report"]; v.State != stateHeld || v.Owner == nil || *v.Owner != "alice" {
		t.Errorf("list --json, report: %+v", v)
	}
	if v := byKey["binary"]; v.State != stateReleased || !v.Free || v.DataEncoding != "base64" ||
		v.Data == nil || *v.Data != base64.StdEncoding.EncodeToString([]byte("\xff\xfe")) {
		t.Errorf("list --json, binary: %+v", v)
	}
	if v := byKey["junk"]; v.State != stateCorrupt || !strings.Contains(v.Error, "version") || v.Owner != nil {
		t.Errorf("list --json, junk: %+v", v)
	}
}

func checkList(t *testing.T, h *harness, ho *holder) {
	r := h.exec(nil, h.args("list")...)
	if r.code != 0 {
		t.Fatalf("list: %s", r)
	}
	for _, want := range []string{"KEY", "report", "held", "alice", ho.token, "deploy v1.2",
		"binary", "released", "base64:", "corrupt record junk: attribute"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("list does not show %q:\n%s", want, r.stdout)
		}
	}
}

func checkCorruptAndAbsent(t *testing.T, h *harness) {
	if r := h.exec(nil, h.args("status", "junk")...); r.code != exitFailure || !strings.Contains(r.stdout, "corrupt") {
		t.Errorf("status of a corrupt record: want exit 1 and the state: %s", r)
	}
	if s := h.status("never-locked"); s.State != stateAbsent || !s.Free || s.Owner != nil || s.Token != nil {
		t.Errorf("status --json of a key without a record: %+v", s)
	}
	if r := h.exec(nil, h.args("status", "never-locked")...); r.code != 0 || !strings.Contains(r.stdout, "absent") {
		t.Errorf("status of a key without a record: %s", r)
	}
}
