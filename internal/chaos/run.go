package chaos

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"sync"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/dynamutex/dynamutex"
)

// Config is a whole run.
type Config struct {
	Endpoint   string
	Binary     string   // the program to start as a worker
	WorkerArgs []string // arguments before the worker's own flags
	Out        string   // folder for the event log, worker logs and the report

	Procs      int // worker processes alive at a time
	Goroutines int
	Keys       int
	Duration   time.Duration
	Lease      time.Duration
	Wait       time.Duration
	Hold       time.Duration
	Faults     Faults
	KillEvery  time.Duration // 0: no kills
	PauseEvery time.Duration // 0: no pauses
	Seed       uint64
	Clock      ClockPlan // the zero ClockPlan: an ordinary run
	// ExpectEarly: the run passes only if the checker catches the rogue's
	// early takeovers (Params.ExpectEarly).
	ExpectEarly bool

	// Mixed, when FormatJava or FormatPython, makes a mixed run: the lock
	// table is that client's, the dynamutex workers write its format, and
	// Clients processes of the real client (Interop) contend beside them.
	Mixed   dynamutex.Format
	Clients int
	Interop Interop
	Refresh time.Duration // how often a waiting client polls the table

	// SessionLease makes a session-lease run: the workers in odd slots (and
	// their replacements) use WithSessionLease, the others per-lock
	// Sessions, on the same keys; every other kill or pause aims at a
	// session-lease worker, the one holding the most locks.
	SessionLease bool
	// Election makes an election run: every worker's goroutines campaign
	// on one election (election.go).
	Election bool

	// Semaphore, when positive, makes a semaphore run: every worker
	// goroutine takes permits of one semaphore of that many permits
	// (WorkerConfig.Semaphore) instead of locking keys.
	Semaphore int
}

// sessionLeased reports whether the worker in slot uses a session lease.
func (c Config) sessionLeased(slot int) bool { return c.SessionLease && slot%2 == 1 }

// WorkerFlags are the flags that make Binary run one worker.
func (c Config) WorkerFlags(w WorkerConfig) []string {
	kinds, _ := json.Marshal(w.Faults.Kinds)
	return append(append([]string(nil), c.WorkerArgs...),
		"-worker", strconv.Itoa(w.Proc), "-endpoint", w.Endpoint, "-table", w.Table, "-ledger", w.Ledger,
		"-goroutines", strconv.Itoa(w.Goroutines), "-keys", strconv.Itoa(w.Keys),
		"-lease", w.Lease.String(), "-wait", w.Wait.String(), "-hold", w.Hold.String(),
		"-fault-rate", strconv.FormatFloat(w.Faults.Rate, 'g', -1, 64), "-fault-kinds", string(kinds),
		"-spike", w.Faults.Spike.String(), "-seed", strconv.FormatUint(w.Seed, 10), "-events", w.Events,
		"-clock-bound", w.Clock.Bound.String(), "-clock-offset", w.Clock.Offset.String(), "-format", w.Format.String(),
		"-session-lease="+strconv.FormatBool(w.SessionLease), "-election="+strconv.FormatBool(w.Election),
		"-semaphore", strconv.Itoa(w.Semaphore))
}

// run is the parent's state while workers run.
type run struct {
	cfg    Config
	log    *Log
	rng    *rand.Rand
	table  string
	ledger string

	mu      sync.Mutex
	procs   map[int]*proc
	next    int
	readers sync.WaitGroup
	actions int // kills and pauses so far
	// Session-lease runs: kills and pauses so far, each, and when an
	// action aimed at a session-lease worker first found none holding two
	// locks (zero when none is waiting).
	kills, pauses int
	aimFrom       time.Time
}

type proc struct {
	n       int
	slot    int    // 1..Procs, then the client workers': a replacement takes the slot of the process it replaces
	client  string // the client a client worker's driver runs; "" for a dynamutex worker
	cmd     *exec.Cmd
	stop    func()          // asks the process to finish
	wait    func() error    // waits for it to end
	holding map[string]bool // keys this process holds, from its events
	paused  bool
	gone    bool
	done    chan struct{}
}

// Run creates fresh tables, runs the workers for cfg.Duration while killing
// and pausing them, then checks the event log. The report says whether any
// guarantee was broken; the error is for a run that could not be made.
func Run(ctx context.Context, cfg Config) (*Report, error) {
	if err := os.MkdirAll(cfg.Out, 0o755); err != nil {
		return nil, err
	}
	db := client(cfg.Endpoint, nil, cfg.Lease)
	stamp := time.Now().Format("20060102_150405")
	r := &run{cfg: cfg, rng: rand.New(rand.NewPCG(cfg.Seed, 1)), procs: map[int]*proc{},
		table: "chaos_locks_" + stamp, ledger: "chaos_ledger_" + stamp}
	if err := dynamutex.CreateTable(ctx, db, r.table, dynamutex.WithFormat(cfg.Mixed)); err != nil {
		return nil, fmt.Errorf("chaos: create table %s: %w", r.table, err)
	}
	if err := dynamutex.CreateTable(ctx, db, r.ledger); err != nil {
		return nil, fmt.Errorf("chaos: create table %s: %w", r.ledger, err)
	}
	own, err := os.Create(filepath.Join(cfg.Out, "events-0.jsonl"))
	if err != nil {
		return nil, err
	}
	r.log = NewLog(own, 0)

	started := time.Now()
	for slot := 1; slot <= cfg.Procs+cfg.clients(); slot++ {
		if err := r.start(slot); err != nil {
			r.stopAll()
			own.Close()
			return nil, err
		}
	}
	r.chaos(ctx, started.Add(cfg.Duration))
	stopping := time.Now()
	r.stopAll()
	r.readers.Wait()
	ended := time.Now()
	if err := own.Close(); err != nil {
		return nil, err
	}
	evs, torn, err := merge(cfg.Out, r.next)
	if err != nil {
		return nil, err
	}
	rep := Check(evs, Params{Lease: cfg.Lease, Safe: SafeTime(cfg.Lease),
		Stopping: stopping.UnixNano(), End: ended.UnixNano(), ExpectEarly: cfg.ExpectEarly, Semaphore: cfg.Semaphore})
	rep.Duration = ended.Sub(started)
	rep.TornLines = torn
	r.checkLedger(ctx, db, evs, rep)
	return rep, nil
}

// clients is how many client workers the run has: none unless mixed.
func (c Config) clients() int {
	if c.Mixed == dynamutex.FormatNative {
		return 0
	}
	return c.Clients
}

// start starts process number r.next+1 in slot: a dynamutex worker, or in
// the slots after cfg.Procs a client worker. It is called only from Run's
// goroutine, which alone uses r.rng.
func (r *run) start(slot int) error {
	r.mu.Lock()
	r.next++
	n := r.next
	r.mu.Unlock()
	events, err := os.Create(eventsFile(r.cfg.Out, n))
	if err != nil {
		return err
	}
	logs, err := os.Create(filepath.Join(r.cfg.Out, fmt.Sprintf("worker-%d.log", n)))
	if err != nil {
		events.Close()
		return err
	}
	p := &proc{n: n, slot: slot, holding: map[string]bool{}, done: make(chan struct{})}
	if slot > r.cfg.Procs {
		err = r.startClient(p, events.Name(), logs)
	} else {
		err = r.startWorker(p, events.Name(), logs)
	}
	if err != nil {
		events.Close()
		logs.Close()
		return fmt.Errorf("chaos: start worker %d: %w", n, err)
	}
	r.mu.Lock()
	r.procs[n] = p
	r.mu.Unlock()
	exited := make(chan struct{})
	r.readers.Add(1)
	go func() {
		defer r.readers.Done()
		r.follow(p, events, exited)
		events.Close()
		close(p.done)
	}()
	go func() {
		err := p.wait()
		logs.Close()
		status := "exit 0"
		if err != nil {
			status = err.Error()
		}
		r.mu.Lock()
		p.gone = true
		r.mu.Unlock()
		r.log.Add(Event{Kind: KindExit, Proc: n, Cause: status})
		close(exited)
	}()
	return nil
}

// startWorker starts p as a dynamutex worker process.
func (r *run) startWorker(p *proc, events string, logs *os.File) error {
	w := WorkerConfig{Endpoint: r.cfg.Endpoint, Table: r.table, Ledger: r.ledger, Proc: p.n,
		Goroutines: r.cfg.Goroutines, Keys: r.cfg.Keys, Lease: r.cfg.Lease, Wait: r.cfg.Wait, Hold: r.cfg.Hold,
		Faults: r.cfg.Faults, Seed: r.cfg.Seed*1000 + uint64(p.n), Events: events, Format: r.cfg.Mixed,
		SessionLease: r.cfg.sessionLeased(p.slot), Election: r.cfg.Election, Semaphore: r.cfg.Semaphore}
	if c := r.cfg.Clock; c.Bound > 0 {
		w.Clock = Clock{Bound: c.Bound, Offset: c.offset(p.slot, r.rng)}
	}
	p.cmd = exec.Command(r.cfg.Binary, r.cfg.WorkerFlags(w)...)
	p.cmd.Stdout, p.cmd.Stderr = logs, logs
	p.stop = func() { _ = p.cmd.Process.Signal(syscall.SIGTERM) }
	p.wait = p.cmd.Wait
	return p.cmd.Start()
}

// startClient starts p as a client worker: a driver process of the real
// client, which this process drives from a goroutine and whose events it
// writes to the events file, as p's. Kills and pauses go to the driver.
func (r *run) startClient(p *proc, events string, logs *os.File) error {
	f, err := os.OpenFile(events, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		return err
	}
	p.client = r.cfg.Mixed.String()
	p.cmd = r.cfg.Interop.command(r.cfg.Mixed)
	p.cmd.Env = driverEnv(r.cfg.Endpoint, fmt.Sprintf("%s-proc-%d", p.client, p.n))
	p.cmd.Stderr = logs
	stdin, err := p.cmd.StdinPipe()
	if err != nil {
		f.Close()
		return err
	}
	stdout, err := p.cmd.StdoutPipe()
	if err != nil {
		f.Close()
		return err
	}
	if err := p.cmd.Start(); err != nil {
		f.Close()
		return err
	}
	lines := make(chan []byte, 16)
	go readLines(stdout, lines)
	ctx, cancel := context.WithCancel(context.Background())
	w := &clientWorker{log: NewLog(f, p.n), rng: rand.New(rand.NewPCG(r.cfg.Seed*1000+uint64(p.n), 2)),
		stdin: stdin, lines: lines, cfg: clientConfig{client: p.client, table: r.table, keys: r.cfg.Keys,
			lease: r.cfg.Lease, wait: r.cfg.Wait, hold: r.cfg.Hold, refresh: r.cfg.Refresh}}
	driven := make(chan struct{})
	go func() {
		defer close(driven)
		w.run(ctx)
		stdin.Close()
		for range lines { // exec's Wait must come after the last read
		}
		f.Close()
	}()
	p.stop = cancel
	p.wait = func() error { <-driven; cancel(); return p.cmd.Wait() }
	return nil
}

func eventsFile(dir string, proc int) string {
	return filepath.Join(dir, fmt.Sprintf("events-%d.jsonl", proc))
}

// follow tails a worker's event file to learn which keys it holds, so the
// chaos can aim at holders. Workers write to files, not to a pipe, so that
// a slow parent can never stall them.
func (r *run) follow(p *proc, f *os.File, exited <-chan struct{}) {
	rd := bufio.NewReader(f)
	var partial []byte
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		for {
			line, err := rd.ReadBytes('\n')
			if err != nil {
				partial = append(partial, line...)
				break
			}
			if len(partial) > 0 {
				line, partial = append(partial, line...), nil
			}
			var e Event
			if json.Unmarshal(line, &e) != nil {
				continue
			}
			r.mu.Lock()
			switch e.Kind {
			case KindAcquired:
				p.holding[e.Key] = true
			case KindReleased:
				delete(p.holding, e.Key)
			}
			r.mu.Unlock()
		}
		select {
		case <-exited:
			return
		case <-tick.C:
		}
	}
}

// merge reads the event files of the parent and of workers 1..n. Only the
// last line of a file can be torn, by a SIGKILL; such lines are counted and
// skipped.
func merge(dir string, n int) ([]Event, int, error) {
	var all []Event
	torn := 0
	for i := 0; i <= n; i++ {
		b, err := os.ReadFile(eventsFile(dir, i))
		if err != nil {
			return nil, 0, err
		}
		lines := bytes.Split(b, []byte("\n"))
		for j, line := range lines {
			if len(line) == 0 {
				continue
			}
			var e Event
			if err := json.Unmarshal(line, &e); err != nil {
				if j == len(lines)-1 {
					torn++
					continue
				}
				return nil, 0, fmt.Errorf("chaos: %s line %d: %w", eventsFile(dir, i), j+1, err)
			}
			all = append(all, e)
		}
	}
	sort.SliceStable(all, func(i, j int) bool { return all[i].At < all[j].At })
	f, err := os.Create(filepath.Join(dir, "events.jsonl"))
	if err != nil {
		return nil, 0, err
	}
	w := bufio.NewWriter(f)
	enc := json.NewEncoder(w)
	for _, e := range all {
		if err := enc.Encode(e); err != nil {
			f.Close()
			return nil, 0, err
		}
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return nil, 0, err
	}
	return all, torn, f.Close()
}

// chaos kills and pauses holders until the deadline.
func (r *run) chaos(ctx context.Context, deadline time.Time) {
	next := func(every time.Duration) time.Time {
		if every <= 0 {
			return deadline.Add(time.Hour)
		}
		return time.Now().Add(every/2 + time.Duration(r.rng.Int64N(int64(every))))
	}
	nextKill, nextPause := next(r.cfg.KillEvery), next(r.cfg.PauseEvery)
	var pauses sync.WaitGroup
	defer pauses.Wait()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-tick.C:
			if now.After(deadline) {
				return
			}
			if now.After(nextKill) {
				if p := r.pickHolder(false); p != nil {
					r.log.Add(Event{Kind: KindKill, Proc: p.n})
					_ = p.cmd.Process.Signal(syscall.SIGKILL)
					<-p.done
					if err := r.start(p.slot); err != nil {
						fmt.Fprintln(os.Stderr, "chaos:", err)
					}
					nextKill = next(r.cfg.KillEvery)
				}
			}
			if now.After(nextPause) {
				if p := r.pickHolder(true); p != nil {
					d := r.cfg.Lease*3/2 + time.Duration(r.rng.Int64N(int64(r.cfg.Lease)*3/2))
					r.pause(p, d, &pauses)
					nextPause = next(r.cfg.PauseEvery).Add(d)
				}
			}
		}
	}
}

// pickHolder returns a random live, running process that holds a lock, or
// nil if none does now. With a rogue clock, every other kill or pause aims
// at the rogue and waits until it holds a lock: only a holder that stops
// writing can be taken over early, and the run must show that it is. In a
// session-lease run every other one aims at a session-lease worker and
// waits, for up to three leases, until one holds two locks or more, so
// that its Session loses several together; in an election run, where a
// process holds the election's record alone, until one leads.
func (r *run) pickHolder(pause bool) *proc {
	r.mu.Lock()
	defer r.mu.Unlock()
	aim := r.cfg.Clock.Rogue != 0 && r.actions%2 == 0
	turn := &r.kills
	if pause {
		turn = &r.pauses
	}
	leased := r.cfg.SessionLease && *turn%2 == 0
	need := 1
	if leased && r.cfg.Goroutines > 1 && !r.cfg.Election {
		if r.aimFrom.IsZero() {
			r.aimFrom = time.Now()
		}
		if time.Since(r.aimFrom) < 3*r.cfg.Lease {
			need = 2
		}
	}
	var c []*proc
	for _, p := range r.procs {
		if p.gone || p.paused || len(p.holding) < need || aim && p.slot != rogueSlot || leased && !r.cfg.sessionLeased(p.slot) {
			continue
		}
		c = append(c, p)
	}
	if len(c) == 0 {
		return nil
	}
	r.actions++
	*turn++
	if leased {
		r.aimFrom = time.Time{}
	}
	return c[r.rng.IntN(len(c))]
}

// pause stops p for d with SIGSTOP. The stop event is logged before the
// signal and the cont event after, so the logged interval covers the pause.
func (r *run) pause(p *proc, d time.Duration, wg *sync.WaitGroup) {
	r.mu.Lock()
	p.paused = true
	r.mu.Unlock()
	r.log.Add(Event{Kind: KindStop, Proc: p.n})
	_ = p.cmd.Process.Signal(syscall.SIGSTOP)
	wg.Add(1)
	go func() {
		defer wg.Done()
		time.Sleep(d)
		r.resume(p)
	}()
}

// resume continues p if it is paused, and says whether it was.
func (r *run) resume(p *proc) bool {
	r.mu.Lock()
	paused := p.paused
	p.paused = false
	r.mu.Unlock()
	if paused {
		_ = p.cmd.Process.Signal(syscall.SIGCONT)
		r.log.Add(Event{Kind: KindCont, Proc: p.n})
	}
	return paused
}

// stopAll asks every worker to finish, a dynamutex worker with SIGTERM and
// a client worker by its last release and the driver's exit, and kills
// those that do not within a few leases.
func (r *run) stopAll() {
	r.mu.Lock()
	var ps []*proc
	for _, p := range r.procs {
		if !p.gone {
			ps = append(ps, p)
		}
	}
	r.mu.Unlock()
	// A holder frozen at the end must first see what its pause did to it:
	// on SIGCONT its overdue danger timer fires at once, but a SIGTERM sent
	// with it would race that timer and end the lock context as "shutdown".
	resumed := false
	for _, p := range ps {
		resumed = r.resume(p) || resumed
	}
	if resumed {
		time.Sleep(r.cfg.Lease / 5)
	}
	for _, p := range ps {
		p.stop()
	}
	for _, p := range ps {
		select {
		case <-p.done:
		case <-time.After(5*r.cfg.Lease + 5*time.Second):
			r.log.Add(Event{Kind: KindKill, Proc: p.n, Cause: "did not stop after SIGTERM"})
			_ = p.cmd.Process.Signal(syscall.SIGKILL)
			<-p.done
		}
	}
}

// checkLedger compares the ledger's final state with the accepted writes in
// the log: DynamoDB's own count of accepted fenced writes must cover every
// logged one. Guarded writes commit in token order, since each commits only
// while its token is the record's, so each key's guarded item cannot end
// below the highest accepted token. It must count exactly the accepted
// guarded writes when none went unanswered and no process was killed (a
// killed process may have committed a write it never logged), as the SDK's
// retries carry one idempotency token.
func (r *run) checkLedger(ctx context.Context, db *dynamodb.Client, evs []Event, rep *Report) {
	maxSeq := map[string]uint64{}
	maxTok := map[string]uint64{}
	guarded := map[string]*guardedTally{}
	for _, e := range evs {
		if e.Kind != KindWrite {
			continue
		}
		if e.Guarded {
			g := guarded[e.Key]
			if g == nil {
				g = &guardedTally{}
				guarded[e.Key] = g
			}
			g.add(e)
			continue
		}
		if e.OK {
			maxSeq[e.Key] = max(maxSeq[e.Key], e.Seq)
			maxTok[e.Key] = max(maxTok[e.Key], e.Token)
		}
	}
	for key := range maxSeq {
		item, err := r.ledgerItem(ctx, db, key)
		if err != nil {
			rep.violate("ledger %s: read failed: %v", key, err)
			continue
		}
		fence := numAttr(item, "fence")
		seq := numAttr(item, "seq")
		if fence < maxTok[key] || seq < maxSeq[key] {
			rep.violate("ledger %s: final fence %d and count %d are below the logged %d and %d",
				key, fence, seq, maxTok[key], maxSeq[key])
		}
	}
	for key, g := range guarded {
		if g.accepted == 0 {
			continue
		}
		item, err := r.ledgerItem(ctx, db, key+"#guarded")
		if err != nil {
			rep.violate("guarded %s: read failed: %v", key, err)
			continue
		}
		holder, seq := numAttr(item, "holder"), numAttr(item, "seq")
		if holder < g.maxTok {
			rep.violate("guarded %s: the last guarded write committed was token %d's, but token %d's was accepted",
				key, holder, g.maxTok)
		}
		if seq < g.accepted || (g.failed == 0 && rep.Kills == 0 && seq != g.accepted) {
			rep.violate("guarded %s: %d guarded writes committed, %d accepted and %d unanswered",
				key, seq, g.accepted, g.failed)
		}
	}
}

// guardedTally adds up the guarded writes of one key.
type guardedTally struct {
	accepted, failed uint64
	maxTok           uint64
}

func (g *guardedTally) add(e Event) {
	switch {
	case e.OK:
		g.accepted++
		g.maxTok = max(g.maxTok, e.Token)
	case e.Cause != "refused":
		g.failed++
	}
}

func (r *run) ledgerItem(ctx context.Context, db *dynamodb.Client, key string) (map[string]types.AttributeValue, error) {
	out, err := db.GetItem(ctx, &dynamodb.GetItemInput{
		TableName: aws.String(r.ledger), ConsistentRead: aws.Bool(true),
		Key: map[string]types.AttributeValue{"key": &types.AttributeValueMemberS{Value: key}},
	})
	if err != nil {
		return nil, err
	}
	return out.Item, nil
}

func numAttr(item map[string]types.AttributeValue, name string) uint64 {
	v, ok := item[name].(*types.AttributeValueMemberN)
	if !ok {
		return 0
	}
	n, _ := strconv.ParseUint(v.Value, 10, 64)
	return n
}
