//go:build unix && dynamodblocal

package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// A job appends "start ID PGID NANOS" and, unless killed, "end ID NANOS"
// to $LEDGER, with O_APPEND (>>), so that lines of concurrent jobs never
// mix.
const (
	slotJob    = `echo "start $ID $$ $(date +%s%N)" >> "$LEDGER"; sleep 0.2; echo "end $ID $(date +%s%N)" >> "$LEDGER"`
	slotVictim = `echo "start $ID $$ $(date +%s%N)" >> "$LEDGER"; exec sleep 60`
	// slotWrapper runs the tool in the background and records its pid, so
	// that the test can kill -9 it while the shell, which the harness waits
	// for, exits normally.
	slotWrapper = `"$BIN" "$@" & echo $! > "$PIDFILE"; wait $!; exit 0`
)

// Twelve processes contend for a semaphore of 3 permits, after the three
// processes that held them were killed with kill -9: never more than 3 jobs
// run at once, the dead holders' permits are taken over after their lease
// (none leaks), and every contender is served.
func TestSlotsTwelveProcesses(t *testing.T) {
	h := newHarness(t)
	ledger := h.path("ledger")
	slots := []string{"--key", "deploys", "--slots", "3", "--lease", "1s"}
	var victims []int
	for i := range 3 {
		pidfile := h.path(fmt.Sprintf("pid%d", i))
		args := append(append([]string{"-c", slotWrapper, "sh"}, h.args("run", slots...)...), "--", "sh", "-c", slotVictim)
		h.startProgram([]string{"BIN=" + binary, "PIDFILE=" + pidfile, "LEDGER=" + ledger, fmt.Sprintf("ID=v%d", i)},
			"sh", args...)
		pid, err := strconv.Atoi(strings.TrimSpace(waitFile(t, pidfile)))
		if err != nil {
			t.Fatal(err)
		}
		victims = append(victims, pid)
	}
	waitFor(t, func() bool { return len(readLedger(t, ledger).starts) == 3 })
	killed := time.Now()
	for _, pid := range victims {
		_ = syscall.Kill(pid, syscall.SIGKILL)
	}
	f, err := os.OpenFile(ledger, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	for id, s := range readLedger(t, ledger).starts {
		_ = syscall.Kill(-s.pgid, syscall.SIGKILL) // the job dies with its holder
		fmt.Fprintf(f, "end %s %d\n", id, killed.UnixNano())
	}
	f.Close()

	var procs []*proc
	for i := range 12 {
		procs = append(procs, h.start([]string{"LEDGER=" + ledger, fmt.Sprintf("ID=c%d", i)},
			append(h.args("run", slots...), "--", "sh", "-c", slotJob)...))
	}
	for _, p := range procs {
		if r := p.wait(); r.code != 0 {
			t.Errorf("contender: %s", r)
		}
	}
	l := readLedger(t, ledger)
	if most := l.most(); most > 3 {
		t.Errorf("%d jobs ran at once, want at most 3", most)
	}
	for i := range 12 {
		if _, ok := l.starts[fmt.Sprintf("c%d", i)]; !ok {
			t.Errorf("contender c%d never ran", i)
		}
	}
	if first := l.firstStart("c"); first.Sub(killed) < time.Second {
		t.Errorf("a contender started %v after the kills, before a lease could pass", first.Sub(killed))
	}
}

type ledgerStart struct {
	pgid int
	at   int64
}

type ledgerView struct {
	starts map[string]ledgerStart
	events [][2]int64 // time, +1 or -1
}

func readLedger(t *testing.T, path string) ledgerView {
	t.Helper()
	l := ledgerView{starts: map[string]ledgerStart{}}
	f, err := os.Open(path)
	if os.IsNotExist(err) {
		return l
	} else if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fs := strings.Fields(sc.Text())
		switch {
		case len(fs) == 4 && fs[0] == "start":
			pgid, _ := strconv.Atoi(fs[2])
			at, _ := strconv.ParseInt(fs[3], 10, 64)
			l.starts[fs[1]] = ledgerStart{pgid: pgid, at: at}
			l.events = append(l.events, [2]int64{at, 1})
		case len(fs) == 3 && fs[0] == "end":
			at, _ := strconv.ParseInt(fs[2], 10, 64)
			l.events = append(l.events, [2]int64{at, -1})
		}
	}
	return l
}

// most is the most jobs between their start and end lines at once; ends
// sort before starts at the same instant.
func (l ledgerView) most() int {
	ev := append([][2]int64(nil), l.events...)
	sort.Slice(ev, func(i, j int) bool {
		return ev[i][0] < ev[j][0] || ev[i][0] == ev[j][0] && ev[i][1] < ev[j][1]
	})
	n, most := 0, 0
	for _, e := range ev {
		n += int(e[1])
		most = max(most, n)
	}
	return most
}

func (l ledgerView) firstStart(prefix string) time.Time {
	first := int64(1<<63 - 1)
	for id, s := range l.starts {
		if strings.HasPrefix(id, prefix) {
			first = min(first, s.at)
		}
	}
	return time.Unix(0, first)
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("timed out")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// status --slots and list show a semaphore as one entry, holders out of
// n, and run --slots --no-wait is busy when every permit is held.
func TestSlotsStatusListBusy(t *testing.T) {
	h := newHarness(t)
	var holders []*holder
	for i := range 3 {
		ho := &holder{ready: h.path(fmt.Sprintf("r%d", i)), stop: h.path("stop")}
		args := h.args("run", "--key", "jobs", "--slots", "3", "--", "sh", "-c", holdScript)
		ho.proc = h.start([]string{"READY=" + ho.ready, "STOP=" + ho.stop}, args...)
		waitFile(t, ho.ready)
		holders = append(holders, ho)
	}
	r := h.exec(nil, h.args("run", "--key", "jobs", "--slots", "3", "--no-wait", "--", "true")...)
	if r.code != exitBusy || !strings.Contains(r.stderr, `semaphore "jobs" is busy: all 3 slots held`) {
		t.Errorf("--no-wait with every slot held: %s", r)
	}
	var sv semaphoreView
	r = h.exec(nil, h.args("status", "jobs", "--slots", "3", "--json")...)
	if err := json.Unmarshal([]byte(r.stdout), &sv); err != nil || sv.Holders != 3 || sv.Slots != 3 ||
		len(sv.Permits) != 3 || sv.Permits[2].Limit != 3 {
		t.Errorf("status --slots 3: %+v (%v)\n%s", sv, err, r)
	}
	r = h.exec(nil, h.args("list")...)
	if !strings.Contains(r.stdout, "SEMAPHORE") || !strings.Contains(r.stdout, "3 of 3") {
		t.Errorf("list shows no semaphore 3 of 3:\n%s", r)
	}
	for i, ho := range holders {
		if i == 0 {
			ho.release()
		} else {
			ho.wait()
		}
	}
	r = h.exec(nil, h.args("status", "jobs", "--slots", "3")...)
	if !strings.Contains(r.stdout, "0 of 3") {
		t.Errorf("status after release:\n%s", r)
	}
}
