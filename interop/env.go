package interop

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// ErrNoEndpoint means AWS_ENDPOINT_URL_DYNAMODB is not set. The harness
// talks only to DynamoDB Local, never to a default AWS endpoint, so it
// refuses to guess one.
var ErrNoEndpoint = errors.New("interop: set AWS_ENDPOINT_URL_DYNAMODB to a DynamoDB Local endpoint; make interop does, through scripts/with-dynamodb-local.sh")

// ErrNotInstalled means a driver's build output is missing from the cache.
// Run scripts/install-interop.sh, or make interop, which runs it.
var ErrNotInstalled = errors.New("interop: drivers not installed; run scripts/install-interop.sh")

// Endpoint returns the DynamoDB endpoint from AWS_ENDPOINT_URL_DYNAMODB, the
// variable the AWS SDK reads, as the rest of the repository does.
func Endpoint() (string, error) {
	if v := os.Getenv("AWS_ENDPOINT_URL_DYNAMODB"); v != "" {
		return v, nil
	}
	return "", ErrNoEndpoint
}

// Install is where scripts/install-interop.sh put the drivers.
type Install struct {
	// Cache is the folder the script prints, .cache/interop by default.
	Cache string
	// Source is the interop folder of the repository, which holds the Python
	// driver's script (the venv holds only the libraries).
	Source string
}

// FindInstall locates the drivers: INTEROP_CACHE if set, else .cache/interop
// at the repository root, which is the parent of the interop module's folder
// where go test runs. It fails with ErrNotInstalled when a driver is missing.
func FindInstall() (Install, error) {
	src, err := filepath.Abs(".")
	if err != nil {
		return Install{}, err
	}
	cache := os.Getenv("INTEROP_CACHE")
	if cache == "" {
		cache = filepath.Join(src, "..", ".cache", "interop")
	}
	in := Install{Cache: cache, Source: src}
	for _, f := range []string{in.javaJar(), in.python(), in.pythonDriver()} {
		if _, err := os.Stat(f); err != nil {
			return Install{}, fmt.Errorf("%w (%s is missing)", ErrNotInstalled, f)
		}
	}
	return in, nil
}

func (in Install) javaJar() string      { return filepath.Join(in.Cache, "java", "javadriver.jar") }
func (in Install) python() string       { return filepath.Join(in.Cache, "venv", "bin", "python") }
func (in Install) pythonDriver() string { return filepath.Join(in.Source, "python", "driver.py") }
