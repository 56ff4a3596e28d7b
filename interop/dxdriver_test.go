package interop

import (
	"context"
	"testing"
	"time"

	"github.com/dynamutex/dynamutex"
)

// Helpers for tests that run dynamutex holders as dxdriver processes.

// formatOf is the dynamutex format that writes kind's layout.
func formatOf(kind Kind) dynamutex.Format {
	if kind == Python {
		return dynamutex.FormatPython
	}
	return dynamutex.FormatJava
}

// dxCmd is lockCmd for a dxdriver whose Session writes kind's format.
func dxCmd(op, tbl, key string, kind Kind) Command {
	c := lockCmd(op, tbl, key)
	c.Format = formatOf(kind).String()
	if kind == Python {
		// Named, not left to the format's default: see
		// TestPythonFormatDefaultSortValue.
		c.Sort = PythonDefaultSort
	}
	return c
}

// createFormatTable makes kind's table with dynamutex.CreateTable and
// WithFormat, which must make the table that client works on.
func createFormatTable(t *testing.T, h *Harness, kind Kind) string {
	t.Helper()
	name := table(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := dynamutex.CreateTable(ctx, h.DB, name, dynamutex.WithFormat(formatOf(kind))); err != nil {
		t.Fatal(err)
	}
	return name
}

// crossSetup starts what most cross-client tests begin with: kind's table
// made by dynamutex, a dynamutex driver "dynamutex-a", a driver of kind
// named kind+suffix, and the lock "k" in that table.
func crossSetup(t *testing.T, kind Kind, suffix string) (it lockItem, dx, c *Driver) {
	t.Helper()
	h := setup(t)
	tbl := createFormatTable(t, h, kind)
	dx = start(t, h, Dynamutex, "dynamutex-a")
	c = start(t, h, kind, string(kind)+suffix)
	return lockItem{h, kind, tbl, "k"}, dx, c
}

// The dxdriver speaks the protocol: it starts, takes, reports and releases
// a lock in each format, and state tells a live lock from a released one.
func TestDxdriverProtocol(t *testing.T) {
	h := setup(t)
	for _, kind := range []Kind{Java, Python} {
		tbl := createFormatTable(t, h, kind)
		dx := start(t, h, Dynamutex, "dynamutex-"+string(kind))
		got := mustOK(t, dx, dxCmd("acquire", tbl, "k", kind))
		if got.Owner != dx.Owner || got.Token == 0 || got.RVN == "" || got.TNS == 0 {
			t.Errorf("%s: acquire replied %+v, want owner, token, version and time", kind, got)
		}
		if r := mustOK(t, dx, dxCmd("state", tbl, "k", kind)); r.Status != "LOCKED" {
			t.Errorf("%s: state of a held lock: %+v, want LOCKED", kind, r)
		}
		if r := call(t, dx, dxCmd("try", tbl, "k", kind)); r.OK || r.Class != "AlreadyHeld" {
			t.Errorf("%s: a second try in the same driver: %+v, want AlreadyHeld", kind, r)
		}
		if r := mustOK(t, dx, dxCmd("release", tbl, "k", kind)); r.Status != "LOCKED" {
			t.Errorf("%s: release of a held lock: %+v, want it LOCKED until then", kind, r)
		}
		if r := mustOK(t, dx, dxCmd("state", tbl, "k", kind)); r.Status != "RELEASED" {
			t.Errorf("%s: state after release: %+v, want RELEASED", kind, r)
		}
		if r := call(t, dx, dxCmd("release", tbl, "k", kind)); r.OK || r.Class != "NotHeld" {
			t.Errorf("%s: a second release: %+v, want NotHeld", kind, r)
		}
	}
}
