package interop

import (
	"sort"
	"sync"
	"testing"
	"time"
)

// interval is one holding of the lock as the harness saw it: from the
// acquire's reply to the release's request. It lies inside the real holding,
// so two that overlap prove the client let two processes hold the lock.
type interval struct {
	owner      string
	start, end time.Time
}

// Two processes of the same client take turns on one key. This checks the
// harness as much as the clients: it must see every turn, and no overlap.
func TestSameClientContention(t *testing.T) {
	for _, kind := range []Kind{Java, Python} {
		t.Run(string(kind), func(t *testing.T) { contend(t, kind) })
	}
}

func contend(t *testing.T, kind Kind) {
	const rounds = 4
	h := setup(t)
	tbl := createTable(t, h, kind)
	drivers := []*Driver{start(t, h, kind, string(kind)+"-a"), start(t, h, kind, string(kind)+"-b")}

	var mu sync.Mutex
	var seen []interval
	var wg sync.WaitGroup
	errs := make(chan error, len(drivers))
	for _, d := range drivers {
		wg.Go(func() {
			for range rounds {
				r, err := d.Call(lockCmd("acquire", tbl, "contended"), time.Minute)
				if err == nil && !r.OK {
					err = replyError(d, r)
				}
				if err != nil {
					errs <- err
					return
				}
				iv := interval{owner: d.Owner, start: time.Now()}
				time.Sleep(150 * time.Millisecond)
				iv.end = time.Now()
				mu.Lock()
				seen = append(seen, iv)
				mu.Unlock()
				if r, err = d.Call(lockCmd("release", tbl, "contended"), time.Minute); err == nil && !r.OK {
					err = replyError(d, r)
				}
				if err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if len(seen) != 2*rounds {
		t.Fatalf("saw %d holdings, want %d", len(seen), 2*rounds)
	}
	sort.Slice(seen, func(i, j int) bool { return seen[i].start.Before(seen[j].start) })
	for i := 1; i < len(seen); i++ {
		if p, c := seen[i-1], seen[i]; c.start.Before(p.end) {
			t.Errorf("%s held the lock from %v while %s held it until %v", c.owner, c.start, p.owner, p.end)
		}
	}
}
