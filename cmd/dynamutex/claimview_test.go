//go:build dynamodblocal

package main

import (
	"encoding/json"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// TestStatusShowsClaim: a released record that a starving waiter has
// claimed is not free, and status says who goes next; without a claim,
// claimed_by is left out of the JSON.
func TestStatusShowsClaim(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	n := func(v int64) types.AttributeValue {
		return &types.AttributeValueMemberN{Value: strconv.FormatInt(v, 10)}
	}
	s := func(v string) types.AttributeValue { return &types.AttributeValueMemberS{Value: v} }
	item := map[string]types.AttributeValue{
		"key": s("claimed"), "owner": s("alice"), "version": s("v1"), "token": n(3),
		"lease_ms": n(1500), "released": &types.AttributeValueMemberBOOL{Value: true},
		"claim": &types.AttributeValueMemberM{Value: map[string]types.AttributeValue{
			"version": s("w1"), "owner": s("bob"), "beat": s("b1"),
			"since_ms": n(time.Now().UnixMilli()), "lease_ms": n(60000),
		}},
	}
	h.put(item)
	delete(item, "claim")
	item["key"] = s("unclaimed")
	h.put(item)

	if v := h.status("claimed"); v.State != stateReleased || v.Free || v.ClaimedBy != "bob" {
		t.Errorf("status of a claimed released record: %+v, want released, not free, claimed by bob", v)
	}
	if v := h.status("unclaimed"); !v.Free || v.ClaimedBy != "" {
		t.Errorf("status of an unclaimed released record: %+v, want free, no claim", v)
	}
	r := h.exec(nil, h.args("status", "claimed")...)
	if !strings.Contains(r.stdout, "claimed by bob") {
		t.Errorf("status does not name the claimant: %s", r)
	}
	r = h.exec(nil, h.args("status", "--json", "unclaimed")...)
	var raw map[string]any
	if err := json.Unmarshal([]byte(r.stdout), &raw); err != nil {
		t.Fatalf("status --json: %v: %s", err, r)
	}
	if _, ok := raw["claimed_by"]; ok {
		t.Errorf("status --json of an unclaimed record has claimed_by: %s", r)
	}
}
