package dynamutex_test

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/dynamutex/dynamutex"
	"github.com/dynamutex/dynamutex/internal/wire"
)

// BenchmarkLockUnlock is one uncontended Lock+Unlock cycle through the
// library: two conditional writes. Compare with BenchmarkRawTwoWrites.
func BenchmarkLockUnlock(b *testing.B) {
	c, _, sess := setup(b)
	m := sess.NewMutex("bench")
	ctx := context.Background()
	before := c.total()
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if _, err := m.Lock(ctx); err != nil {
			b.Fatal(err)
		}
		if err := m.Unlock(ctx); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(c.total()-before)/float64(b.N), "requests/op")
}

// BenchmarkRawTwoWrites makes the same two conditional writes with the raw
// SDK, with nothing around them: the floor for BenchmarkLockUnlock. The
// writes are the library's own, as package wire builds them (the clock
// stamp, the claim gate and all), so the floor moves with the format.
func BenchmarkRawTwoWrites(b *testing.B) {
	c, tr := newClient(b)
	table := newTable(b, c)
	ctx := context.Background()
	it := wire.Item{Table: table, PartitionKey: dynamutex.DefaultPartitionKey, Key: "bench"}
	before := tr.total()
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		v, next := uuid.NewString(), uuid.NewString()
		now := time.Now()
		_, err := c.UpdateItem(ctx, wire.Acquire(wire.AcquireArgs{
			Item: it, Owner: "raw", Version: v, Lease: 600 * time.Millisecond,
			Seed: now, Expires: now.Add(time.Hour), Stamp: wire.Stamp{Sent: uint64(now.UnixMilli())},
		}))
		if err != nil {
			b.Fatal(err)
		}
		now = time.Now()
		_, err = c.UpdateItem(ctx, wire.Replace(wire.ReplaceArgs{
			Item: it, Current: []string{v}, Next: next, Released: true,
			Expires: now.Add(time.Hour), Stamp: wire.Stamp{Sent: uint64(now.UnixMilli())},
		}))
		if err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(tr.total()-before)/float64(b.N), "requests/op")
}

func itoa(v int64) string { return strconv.FormatInt(v, 10) }
