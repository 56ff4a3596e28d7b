//go:build dynamodblocal

package main

import (
	"strings"
	"testing"
)

// TestEnvConfiguration runs with the table, key and other options from
// DYNAMUTEX_* variables and the endpoint from the SDK's own
// AWS_ENDPOINT_URL_DYNAMODB, checks that flags win over them, and that the
// endpoint variable works with and without credentials.
func TestEnvConfiguration(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	env := []string{
		"DYNAMUTEX_TABLE=" + h.table, "AWS_ENDPOINT_URL_DYNAMODB=" + h.endpoint, "DYNAMUTEX_KEY=from-env",
		"DYNAMUTEX_LEASE=1500ms", "DYNAMUTEX_DATA=env data", "DYNAMUTEX_OWNER=env-owner",
	}
	r := h.exec(env, "run", "--", "sh", "-c", `echo "$DYNAMUTEX_TABLE $DYNAMUTEX_KEY $DYNAMUTEX_OWNER"`)
	if r.code != 0 || strings.TrimSpace(r.stdout) != h.table+" from-env env-owner" {
		t.Fatalf("run configured by the environment: %s", r)
	}
	if s := h.status("from-env"); s.State != stateReleased || s.LeaseMS == nil || *s.LeaseMS != 1500 ||
		s.Data == nil || *s.Data != "env data" || s.Owner == nil || *s.Owner != "env-owner" {
		t.Errorf("record written with the environment's options: %+v", s)
	}

	// Flags win, and the options may come before the command name.
	r = h.exec(env, "--table", h.table, "run", "--key", "from-flag", "--", "sh", "-c", `echo "$DYNAMUTEX_KEY"`)
	if r.code != 0 || strings.TrimSpace(r.stdout) != "from-flag" {
		t.Errorf("--key with DYNAMUTEX_KEY set: %s", r)
	}
	// --endpoint wins over the variable, which here names a closed port.
	r = h.exec([]string{"AWS_ENDPOINT_URL_DYNAMODB=http://127.0.0.1:1"}, h.args("status", "from-env")...)
	if r.code != 0 {
		t.Errorf("--endpoint with AWS_ENDPOINT_URL_DYNAMODB set elsewhere: %s", r)
	}

	// The endpoint from the AWS SDK's own variable, first with the test's
	// dummy credentials, then with none at all: the tool falls back to its
	// own, as DynamoDB Local needs some.
	sdkEnv := []string{"AWS_ENDPOINT_URL_DYNAMODB=" + h.endpoint, "DYNAMUTEX_TABLE=" + h.table}
	noCreds := append([]string{"AWS_ACCESS_KEY_ID=", "AWS_SECRET_ACCESS_KEY=", "AWS_REGION="}, sdkEnv...)
	for _, env := range [][]string{sdkEnv, noCreds} {
		r := h.exec(env, "run", "--key", "sdk-endpoint", "--", "true")
		if r.code != 0 {
			t.Errorf("run with AWS_ENDPOINT_URL_DYNAMODB: %s", r)
		}
		r = h.exec(env, "status", "--json", "sdk-endpoint")
		if r.code != 0 || !strings.Contains(r.stdout, `"state": "released"`) {
			t.Errorf("status with AWS_ENDPOINT_URL_DYNAMODB: %s", r)
		}
	}
}
