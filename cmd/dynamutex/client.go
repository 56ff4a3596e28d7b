package main

import (
	"context"
	"fmt"
	"net/url"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
)

// localRegion is the region used with an explicit endpoint when none is
// configured: DynamoDB Local accepts any, and requests must be signed with
// one.
const localRegion = "us-east-1"

// credentialProbeTimeout bounds the look for real credentials when an
// endpoint is set. Without AWS_EC2_METADATA_DISABLED the SDK's chain ends
// by asking the EC2 instance metadata service, which off EC2 only times out.
const credentialProbeTimeout = 3 * time.Second

// newClient builds a DynamoDB client the way the AWS CLI would: from the
// environment, shared config and credentials files, and the instance role
// (config.LoadDefaultConfig), with --region and --profile on top.
//
// The endpoint comes from --endpoint or DYNAMUTEX_ENDPOINT, else from the
// SDK's own AWS_ENDPOINT_URL_DYNAMODB, AWS_ENDPOINT_URL or the profile's
// endpoint_url, which dynamodb.NewFromConfig already honours. When an
// endpoint is set and no credentials can be found, the client signs with
// dummy ones, as DynamoDB Local wants a signature but checks nothing; real
// credentials are never replaced.
func newClient(ctx context.Context, c *common) (*dynamodb.Client, error) {
	var opts []func(*config.LoadOptions) error
	if c.region != "" {
		opts = append(opts, config.WithRegion(c.region))
	}
	if c.profile != "" {
		opts = append(opts, config.WithSharedConfigProfile(c.profile))
	}
	cfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return nil, &exitError{code: exitUsage, msg: fmt.Sprintf("AWS configuration: %v", err)}
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
	if dynamodb.NewFromConfig(cfg, override...).Options().BaseEndpoint == nil {
		if cfg.Region == "" {
			return nil, usageError("", "no AWS region configured: pass --region, set AWS_REGION, or set a region in your AWS profile")
		}
		return dynamodb.NewFromConfig(cfg, override...), nil
	}
	if cfg.Region == "" {
		override = append(override, func(o *dynamodb.Options) { o.Region = localRegion })
	}
	// DynamoDB Local and other emulators omit the X-Amz-Crc32 header on
	// error responses, such as the failed conditions of a contended lock,
	// and this SDK version then checks the body against 0 and logs a
	// warning on stderr for each (aws/aws-sdk-go-v2#3545). With a custom
	// endpoint the check is off; against AWS it stays on.
	override = append(override, func(o *dynamodb.Options) { o.DisableValidateResponseChecksum = true })
	if !haveCredentials(ctx, cfg) {
		override = append(override, func(o *dynamodb.Options) {
			o.Credentials = aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
				return aws.Credentials{AccessKeyID: "local", SecretAccessKey: "local", Source: "dynamutex dummy"}, nil
			})
		})
	}
	return dynamodb.NewFromConfig(cfg, override...), nil
}

// haveCredentials reports whether the SDK's credential chain finds any.
func haveCredentials(ctx context.Context, cfg aws.Config) bool {
	if cfg.Credentials == nil {
		return false
	}
	ctx, cancel := context.WithTimeout(ctx, credentialProbeTimeout)
	defer cancel()
	_, err := cfg.Credentials.Retrieve(ctx)
	return err == nil
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
