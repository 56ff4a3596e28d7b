package interop

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"
)

var update = flag.Bool("update", false, "rewrite testdata/*.json from what the clients write")

func TestMain(m *testing.M) {
	flag.Parse()
	code := m.Run()
	RemoveDxdriver()
	if code == 0 {
		if err := goleak.Find(); err != nil {
			fmt.Fprintln(os.Stderr, "goleak: goroutines left running after the tests:", err)
			code = 1
		}
	}
	os.Exit(code)
}

// setup fails the test, never skips it, when there is no endpoint or the
// drivers are not installed: a run that proves nothing must not pass.
func setup(t *testing.T) *Harness {
	t.Helper()
	h, err := New()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(h.Close)
	return h
}

// start runs a driver that the test's clean-up closes; its log is printed
// when the test fails.
func start(t *testing.T, h *Harness, kind Kind, owner string) *Driver {
	t.Helper()
	d, err := h.Start(kind, owner, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		d.Close()
		if t.Failed() {
			t.Logf("log of %s:\n%s", d.Owner, d.tail())
		}
	})
	return d
}

// call sends c and fails the test if no reply comes; the reply's OK is the
// caller's to check.
func call(t *testing.T, d *Driver, c Command) Reply {
	t.Helper()
	timeout := 30*time.Second + time.Duration(c.WaitMS+c.LeaseMS+c.MS)*time.Millisecond
	r, err := d.Call(c, timeout)
	if err != nil {
		t.Fatalf("%s %s: %v", d.Owner, c.Op, err)
	}
	return r
}

// mustOK is call for a command that has to succeed.
func mustOK(t *testing.T, d *Driver, c Command) Reply {
	t.Helper()
	r := call(t, d, c)
	if !r.OK {
		t.Fatalf("%s %s %s: %s (%s %s)", d.Owner, c.Op, c.Key, r.Error, r.Class, r.Code)
	}
	return r
}

var tables atomic.Int64

// table is a fresh table name, as every test shares one DynamoDB Local.
func table(t *testing.T) string {
	name := strings.NewReplacer("/", "-", " ", "-").Replace(t.Name())
	return fmt.Sprintf("%s-%d-%d", name, os.Getpid(), tables.Add(1))
}

// createTable makes a table in kind's own layout.
func createTable(t *testing.T, h *Harness, kind Kind) string {
	t.Helper()
	name := table(t)
	create := h.CreateJavaTable
	if kind == Python {
		create = h.CreatePythonTable
	}
	if err := create(name); err != nil {
		t.Fatal(err)
	}
	return name
}

// itemKey is the key of lock k in kind's layout.
func itemKey(kind Kind, k string) map[string]string {
	if kind == Python {
		return map[string]string{PythonPartitionKey: k, PythonSortKey: PythonDefaultSort}
	}
	return map[string]string{JavaPartitionKey: k}
}

// checkFixture compares got with testdata/name, or rewrites it under -update.
func checkFixture(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s: the client wrote\n%s\nbut the fixture says\n%s", path, got, want)
	}
}
