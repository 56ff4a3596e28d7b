package interop

import (
	"testing"
	"time"
)

// Releases pass in both directions without waiting out a lease. dynamutex's
// release in Java's format is a keep-release (isReleased "1"), which a Java
// try takes at once; in Python's format it cuts the lease to 1 ms, which a
// Python waiter takes at its next poll. The clients' releases (Java's keep
// and delete, Python's delete) let a dynamutex TryLock take the lock at once.
func TestReleasesCrossClients(t *testing.T) {
	t.Run("java", releasesJava)
	t.Run("python", releasesPython)
}

func releasesJava(t *testing.T) {
	h := setup(t)
	tbl := createFormatTable(t, h, Java)
	dx := start(t, h, Dynamutex, "dynamutex-a")
	j := start(t, h, Java, "java-a")

	mustOK(t, dx, dxCmd("acquire", tbl, "k", Java))
	if r := call(t, j, lockCmd("try", tbl, "k")); r.OK || r.Class != "LockCurrentlyUnavailableException" {
		t.Fatalf("Java try of a key dynamutex holds: %+v, want LockCurrentlyUnavailableException", r)
	}
	mustOK(t, dx, dxCmd("release", tbl, "k", Java))
	if r := call(t, j, lockCmd("try", tbl, "k")); !r.OK || r.Owner != j.Owner {
		t.Fatalf("Java try after dynamutex released: %+v, want the lock at once", r)
	}

	keep := lockCmd("release", tbl, "k")
	keep.Keep = true
	mustOK(t, j, keep)
	if r := call(t, dx, dxCmd("try", tbl, "k", Java)); !r.OK {
		t.Fatalf("dynamutex try after Java's keep-release: %+v, want the lock at once", r)
	}
	mustOK(t, dx, dxCmd("release", tbl, "k", Java))

	mustOK(t, j, lockCmd("try", tbl, "k"))
	mustOK(t, j, lockCmd("release", tbl, "k"))
	if item := (lockItem{h, Java, tbl, "k"}).raw(t); item != nil {
		t.Fatalf("Java's default release left %s", fixtureOf(t, item))
	}
	if r := call(t, dx, dxCmd("try", tbl, "k", Java)); !r.OK {
		t.Fatalf("dynamutex try after Java's delete: %+v, want the lock at once", r)
	}
}

func releasesPython(t *testing.T) {
	h := setup(t)
	tbl := createFormatTable(t, h, Python)
	dx := start(t, h, Dynamutex, "dynamutex-a")
	p := start(t, h, Python, "python-a")

	mustOK(t, dx, dxCmd("acquire", tbl, "k", Python))
	if err := p.Send(lockCmd("acquire", tbl, "k")); err != nil {
		t.Fatal(err)
	}
	// Several polls of the waiter, with a heartbeat of the holder among them.
	time.Sleep(3 * heartbeatMS * time.Millisecond)
	released := time.Now()
	mustOK(t, dx, dxCmd("release", tbl, "k", Python))
	r, err := p.Expect(time.Minute)
	took := time.Since(released)
	if err != nil || !r.OK || r.Owner != p.Owner {
		t.Fatalf("Python acquire waiting on dynamutex's lock: %+v %v, want the lock after the release", r, err)
	}
	t.Logf("Python took the lock %v after dynamutex's release began (poll %d ms)", took.Round(time.Millisecond), lockCmd("", "", "").RefreshMS)
	// Without the release, the waiter would watch a version for a whole lease.
	if took >= leaseMS*time.Millisecond {
		t.Errorf("Python took %v after the release, a lease or more: it waited the record out instead of seeing it free", took)
	}

	mustOK(t, p, lockCmd("release", tbl, "k"))
	if r := call(t, dx, dxCmd("try", tbl, "k", Python)); !r.OK {
		t.Fatalf("dynamutex try after Python's release: %+v, want the lock at once", r)
	}
}
