package main

import (
	"context"
	"fmt"
	"net/url"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/smithy-go/logging"
)

// localRegion is the region used with an explicit endpoint when none is
// configured: DynamoDB Local accepts any, and requests must be signed with
// one.
const localRegion = "us-east-1"

// newClient builds a DynamoDB client the way the AWS CLI would: from the
// environment, shared config and credentials files, and the instance role
// (config.LoadDefaultConfig), with --region and --profile on top.
//
// The endpoint comes from --endpoint, else from the SDK's own
// AWS_ENDPOINT_URL_DYNAMODB, AWS_ENDPOINT_URL or the profile's
// endpoint_url, which dynamodb.NewFromConfig already honours. The region
// and the credentials are checked here, before any request, so that a
// missing or wrong one is reported as bad configuration (exit 2) in words
// a user can act on, rather than as a failed request full of SDK internals.
//
// The client keeps the SDK's default HTTP pool: the tool holds one lock, so
// at most one renewal is in flight, and the library's default limit on
// renewals in flight (dynamutex.DefaultParallelism) is the size of that
// pool's idle connections per host anyway. A program that raises
// WithParallelism must raise its client's pool with it.
func newClient(ctx context.Context, c *common) (*dynamodb.Client, error) {
	cfg, err := loadConfig(ctx, c)
	if err != nil {
		return nil, err
	}
	var override []func(*dynamodb.Options)
	if c.endpoint != "" {
		if err := checkEndpoint(c.endpoint); err != nil {
			return nil, usageError("", "%s %q: %v", c.source("endpoint"), c.endpoint, err)
		}
		override = append(override, func(o *dynamodb.Options) { o.BaseEndpoint = aws.String(c.endpoint) })
	}
	// The probe client costs nothing (no request): it tells whether the SDK
	// resolved an endpoint from the environment or the profile.
	local := dynamodb.NewFromConfig(cfg, override...).Options().BaseEndpoint != nil
	switch {
	case local:
		override = append(override, localOptions(ctx, cfg)...)
	case cfg.Region == "":
		return nil, usageError("", "no AWS region configured: pass --region, set AWS_REGION "+
			"(e.g. export AWS_REGION=us-east-1), or set a region in your AWS profile")
	}
	client := dynamodb.NewFromConfig(cfg, override...)
	if err := checkRegion(ctx, c, client.Options()); err != nil {
		return nil, err
	}
	if !local {
		if err := checkCredentials(ctx, c, cfg); err != nil {
			return nil, err
		}
	}
	return client, nil
}

// loadConfig is config.LoadDefaultConfig with --region and --profile. The
// SDK's own log (such as the instance metadata service's "falling back to
// IMDSv1") is shown with --verbose only: without it, what went wrong is
// said once, by the tool.
func loadConfig(ctx context.Context, c *common) (aws.Config, error) {
	var opts []func(*config.LoadOptions) error
	if c.region != "" {
		opts = append(opts, config.WithRegion(c.region))
	}
	if c.profile != "" {
		opts = append(opts, config.WithSharedConfigProfile(c.profile))
	}
	if !c.verbose {
		opts = append(opts, config.WithLogger(logging.Nop{}))
	}
	cfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return cfg, &exitError{code: exitUsage, msg: fmt.Sprintf("AWS configuration: %v", err)}
	}
	return cfg, nil
}

// localOptions adjust a client with a custom endpoint, such as DynamoDB
// Local: a region when none is configured, no response checksums, and
// dummy credentials when none can be found.
func localOptions(ctx context.Context, cfg aws.Config) []func(*dynamodb.Options) {
	var opts []func(*dynamodb.Options)
	if cfg.Region == "" {
		opts = append(opts, func(o *dynamodb.Options) { o.Region = localRegion })
	}
	// DynamoDB Local and other emulators omit the X-Amz-Crc32 header on
	// error responses, such as the failed conditions of a contended lock,
	// and this SDK version then checks the body against 0 and logs a
	// warning on stderr for each. With a custom endpoint the check is off;
	// against AWS it stays on.
	opts = append(opts, func(o *dynamodb.Options) { o.DisableValidateResponseChecksum = true })
	if !haveCredentials(ctx, cfg) {
		opts = append(opts, useDummyCredentials)
	}
	return opts
}

// checkEndpoint catches a mistyped endpoint before the SDK turns it into a
// puzzling request error.
func checkEndpoint(raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return err
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("want a URL such as http://localhost:8000")
	}
	return nil
}
