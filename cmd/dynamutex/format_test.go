//go:build dynamodblocal

package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// getRaw reads one item of the harness's table with the SDK.
func (h *harness) getRaw(key map[string]types.AttributeValue) map[string]types.AttributeValue {
	h.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, err := h.sdk().GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(h.table), Key: key, ConsistentRead: aws.Bool(true)})
	if err != nil {
		h.t.Fatal(err)
	}
	return out.Item
}

// --format python alone makes and uses python-dynamodb-lock's table: its
// keys, sort-key value "-" and TTL, and its attributes in the record, which
// a release leaves with a 1 ms lease.
func TestFormatPythonCommands(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.table += "_py"
	r := h.exec(nil, append(h.args("create-table"), "--format", "python")...)
	if r.code != 0 || !strings.Contains(r.stdout, `partition key "lock_key", sort key "sort_key", TTL on "expiry_time"`) ||
		strings.Contains(r.stdout, "another client") {
		t.Fatalf("create-table --format python: %s", r)
	}
	if r := h.exec(nil, append(h.args("run", "--format", "python", "--key", "job"), "--", "true")...); r.code != 0 {
		t.Fatalf("run --format python: %s", r)
	}
	item := h.getRaw(map[string]types.AttributeValue{"lock_key": avS("job"), "sort_key": avS("-")})
	lease, _ := item["lease_duration"].(*types.AttributeValueMemberN)
	if item["owner_name"] == nil || item["record_version_number"] == nil || item["expiry_time"] == nil ||
		lease == nil || lease.Value != "0.001" || item["version"] != nil {
		t.Errorf("record after run --format python: %v", item)
	}
	if r := h.exec(nil, h.args("status", "--format", "python", "job")...); r.code != 0 || strings.Contains(r.stdout, "python client") {
		t.Errorf("status of dynamutex's own Python-format record: %s", r)
	}
}

// DYNAMUTEX_FORMAT=java makes Java's table (no TTL) and writes Java's
// attributes; a release keeps the record with isReleased "1".
func TestFormatJavaFromEnvironment(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.table += "_java"
	env := []string{"DYNAMUTEX_FORMAT=java"}
	r := h.exec(env, h.args("create-table")...)
	if r.code != 0 || !strings.Contains(r.stdout, "TTL off, as the Java client's tables have it") {
		t.Fatalf("create-table with DYNAMUTEX_FORMAT=java: %s", r)
	}
	if r := h.exec(env, append(h.args("run", "--key", "job"), "--", "true")...); r.code != 0 {
		t.Fatalf("run: %s", r)
	}
	item := h.getRaw(map[string]types.AttributeValue{"key": avS("job")})
	if attrText(item, "isReleased") != "1" || item["ownerName"] == nil || item["recordVersionNumber"] == nil ||
		item["leaseDuration"] == nil || item["owner"] != nil {
		t.Errorf("record after a run in the Java format: %v", item)
	}
}

func attrText(item map[string]types.AttributeValue, name string) string {
	if v, ok := item[name].(*types.AttributeValueMemberS); ok {
		return v.Value
	}
	return ""
}
