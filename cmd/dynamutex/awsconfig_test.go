package main

import (
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync/atomic"
	"testing"
)

// TestAWSConfigurationErrors: a missing region, missing credentials, a
// region the SDK refuses and settings that leave no endpoint each exit 2
// (bad AWS configuration) with a message that says what to set, before any
// request: the endpoint given, where there is one, counts none. None needs
// DynamoDB, so this runs in plain go test.
func TestAWSConfigurationErrors(t *testing.T) {
	t.Parallel()
	var requests atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		w.WriteHeader(http.StatusInternalServerError)
	}))
	defer srv.Close()
	h := &harness{t: t, dir: t.TempDir()}
	failingProfile := h.path("config")
	if err := os.WriteFile(failingProfile, []byte("[profile broken]\ncredential_process = false\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	noCreds := []string{"AWS_ACCESS_KEY_ID=", "AWS_SECRET_ACCESS_KEY="}
	credsHint := []string{"AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY", "AWS_PROFILE",
		"set AWS_ENDPOINT_URL_DYNAMODB", "any values do"}
	for _, tc := range []struct {
		name string
		env  []string
		args []string
		want []string
	}{
		{"no region", []string{"AWS_REGION="}, []string{"list"},
			[]string{"no AWS region configured", "--region", "export AWS_REGION=us-east-1"}},
		{"no credentials", noCreds, []string{"status", "k"}, append([]string{"no AWS credentials found."}, credsHint...)},
		{"no credentials, create-table", noCreds, []string{"create-table"}, []string{"no AWS credentials found."}},
		{"profile's credentials fail", []string{"AWS_CONFIG_FILE=" + failingProfile}, []string{"--profile", "broken", "list"},
			append([]string{"AWS credentials could not be loaded", "credential_process"}, credsHint...)},
		{"invalid --region", nil, []string{"--region", "no such", "list"},
			[]string{`invalid AWS region "no such" (from --region)`, "us-east-1"}},
		{"invalid --region with an endpoint", nil, []string{"status", "--endpoint", srv.URL, "--region", "no such", "k"},
			[]string{`invalid AWS region "no such" (from --region)`}},
		{"invalid AWS_REGION", []string{"AWS_REGION=us east"}, []string{"create-table", "--endpoint", srv.URL},
			[]string{`invalid AWS region "us east" (from AWS_REGION`}},
		{"FIPS with an endpoint", []string{"AWS_USE_FIPS_ENDPOINT=true", "AWS_ENDPOINT_URL_DYNAMODB=" + srv.URL},
			[]string{"run", "--key", "k", "--", "true"}, []string{"no DynamoDB endpoint can be resolved", "FIPS"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			requests.Store(0)
			r := h.exec(tc.env, tc.args...)
			if r.code != exitUsage {
				t.Errorf("exit %d, want %d: %s", r.code, exitUsage, r)
			}
			for _, want := range tc.want {
				if !strings.Contains(r.stderr, want) {
					t.Errorf("stderr does not say %q: %s", want, r)
				}
			}
			// The SDK's internals stay out of it: the instance metadata
			// service is where its search for credentials ends, which
			// says nothing to someone without an EC2 instance.
			if strings.Contains(r.stderr, "IMDS") || strings.Contains(r.stderr, "SDK ") {
				t.Errorf("stderr shows the SDK's internals: %s", r)
			}
			if n := requests.Load(); n != 0 {
				t.Errorf("%d requests, want none before the configuration is found wrong", n)
			}
		})
	}
}
