package interop

import (
	"context"
	"testing"
	"time"

	"github.com/dynamutex/dynamutex"
)

// FormatPython documents "-" as the sort key value of a Mutex given none,
// as python-dynamodb-lock writes; a Session must take NewMutex(key) on the
// Python table and write sort_key "-".
func TestPythonFormatDefaultSortValue(t *testing.T) {
	h := setup(t)
	tbl := createFormatTable(t, h, Python)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	s, err := dynamutex.NewSession(ctx, h.DB, tbl, dynamutex.WithFormat(dynamutex.FormatPython))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close(ctx)
	m := s.NewMutex("k")
	if _, err := m.TryLock(ctx); err != nil {
		t.Fatalf("TryLock of NewMutex(\"k\") with FormatPython and no WithSortKeyValue: %v; want the lock, sort_key \"-\"", err)
	}
	defer m.Unlock(ctx)
	if item := (lockItem{h, Python, tbl, "k"}).raw(t); item == nil {
		t.Errorf("no item at lock_key \"k\", sort_key %q", PythonDefaultSort)
	}
}
