package chaos

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"

	"github.com/dynamutex/dynamutex"
)

// ErrNoInterop means a mixed run cannot start the real lock client it
// names: scripts/install-interop.sh has not installed it.
var ErrNoInterop = errors.New("the real Java and Python lock clients are not installed: run scripts/install-interop.sh " +
	"(make chaos-java and make chaos-python run it first)")

// Interop is where scripts/install-interop.sh put the drivers of the real
// Java and Python lock clients (interop/README.md). A mixed run starts them
// exactly as the interop harness does: never a stand-in.
type Interop struct {
	// Cache is the folder the script prints: .cache/interop at the
	// repository root, or $INTEROP_CACHE.
	Cache string
	// Source is the repository's interop folder, which holds the Python
	// driver's script (the venv holds only the libraries).
	Source string
}

// DefaultInterop is the install as seen from the repository root, where
// make runs the chaos command.
func DefaultInterop() Interop {
	cache := os.Getenv("INTEROP_CACHE")
	if cache == "" {
		cache = filepath.Join(".cache", "interop")
	}
	return Interop{Cache: cache, Source: "interop"}
}

func (in Interop) javaJar() string      { return filepath.Join(in.Cache, "java", "javadriver.jar") }
func (in Interop) python() string       { return filepath.Join(in.Cache, "venv", "bin", "python") }
func (in Interop) pythonDriver() string { return filepath.Join(in.Source, "python", "driver.py") }

// Check reports, wrapping ErrNoInterop, what is missing to start f's
// driver.
func (in Interop) Check(f dynamutex.Format) error {
	var need []string
	switch f {
	case dynamutex.FormatJava:
		if _, err := exec.LookPath("java"); err != nil {
			return fmt.Errorf("%w (no java on PATH)", ErrNoInterop)
		}
		need = []string{in.javaJar()}
	case dynamutex.FormatPython:
		need = []string{in.python(), in.pythonDriver()}
	default:
		return fmt.Errorf("chaos: no lock client writes the %s format", f)
	}
	for _, p := range need {
		if _, err := os.Stat(p); err != nil {
			return fmt.Errorf("%w (%s is missing)", ErrNoInterop, p)
		}
	}
	return nil
}

// command is the driver process of f's client, as the interop harness
// starts it.
func (in Interop) command(f dynamutex.Format) *exec.Cmd {
	if f == dynamutex.FormatJava {
		return exec.Command("java", "-jar", in.javaJar())
	}
	return exec.Command(in.python(), in.pythonDriver())
}

// driverEnv is the environment of a driver: this process's, with the
// endpoint under the name both clients' SDKs read, the region and dummy
// keys DynamoDB Local ignores but the SDKs require, and the owner name.
func driverEnv(endpoint, owner string) []string {
	env := append(os.Environ(), "AWS_ENDPOINT_URL_DYNAMODB="+endpoint, "INTEROP_OWNER="+owner)
	for k, v := range map[string]string{"AWS_REGION": "us-east-1", "AWS_DEFAULT_REGION": "us-east-1",
		"AWS_ACCESS_KEY_ID": "chaos", "AWS_SECRET_ACCESS_KEY": "chaos"} {
		if os.Getenv(k) == "" {
			env = append(env, k+"="+v)
		}
	}
	return env
}
