package main

import (
	"context"
	"errors"
	"sync"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/smithy-go"

	"github.com/dynamutex/dynamutex"
)

// onceTable is the client NewSession gets. NewSession retries a failed
// DescribeTable with backoff until its context ends, which suits a
// long-lived service riding out a network blip; a one-shot tool pointed at
// a wrong or unreachable endpoint should say so at once instead, and leave
// retrying to whoever runs it (cron runs it again anyway). The AWS SDK's
// own retries (three attempts) still apply to each request, as before
// NewSession retried. So the first failed DescribeTable, throttling apart,
// is remembered and ends the setup context, and connect reports it.
type onceTable struct {
	dynamutex.DynamoDBAPI
	stop context.CancelFunc // ends the context NewSession was given

	mu  sync.Mutex
	err error // the first DescribeTable error
}

// DescribeTable is the client's, but a failure also stops NewSession's
// retries, unless it is throttling: many cron runs starting on the same
// minute meet exactly that, and riding it out (within setupTimeout) is what
// they need.
func (o *onceTable) DescribeTable(ctx context.Context, in *dynamodb.DescribeTableInput,
	optFns ...func(*dynamodb.Options)) (*dynamodb.DescribeTableOutput, error) {
	out, err := o.DynamoDBAPI.DescribeTable(ctx, in, optFns...)
	if err != nil && !throttled(err) {
		o.mu.Lock()
		if o.err == nil {
			o.err = err
		}
		o.mu.Unlock()
		o.stop()
	}
	return out, err
}

// failure returns the first DescribeTable error, or nil.
func (o *onceTable) failure() error {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.err
}

// throttled tells DynamoDB's "slow down" replies, which say nothing about the
// endpoint or the table being wrong.
func throttled(err error) bool {
	var api smithy.APIError
	if !errors.As(err, &api) {
		return false
	}
	switch api.ErrorCode() {
	case "ThrottlingException", "ProvisionedThroughputExceededException", "RequestLimitExceeded":
		return true
	}
	return false
}
