package main

import (
	"context"
	"regexp"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
)

// regionName is what the SDK accepts as a region: host labels, as it puts
// the region into the endpoint's host name. Anything else fails every
// request at endpoint resolution, even against a custom endpoint.
var regionName = regexp.MustCompile(`^[a-zA-Z0-9][a-zA-Z0-9-]{0,62}(\.[a-zA-Z0-9][a-zA-Z0-9-]{0,62})*$`)

// checkRegion resolves the client's endpoint as its first request would,
// so that a region the SDK refuses, or settings that leave no endpoint
// (FIPS with a custom endpoint), end in a configuration error (exit 2)
// before any request instead of a request failure (exit 1). A region that
// is well formed but does not exist still fails at the request, as only
// AWS knows its regions.
func checkRegion(ctx context.Context, c *common, o dynamodb.Options) error {
	if !regionName.MatchString(o.Region) {
		return usageError("", "invalid AWS region %q (from %s): want a region name such as us-east-1",
			o.Region, c.regionSource())
	}
	_, err := o.EndpointResolverV2.ResolveEndpoint(ctx, dynamodb.EndpointParameters{
		Region:       aws.String(o.Region),
		Endpoint:     o.BaseEndpoint,
		UseFIPS:      aws.Bool(o.EndpointOptions.UseFIPSEndpoint == aws.FIPSEndpointStateEnabled),
		UseDualStack: aws.Bool(o.EndpointOptions.UseDualStackEndpoint == aws.DualStackEndpointStateEnabled),
	})
	if err != nil {
		return usageError("", "AWS configuration: no DynamoDB endpoint can be resolved (region %q): %v", o.Region, err)
	}
	return nil
}

// regionSource names where the region came from, for messages.
func (c *common) regionSource() string {
	if c.region != "" {
		return "--region"
	}
	return "AWS_REGION or the AWS profile"
}
