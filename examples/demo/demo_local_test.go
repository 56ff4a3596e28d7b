//go:build dynamodblocal

package main

import (
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/dynamutex/dynamutex/internal/localdb"
)

// TestDemo builds the demo and runs it as `make demo` does, so that the
// README's first command cannot rot.
func TestDemo(t *testing.T) {
	localdb.Endpoint(t) // the demo finds it through the SDK's default configuration
	bin := filepath.Join(t.TempDir(), "demo")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	cmd := exec.Command(bin, "-duration", "7s")
	start := time.Now()
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("demo failed after %v: %v\n%s", time.Since(start), err, out)
	}
	text := string(out)
	if strings.Contains(text, "DID NOT INCREASE") {
		t.Fatalf("a token did not increase:\n%s", text)
	}
	if !strings.Contains(text, "Acquisitions by worker: [") {
		t.Fatalf("no acquisitions by worker reported:\n%s", text)
	}
	m := regexp.MustCompile(`its lock was taken over (\S+) later`).FindStringSubmatch(text)
	if m == nil {
		t.Fatalf("no takeover reported:\n%s", text)
	}
	took, err := time.ParseDuration(m[1])
	if err != nil {
		t.Fatal(err)
	}
	if took < lease {
		t.Fatalf("takeover after %v, sooner than the %v lease:\n%s", took, lease, text)
	}
	t.Logf("takeover after %v", took)
}
