package dynamutex_test

import (
	"testing"

	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"

	"github.com/dynamutex/dynamutex"
)

// TestDefaultParallelismFitsSDKPool keeps the heartbeat loop's default limit
// within the idle pool of the SDK's default client: an SDK that keeps fewer
// idle connections would have renewals dial new ones every period.
func TestDefaultParallelismFitsSDKPool(t *testing.T) {
	if dynamutex.DefaultParallelism > awshttp.DefaultHTTPTransportMaxIdleConnsPerHost {
		t.Fatalf("DefaultParallelism %d is more than the %d idle connections per host the SDK's default client keeps",
			dynamutex.DefaultParallelism, awshttp.DefaultHTTPTransportMaxIdleConnsPerHost)
	}
}
