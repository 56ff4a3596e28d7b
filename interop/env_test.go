package interop

import (
	"errors"
	"testing"
)

func TestEndpointPrefersTheSDKVariable(t *testing.T) {
	t.Setenv("AWS_ENDPOINT_URL_DYNAMODB", "")
	t.Setenv("DYNAMODB_ENDPOINT", "")
	if _, err := Endpoint(); !errors.Is(err, ErrNoEndpoint) {
		t.Fatalf("no variable set: got %v, want ErrNoEndpoint", err)
	}
	t.Setenv("DYNAMODB_ENDPOINT", "http://old")
	if ep, _ := Endpoint(); ep != "http://old" {
		t.Fatalf("only DYNAMODB_ENDPOINT set: got %q", ep)
	}
	t.Setenv("AWS_ENDPOINT_URL_DYNAMODB", "http://new")
	if ep, _ := Endpoint(); ep != "http://new" {
		t.Fatalf("both set: got %q, want the AWS_ENDPOINT_URL_DYNAMODB value", ep)
	}
}

func TestMissingDriversAreAnError(t *testing.T) {
	t.Setenv("INTEROP_CACHE", t.TempDir())
	if _, err := FindInstall(); !errors.Is(err, ErrNotInstalled) {
		t.Fatalf("empty cache: got %v, want ErrNotInstalled", err)
	}
}
