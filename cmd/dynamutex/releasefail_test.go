package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// unlockError wraps err as the library's Unlock and the SDK's operation
// stack do.
func unlockError(err error) error {
	return fmt.Errorf("dynamutex: unlock %q: %w", "nightly",
		&smithy.OperationError{ServiceID: "DynamoDB", OperationName: "UpdateItem", Err: err})
}

// TestReleaseTrouble checks the reason given for a failed release, told
// from the SDK's error types, for the failures a release meets.
func TestReleaseTrouble(t *testing.T) {
	refused := &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}
	throttled := &awshttp.ResponseError{ResponseError: &smithyhttp.ResponseError{
		Response: &smithyhttp.Response{Response: &http.Response{StatusCode: 400}},
		Err:      &smithy.GenericAPIError{Code: "ThrottlingException", Message: "slow down"}}}
	for _, tc := range []struct {
		name string
		err  error
		want string
	}{
		{"quota", errors.Join(&smithyhttp.RequestSendError{Err: refused}, fmt.Errorf("failed to get rate limit token, %w",
			ratelimit.QuotaExceededError{Available: 10, Requested: 14})),
			"DynamoDB could not be reached, and the AWS SDK had no retries left after earlier failures"},
		{"unreachable", &retry.MaxAttemptsError{Attempt: 3, Err: &smithyhttp.RequestSendError{Err: refused}},
			"DynamoDB could not be reached (3 attempts)"},
		{"timeout", context.DeadlineExceeded, "DynamoDB did not answer in time"},
		{"throttled", throttled, "DynamoDB throttled the request"},
		{"refused", &smithy.GenericAPIError{Code: "AccessDeniedException"}, "DynamoDB refused the request (AccessDeniedException)"},
		{"other", errors.New("something"), "the request to DynamoDB failed"},
	} {
		if got := releaseTrouble(unlockError(tc.err)); got != tc.want {
			t.Errorf("%s: got %q, want %q", tc.name, got, tc.want)
		}
	}
}

// TestReleaseFailedMessage checks that a failed release says what it means
// for the user, and shows the SDK's error with --verbose only.
func TestReleaseFailedMessage(t *testing.T) {
	err := unlockError(errors.Join(&smithyhttp.RequestSendError{Err: errors.New("dial tcp: connection refused")},
		fmt.Errorf("failed to get rate limit token, %w", ratelimit.QuotaExceededError{Available: 10, Requested: 14})))
	for _, verbose := range []bool{false, true} {
		for _, cmdResult := range []bool{false, true} {
			var stderr bytes.Buffer
			r := waitingRunner(nil, "nightly", &stderr)
			r.c.verbose, r.o.lease = verbose, 20*time.Second
			r.releaseFailed(err, cmdResult)
			got := stderr.String()
			for _, want := range []string{`dynamutex: could not release lock "nightly": DynamoDB could not be reached`,
				"stays until its lease of 20s runs out"} {
				if !strings.Contains(got, want) {
					t.Errorf("verbose %v: %q does not say %q", verbose, got, want)
				}
			}
			if sdk := strings.Contains(got, "retry quota exceeded, 10 available, 14 requested"); sdk != verbose {
				t.Errorf("verbose %v: the SDK's error shown: %v:\n%s", verbose, sdk, got)
			}
			if says := strings.Contains(got, "the exit code is the command's"); says != cmdResult {
				t.Errorf("exit code the command's %v: the line says so: %v:\n%s", cmdResult, says, got)
			}
		}
	}
}
