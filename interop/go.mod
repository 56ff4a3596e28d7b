module github.com/dynamutex/dynamutex/interop

go 1.26.0

// The harness lives in its own module so that plain `go test ./...` at the
// repository root never needs Java or Python. Tests that drive dynamutex
// itself against the other clients use the working tree, not a release.
replace github.com/dynamutex/dynamutex => ../

require (
	github.com/aws/aws-sdk-go-v2 v1.48.0
	github.com/aws/aws-sdk-go-v2/credentials v1.20.16
	github.com/aws/aws-sdk-go-v2/service/dynamodb v1.73.2
	github.com/cenkalti/backoff/v4 v4.3.0
	github.com/dynamutex/dynamutex v0.0.0-00010101000000-000000000000
	github.com/google/uuid v1.6.0
	go.uber.org/goleak v1.3.0
)

require (
	github.com/aws/aws-sdk-go-v2/internal/configsources v1.5.11 // indirect
	github.com/aws/aws-sdk-go-v2/internal/endpoints/v2 v2.8.11 // indirect
	github.com/aws/aws-sdk-go-v2/service/internal/accept-encoding v1.13.24 // indirect
	github.com/aws/aws-sdk-go-v2/service/internal/endpoint-discovery v1.13.11 // indirect
	github.com/aws/smithy-go v1.28.9 // indirect
	golang.org/x/sync v0.24.0 // indirect
)
