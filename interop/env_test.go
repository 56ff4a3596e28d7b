package interop

import (
	"errors"
	"testing"
)

func TestEndpointIsTheSDKVariable(t *testing.T) {
	t.Setenv("AWS_ENDPOINT_URL_DYNAMODB", "")
	if _, err := Endpoint(); !errors.Is(err, ErrNoEndpoint) {
		t.Fatalf("no variable set: got %v, want ErrNoEndpoint", err)
	}
	t.Setenv("AWS_ENDPOINT_URL_DYNAMODB", "http://local")
	if ep, _ := Endpoint(); ep != "http://local" {
		t.Fatalf("got %q, want the AWS_ENDPOINT_URL_DYNAMODB value", ep)
	}
}

func TestMissingDriversAreAnError(t *testing.T) {
	t.Setenv("INTEROP_CACHE", t.TempDir())
	if _, err := FindInstall(); !errors.Is(err, ErrNotInstalled) {
		t.Fatalf("empty cache: got %v, want ErrNotInstalled", err)
	}
}
