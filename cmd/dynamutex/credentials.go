package main

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials/ec2rolecreds"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
)

// credentialProbeTimeout bounds the look for real credentials when an
// endpoint is set. Without AWS_EC2_METADATA_DISABLED the SDK's chain ends
// by asking the EC2 instance metadata service, which off EC2 may only time
// out.
const credentialProbeTimeout = 3 * time.Second

// credentialsHint says how to provide credentials. It names DynamoDB Local
// because a newcomer who meant to use it and forgot the endpoint lands here
// too.
const credentialsHint = "Set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or name a profile of ~/.aws/config " +
	"with --profile or AWS_PROFILE.\n" +
	"For DynamoDB Local, set AWS_ENDPOINT_URL_DYNAMODB (or --endpoint) as well; against it any values do, " +
	"e.g. AWS_ACCESS_KEY_ID=local AWS_SECRET_ACCESS_KEY=local."

// haveCredentials reports whether the SDK's credential chain finds any
// within credentialProbeTimeout.
func haveCredentials(ctx context.Context, cfg aws.Config) bool {
	if cfg.Credentials == nil {
		return false
	}
	ctx, cancel := context.WithTimeout(ctx, credentialProbeTimeout)
	defer cancel()
	_, err := cfg.Credentials.Retrieve(ctx)
	return err == nil
}

// useDummyCredentials signs with made-up keys: DynamoDB Local wants a
// signed request but checks no key. Real credentials are never replaced.
func useDummyCredentials(o *dynamodb.Options) {
	o.Credentials = aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
		return aws.Credentials{AccessKeyID: "local", SecretAccessKey: "local", Source: "dynamutex dummy"}, nil
	})
}

// checkCredentials retrieves the credentials a request to AWS would sign
// with. cfg.Credentials is the cache the client shares, so the first
// request reuses what this finds rather than looking again.
//
// When nothing configures credentials, the SDK's chain ends at the EC2
// instance role, and its error is about the instance metadata service,
// which says nothing to someone on a laptop: that case is reported as no
// credentials found, with the SDK's reason under --verbose only. Any other
// failure (an expired SSO session, a profile's role that cannot be assumed)
// is the user's own configuration, and its reason is shown.
func checkCredentials(ctx context.Context, c *common, cfg aws.Config) error {
	if cfg.Credentials == nil {
		return &exitError{code: exitUsage, msg: "no AWS credentials found. " + credentialsHint}
	}
	_, err := cfg.Credentials.Retrieve(ctx)
	switch {
	case err == nil:
		return nil
	case !aws.IsCredentialsProvider(cfg.Credentials, (*ec2rolecreds.Provider)(nil)):
		return &exitError{code: exitUsage, msg: fmt.Sprintf("AWS credentials could not be loaded: %v\n%s", err, credentialsHint)}
	case c.verbose:
		return &exitError{code: exitUsage, msg: fmt.Sprintf(
			"no AWS credentials found (the last place looked, the EC2 instance metadata service, says: %v). %s", err, credentialsHint)}
	}
	return &exitError{code: exitUsage, msg: "no AWS credentials found. " + credentialsHint}
}
