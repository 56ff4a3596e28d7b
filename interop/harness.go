package interop

import (
	"context"
	"net/http"
	"os"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
)

// envDefaults fill in what DynamoDB Local needs but ignores, when the
// environment has none: the SDKs refuse to sign a request without them.
var envDefaults = map[string]string{
	"AWS_REGION":            "us-east-1",
	"AWS_DEFAULT_REGION":    "us-east-1", // boto3 reads this one
	"AWS_ACCESS_KEY_ID":     "interop",
	"AWS_SECRET_ACCESS_KEY": "interop",
}

// Harness is one test run's view of DynamoDB Local and the installed drivers.
type Harness struct {
	Install
	// Endpoint is the DynamoDB Local URL every client is pointed at.
	Endpoint string
	// DB is the harness's own client, for creating tables and reading raw
	// items. Close its idle connections with Close.
	DB *dynamodb.Client

	transport *http.Transport
	env       []string
}

// New finds the endpoint and the installed drivers, failing with
// ErrNoEndpoint or ErrNotInstalled.
func New() (*Harness, error) {
	ep, err := Endpoint()
	if err != nil {
		return nil, err
	}
	in, err := FindInstall()
	if err != nil {
		return nil, err
	}
	h := &Harness{Install: in, Endpoint: ep, transport: &http.Transport{}}
	h.env = childEnv(ep)
	get := func(k string) string { return lookup(h.env, k) }
	h.DB = dynamodb.New(dynamodb.Options{
		Region:       get("AWS_REGION"),
		BaseEndpoint: aws.String(ep),
		Credentials:  credentials.NewStaticCredentialsProvider(get("AWS_ACCESS_KEY_ID"), get("AWS_SECRET_ACCESS_KEY"), os.Getenv("AWS_SESSION_TOKEN")),
		HTTPClient:   &http.Client{Transport: h.transport},
	})
	return h, nil
}

// Close drops the harness client's idle connections, whose goroutines would
// otherwise outlive the tests.
func (h *Harness) Close() { h.transport.CloseIdleConnections() }

// Start runs a driver of kind named owner, logging to logDir.
func (h *Harness) Start(kind Kind, owner, logDir string) (*Driver, error) {
	return h.Install.Start(kind, owner, h.env, logDir)
}

// childEnv is this process's environment with the endpoint under the name
// both clients' SDKs read and the defaults filled in.
func childEnv(endpoint string) []string {
	env := append(os.Environ(), "AWS_ENDPOINT_URL_DYNAMODB="+endpoint)
	for k, v := range envDefaults {
		if lookup(env, k) == "" {
			env = append(env, k+"="+v)
		}
	}
	return env
}

// lookup is the last value of k in env, as exec would pass it on.
func lookup(env []string, k string) string {
	v := ""
	for _, kv := range env {
		if name, val, ok := strings.Cut(kv, "="); ok && name == k {
			v = val
		}
	}
	return v
}

// ctx is the context for the harness's own requests, which are few and short.
func ctx() context.Context { return context.Background() }
