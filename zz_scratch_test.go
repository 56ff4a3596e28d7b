package dynamutex_test

import (
	"context"
	"os"
	"runtime"
	"runtime/pprof"
	"strconv"
	"testing"
	"time"

	"github.com/dynamutex/dynamutex"
	"github.com/dynamutex/dynamutex/dynamutextest"
)

func TestZZHeapScratch(t *testing.T) {
	runtime.MemProfileRate = 1
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	st := dynamutextest.New()
	if err := dynamutex.CreateTable(ctx, st, "locks"); err != nil {
		t.Fatal(err)
	}
	s, err := dynamutex.NewSession(ctx, st, "locks", dynamutex.WithLeaseDuration(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close(ctx)
	n := 5000
	keys := make([]string, n)
	for i := range keys {
		keys[i] = "held/" + strconv.Itoa(i)
	}
	ms := make([]*dynamutex.Mutex, n)
	lc := make([]context.Context, n)
	// records exist first, so that the store's growth is not charged
	for i := range keys {
		m := s.NewMutex(keys[i])
		if _, err := m.Lock(ctx); err != nil {
			t.Fatal(err)
		}
		m.Unlock(ctx)
	}
	base := liveHeap()
	for i := range keys {
		ms[i] = s.NewMutex(keys[i])
		lc[i], err = ms[i].Lock(ctx)
		if err != nil {
			t.Fatal(err)
		}
	}
	h := liveHeap()
	t.Logf("heap/lock %.1f objs/lock %.2f", float64(h.bytes-base.bytes)/float64(n), float64(h.objects-base.objects)/float64(n))
	f, _ := os.Create("/tmp/conn-heap.pprof")
	pprof.Lookup("heap").WriteTo(f, 0)
	f.Close()
	for i := range keys {
		ms[i].Unlock(ctx)
	}
	runtime.KeepAlive(lc)
}
