// Package localdb is where the tests of every package, the chaos harness
// and their helpers find DynamoDB Local: its address (the AWS SDK's own
// AWS_ENDPOINT_URL_DYNAMODB, so that one variable serves the tests, the
// command-line tool and any program on the SDK's default configuration),
// whether the build requires it (the tag dynamodblocal), and a client for
// it, which takes any credentials. The command-line tool builds its own
// client, since it also reaches the real service.
//
// Without an endpoint, the tests that can run on the in-memory store of
// package dynamutextest do; with one, they run against DynamoDB Local. The
// tests that only DynamoDB Local can answer (its HTTP replies, capacity
// units, the command-line tool end to end) are in files built with the tag
// dynamodblocal, which make test sets.
package localdb

import (
	"context"
	"net/http"
	"os"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
)

// Client returns a client for DynamoDB Local at endpoint, sending through
// rt (http.DefaultTransport if nil). optFns adjust its options, such as the
// retries.
func Client(endpoint string, rt http.RoundTripper, optFns ...func(*dynamodb.Options)) *dynamodb.Client {
	if rt == nil {
		rt = http.DefaultTransport
	}
	return dynamodb.New(dynamodb.Options{
		BaseEndpoint: aws.String(endpoint),
		Region:       "us-east-1",
		Credentials: aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
			return aws.Credentials{AccessKeyID: "local", SecretAccessKey: "local", Source: "dynamodb-local"}, nil
		}),
		HTTPClient: &http.Client{Transport: rt},
	}, optFns...)
}

// NoRetries turns the SDK's own retries off, so that a test sees the
// library's retry logic alone.
func NoRetries(o *dynamodb.Options) { o.RetryMaxAttempts = 1 }

// EndpointVar names the environment variable that gives the address of the
// DynamoDB Local the tests run against.
const EndpointVar = "AWS_ENDPOINT_URL_DYNAMODB"

// Required is true in builds with the tag dynamodblocal, whose tests must
// reach DynamoDB Local: make test and CI build that way, so a missing
// emulator fails the run instead of quietly testing the in-memory store.
const Required = required

// missing says what to do when an endpoint is needed and none is set.
const missing = EndpointVar + " is not set. Run `make test`, which installs and starts DynamoDB Local, " +
	"or run `make local` in another shell and paste the export line it prints."

// Endpoint returns the address of DynamoDB Local, and fails tb when there is
// none: for tests that need DynamoDB Local itself, such as its HTTP replies.
func Endpoint(tb testing.TB) string {
	tb.Helper()
	ep := os.Getenv(EndpointVar)
	if ep == "" {
		tb.Fatal(missing)
	}
	return ep
}

// Optional returns the address of DynamoDB Local, or "" when none is set
// and the build does not require one; a test then runs on the in-memory
// store. In a dynamodblocal build a missing endpoint fails tb.
func Optional(tb testing.TB) string {
	tb.Helper()
	if Required {
		return Endpoint(tb)
	}
	return os.Getenv(EndpointVar)
}

var (
	poolsMu sync.Mutex
	pools   []*http.Transport
)

// Transport returns a fresh connection pool for a client of DynamoDB Local.
// CloseIdle closes the idle connections of every pool it handed out, so
// that a test's goroutine count (and goleak) sees none left.
func Transport() *http.Transport {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConnsPerHost = 64
	poolsMu.Lock()
	pools = append(pools, t)
	poolsMu.Unlock()
	return t
}

// CloseIdle closes the idle connections of every pool Transport made.
func CloseIdle() {
	poolsMu.Lock()
	defer poolsMu.Unlock()
	for _, t := range pools {
		t.CloseIdleConnections()
	}
}
