package main

import (
	"context"
	"errors"
	"fmt"
	"net"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// releaseFailed reports a release that did not reach DynamoDB. The SDK's
// own message ("failed to get rate limit token, retry quota exceeded, 10
// available, 14 requested") means nothing to whoever reads a cron mail,
// and sounds worse than it is: the lock is safe, it is only held for the
// rest of its lease. So the line says that, and the SDK's error follows
// with --verbose only. cmdResult is set when the exit code will be CMD's,
// which the line then says is unaffected; it is not after a lost lock, or
// when CMD never ran.
func (r *runner) releaseFailed(err error, cmdResult bool) {
	after := ""
	if cmdResult {
		after = " Nothing else is wrong: the exit code is the command's."
	}
	fmt.Fprintf(r.a.stderr, "dynamutex: could not release lock %q: %s. Its record stays until its lease of %v runs out; "+
		"then others can take the lock.%s\n", r.o.key, releaseTrouble(err), r.o.lease, after)
	if r.c.verbose {
		fmt.Fprintf(r.a.stderr, "dynamutex: the release failed with: %v\n", err)
	} else {
		fmt.Fprintln(r.a.stderr, "dynamutex: run with -v to see the AWS SDK's error.")
	}
}

// releaseTrouble says in a few words why a request to DynamoDB failed,
// from the SDK's error types: throttled, timed out, unreachable, refused,
// and whether the SDK had run out of retries.
func releaseTrouble(err error) string {
	var (
		netErr  net.Error
		sendErr *smithyhttp.RequestSendError
		apiErr  smithy.APIError
		quota   ratelimit.QuotaExceededError
		maxed   *retry.MaxAttemptsError
	)
	var why string
	switch {
	case retry.IsErrorThrottles(retry.DefaultThrottles).IsErrorThrottle(err) == aws.TrueTernary:
		why = "DynamoDB throttled the request"
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &netErr) && netErr.Timeout():
		why = "DynamoDB did not answer in time"
	case errors.As(err, &netErr), errors.As(err, &sendErr):
		why = "DynamoDB could not be reached"
	case errors.As(err, &apiErr):
		why = fmt.Sprintf("DynamoDB refused the request (%s)", apiErr.ErrorCode())
	default:
		why = "the request to DynamoDB failed"
	}
	switch {
	case errors.As(err, &quota):
		why += ", and the AWS SDK had no retries left after earlier failures"
	case errors.As(err, &maxed):
		why += fmt.Sprintf(" (%d attempts)", maxed.Attempt)
	}
	return why
}
