package interop

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
)

// Dynamutex is the kind of a dxdriver process: a dynamutex Session behind
// the same protocol as the other clients' drivers (cmd/dxdriver).
const Dynamutex Kind = "dynamutex"

// dxBuild builds cmd/dxdriver once per process, into a temporary folder
// that RemoveDxdriver deletes.
var dxBuild struct {
	once sync.Once
	dir  string
	path string
	err  error
}

// Dxdriver returns the path of a dxdriver binary built from this working
// tree (go build, once per process), so that no test needs anything
// installed by hand. The interop module's folder must be the current one,
// as it is under go test.
func Dxdriver() (string, error) {
	dxBuild.once.Do(func() {
		dxBuild.dir, dxBuild.err = os.MkdirTemp("", "dxdriver-")
		if dxBuild.err != nil {
			return
		}
		path := filepath.Join(dxBuild.dir, "dxdriver")
		out, err := exec.Command("go", "build", "-o", path, "./cmd/dxdriver").CombinedOutput()
		if err != nil {
			dxBuild.err = fmt.Errorf("interop: go build ./cmd/dxdriver: %w\n%s", err, out)
			return
		}
		dxBuild.path = path
	})
	return dxBuild.path, dxBuild.err
}

// RemoveDxdriver deletes the folder Dxdriver built into, if it did.
func RemoveDxdriver() {
	if dxBuild.dir != "" {
		_ = os.RemoveAll(dxBuild.dir)
	}
}
