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

func avS(v string) types.AttributeValue { return &types.AttributeValueMemberS{Value: v} }

// javaItem is a record as the Java lock client writes it, released with
// keep when released is set.
func javaItem(key string, released bool) map[string]types.AttributeValue {
	item := map[string]types.AttributeValue{"key": avS(key), "ownerName": avS("java-a"),
		"leaseDuration": avS("2000"), "recordVersionNumber": avS("rvn-" + key)}
	if released {
		item["isReleased"] = avS("1")
	}
	return item
}

// status and list show a Java record as held by its owner, naming the
// client, without a token, and not corrupt; a run takes a keep-released one
// at once and finds a held one busy.
func TestForeignJavaRecords(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.put(javaItem("java-held", false))
	h.put(javaItem("java-released", true))
	s := h.status("java-held")
	if s.State != stateHeld || s.Client != "java" || s.Owner == nil || *s.Owner != "java-a" || s.Token != nil ||
		s.LeaseMS == nil || *s.LeaseMS != 2000 || s.Free {
		t.Errorf("status --json of a Java record: %+v", s)
	}
	r := h.exec(nil, h.args("status", "java-held")...)
	if r.code != 0 || !strings.Contains(r.stdout, "client:") || !strings.Contains(r.stdout, "java") ||
		strings.Contains(r.stdout, "corrupt") {
		t.Errorf("status of a Java record: %s", r)
	}
	r = h.exec(nil, h.args("list")...)
	if r.code != 0 || !strings.Contains(r.stdout, "java-a (java client)") || strings.Contains(r.stdout, "corrupt") {
		t.Errorf("list with Java records: %s", r)
	}
	if r := h.exec(nil, h.args("run", "--key", "java-released", "--no-wait", "--", "true")...); r.code != 0 {
		t.Errorf("run on a keep-released Java record: %s", r)
	}
	if r := h.exec(nil, h.args("run", "--key", "java-held", "--wait", "500ms", "--", "true")...); r.code != exitBusy {
		t.Errorf("run on a held Java record: want busy: %s", r)
	}
}

// The key options, from flags and from the environment, reach Python's
// table layout: create-table makes it, status reads a Python record in it,
// and a run takes that record over once it has watched it for its lease.
func TestForeignPythonTable(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.table += "_py"
	keys := []string{"--partition-key", "lock_key", "--sort-key", "sort_key"}
	if r := h.exec(nil, append(h.args("create-table"), keys...)...); r.code != 0 || !strings.Contains(r.stdout, `sort key "sort_key"`) {
		t.Fatalf("create-table with key options: %s", r)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_, err := h.sdk().PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(h.table), Item: map[string]types.AttributeValue{
		"lock_key": avS("job"), "sort_key": avS("-"), "owner_name": avS("python-a"),
		"lease_duration": &types.AttributeValueMemberN{Value: "2"}, "record_version_number": avS("rvn-1"),
		"expiry_time": &types.AttributeValueMemberN{Value: "1764856800"},
	}})
	if err != nil {
		t.Fatal(err)
	}
	env := []string{"DYNAMUTEX_PARTITION_KEY=lock_key", "DYNAMUTEX_SORT_KEY=sort_key", "DYNAMUTEX_SORT_KEY_VALUE=-"}
	r := h.exec(env, h.args("status", "--json", "job")...)
	if r.code != 0 || !strings.Contains(r.stdout, `"client": "python"`) || !strings.Contains(r.stdout, `"sort_key": "-"`) {
		t.Fatalf("status --json of a Python record with the key variables: %s", r)
	}
	args := append(h.args("run", "--key", "job", "--sort-key-value", "-", "--wait", "30s"), keys...)
	if r := h.exec(nil, append(args, "--", "true")...); r.code != 0 {
		t.Fatalf("run on a dead Python holder's record: %s", r)
	}
}
