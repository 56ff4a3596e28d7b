// Package localdb builds DynamoDB clients for DynamoDB Local, which takes
// any credentials: the one place where the tests of every package, the
// chaos harness and their helpers get one. The command-line tool has its
// own, since it also reaches the real service.
package localdb

import (
	"context"
	"net/http"

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
