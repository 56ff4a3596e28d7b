// Command chaos runs dynamutex's reliability harness: worker processes
// contend for locks through injected faults while this process kills and
// pauses them, then a checker replays the event log. It exits 1 if any
// guarantee was broken, 2 if the run could not be made.
//
//	make chaos                         # the default run, at most 2 minutes
//	make chaos CHAOS_FLAGS='-duration 10m -procs 6'
//	make chaos-clock                   # clock-bound, offsets inside the bound
//	make chaos-rogue                   # one clock beyond it: must be caught
//	make chaos-java                    # mixed: the real Java lock client's processes contend too
//	make chaos-python                  # mixed: the real python-dynamodb-lock's processes contend too
//	make chaos-session                 # half the workers keep their locks with one Session record each
//	go run ./internal/cmd/chaos -check out/chaos/events.jsonl -lease 1s
//
// AWS_ENDPOINT_URL_DYNAMODB names the DynamoDB Local to use; `make chaos`
// starts one.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/dynamutex/dynamutex"
	"github.com/dynamutex/dynamutex/internal/chaos"
)

func main() {
	os.Exit(run())
}

func run() int {
	o := parseFlags()
	if o.kinds != "" {
		if err := json.Unmarshal([]byte(o.kinds), &o.cfg.Faults.Kinds); err != nil {
			fmt.Fprintln(os.Stderr, "chaos: -fault-kinds:", err)
			return 2
		}
	}
	if err := o.formats(); err != nil {
		fmt.Fprintln(os.Stderr, "chaos:", err)
		return 2
	}
	if err := validate(o.cfg); err != nil {
		fmt.Fprintln(os.Stderr, "chaos:", err)
		return 2
	}
	if o.check != "" {
		return checkOnly(o)
	}
	if o.expect && o.cfg.Clock.Rogue == 0 {
		fmt.Fprintln(os.Stderr, "chaos: -expect-early-takeover needs -rogue-offset")
		return 2
	}
	o.cfg.ExpectEarly = o.expect
	if o.cfg.Endpoint == "" {
		fmt.Fprintln(os.Stderr, "chaos: no endpoint: set AWS_ENDPOINT_URL_DYNAMODB or -endpoint, or run `make chaos`, which starts DynamoDB Local")
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if o.worker > 0 {
		return runWorker(ctx, o)
	}
	if o.cfg.Mixed != dynamutex.FormatNative {
		if err := o.cfg.Interop.Check(o.cfg.Mixed); err != nil {
			fmt.Fprintf(os.Stderr, "chaos: -mixed %s: %v\n", o.mixed, err)
			return 2
		}
	}
	return runHarness(ctx, o.cfg)
}

// options are the command's flags: the harness's configuration, a
// worker's, and how to run.
type options struct {
	cfg    chaos.Config
	w      chaos.WorkerConfig
	kinds  string // -fault-kinds, JSON
	check  string // -check: only check this event log
	expect bool   // -expect-early-takeover
	worker int    // -worker: run as worker process N
	mixed  string // -mixed: "", java or python
	format string // -format: a worker's record format
	leased bool   // -lease was given
}

// formats reads -mixed and -format. A mixed run's lease is 2s unless
// -lease says otherwise: python-dynamodb-lock needs one exact in binary
// seconds, and everyone in the run uses the same.
func (o *options) formats() error {
	var err error
	if o.w.Format, err = chaos.ParseFormat(o.format); err != nil {
		return fmt.Errorf("-format: %w", err)
	}
	if o.mixed == "" {
		return nil
	}
	if o.cfg.Mixed, err = chaos.ParseFormat(o.mixed); err != nil || o.cfg.Mixed == dynamutex.FormatNative {
		return fmt.Errorf("-mixed must be java or python, got %q", o.mixed)
	}
	if !o.leased {
		o.cfg.Lease = 2 * time.Second
	}
	return nil
}

func parseFlags() *options {
	o := &options{}
	cfg, w := &o.cfg, &o.w
	flag.IntVar(&o.worker, "worker", 0, "run as worker process N (the harness starts these itself)")
	flag.StringVar(&cfg.Endpoint, "endpoint", os.Getenv("AWS_ENDPOINT_URL_DYNAMODB"), "DynamoDB endpoint (default $AWS_ENDPOINT_URL_DYNAMODB)")
	flag.StringVar(&cfg.Out, "out", filepath.Join("out", "chaos"), "folder for events.jsonl, worker logs and report.{txt,json}")
	flag.IntVar(&cfg.Procs, "procs", 4, "worker processes alive at a time")
	flag.IntVar(&cfg.Goroutines, "goroutines", 3, "goroutines per worker")
	flag.IntVar(&cfg.Keys, "keys", 3, "lock keys contended for")
	flag.DurationVar(&cfg.Duration, "duration", 90*time.Second, "how long the workers run (at most 2m by default; longer on request)")
	flag.DurationVar(&cfg.Lease, "lease", time.Second, "lease duration; the safe time and heartbeat follow it as the library derives them")
	flag.DurationVar(&cfg.Wait, "wait", 3*time.Second, "how long one Lock call may wait")
	flag.DurationVar(&cfg.Hold, "hold", 100*time.Millisecond, "longest pause between a holder's fenced writes")
	flag.Float64Var(&cfg.Faults.Rate, "fault-rate", 0.05, "probability that a lock-table write gets a fault")
	flag.StringVar(&o.kinds, "fault-kinds", "", `JSON list of fault kinds (default all: `+fmt.Sprint(chaos.AllFaults)+`)`)
	flag.DurationVar(&cfg.Faults.Spike, "spike", 300*time.Millisecond, "longest injected latency spike")
	flag.DurationVar(&cfg.KillEvery, "kill-every", 8*time.Second, "mean time between SIGKILLs of a holder (0: none)")
	flag.DurationVar(&cfg.PauseEvery, "pause-every", 8*time.Second, "mean time between SIGSTOPs of a holder (0: none)")
	flag.Uint64Var(&cfg.Seed, "seed", uint64(time.Now().UnixNano()), "random seed")
	flag.StringVar(&w.Table, "table", "", "lock table (worker only)")
	flag.StringVar(&w.Ledger, "ledger", "", "ledger table (worker only)")
	flag.StringVar(&w.Events, "events", "", "file to append events to (worker only)")
	flag.DurationVar(&cfg.Clock.Bound, "clock-bound", 0,
		"clock-bound mode: every worker declares this bound with WithClockBound and runs with its wall clock shifted (0: off)")
	flag.DurationVar(&cfg.Clock.Skew, "clock-skew", 0,
		"largest |offset| of an ordinary worker's clock, drawn uniformly within ±it; at most -clock-bound (default half of -clock-bound)")
	flag.DurationVar(&cfg.Clock.Rogue, "rogue-offset", 0,
		"offset of the rogue, the first worker and each replacement of it; beyond -clock-bound, e.g. -600ms (behind). "+
			"Every other kill or pause then aims at the rogue (0: no rogue)")
	flag.BoolVar(&o.expect, "expect-early-takeover", false,
		"with -rogue-offset: pass only if the checker finds a takeover of the rogue's lock within the lease and no violation "+
			"that does not concern the rogue; fail if it finds none (also with -check)")
	flag.DurationVar(&w.Clock.Offset, "clock-offset", 0, "this worker's wall-clock offset (worker only)")
	flag.StringVar(&o.check, "check", "", "only check this event log, written by an earlier run")
	flag.StringVar(&o.mixed, "mixed", "", "mixed mode, java or python: that client's table, the workers in its format "+
		"(WithFormat), and -clients processes of the real client (installed by scripts/install-interop.sh) beside them; "+
		"the lease defaults to 2s")
	flag.IntVar(&cfg.Clients, "clients", 2, "with -mixed: processes of the real client alive at a time")
	flag.DurationVar(&cfg.Refresh, "refresh", 75*time.Millisecond, "with -mixed: how often a waiting client polls the table")
	flag.StringVar(&o.format, "format", "native", "the record format a worker writes (worker only)")
	flag.IntVar(&cfg.Semaphore, "semaphore", 0,
		"semaphore mode: every goroutine takes permits of one semaphore of N permits instead of locking keys; "+
			"the checker fails on more than N holders at once (0: off)")
	flag.BoolVar(&cfg.SessionLease, "session-lease", false,
		"session-lease mode: the workers in odd slots use WithSessionLease, the others per-lock Sessions, on the same keys "+
			"(for a worker: this worker uses WithSessionLease)")
	flag.BoolVar(&cfg.Election, "election", false,
		"election mode: every worker's goroutines campaign on one election, lead with fenced writes and Proclaims, "+
			"and resign (for a worker: this worker campaigns)")
	flag.Parse()
	cfg.Interop = chaos.DefaultInterop()
	skewSet := false
	flag.Visit(func(f *flag.Flag) {
		skewSet = skewSet || f.Name == "clock-skew"
		o.leased = o.leased || f.Name == "lease"
	})
	if !skewSet {
		cfg.Clock.Skew = cfg.Clock.Bound / 2
	}
	return o
}

// checkOnly checks an event log written by an earlier run, with the lease
// given on the command line. The log does not say when that run
// began to stop, so no lock context ended by a worker's shutdown is
// excused.
func checkOnly(o *options) int {
	evs, err := chaos.ReadEventsFile(o.check)
	if err != nil {
		fmt.Fprintln(os.Stderr, "chaos:", err)
		return 2
	}
	end := evs[len(evs)-1].At
	rep := chaos.Check(evs, chaos.Params{Lease: o.cfg.Lease, Safe: chaos.SafeTime(o.cfg.Lease),
		Stopping: end, End: end, ExpectEarly: o.expect, Semaphore: o.cfg.Semaphore})
	rep.Write(os.Stdout)
	return exitCode(rep)
}

// runWorker is one worker process, started by the harness.
func runWorker(ctx context.Context, o *options) int {
	w, cfg := o.w, o.cfg
	w.Endpoint, w.Proc, w.Goroutines, w.Keys = cfg.Endpoint, o.worker, cfg.Goroutines, cfg.Keys
	w.Lease, w.Wait, w.Hold, w.Faults, w.Seed = cfg.Lease, cfg.Wait, cfg.Hold, cfg.Faults, cfg.Seed
	w.Clock.Bound = cfg.Clock.Bound
	w.Format = o.w.Format
	w.SessionLease = cfg.SessionLease
	w.Election = cfg.Election
	w.Semaphore = cfg.Semaphore
	f, err := os.OpenFile(w.Events, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		fmt.Fprintln(os.Stderr, "chaos worker:", err)
		return 2
	}
	defer f.Close()
	if err := chaos.RunWorker(ctx, w, f); err != nil {
		fmt.Fprintln(os.Stderr, "chaos worker:", err)
		return 2
	}
	return 0
}

// runHarness starts and checks a whole run.
func runHarness(ctx context.Context, cfg chaos.Config) int {
	self, err := os.Executable()
	if err != nil {
		fmt.Fprintln(os.Stderr, "chaos:", err)
		return 2
	}
	cfg.Binary = self
	fmt.Printf("chaos: %d processes × %d goroutines on %s for %v, lease %v, faults %.0f%%, seed %d\n",
		cfg.Procs, cfg.Goroutines, contended(cfg), cfg.Duration, cfg.Lease, cfg.Faults.Rate*100, cfg.Seed)
	if cfg.Mixed != dynamutex.FormatNative {
		fmt.Printf("chaos: mixed with %d processes of the real %s lock client, on its table and in its format\n",
			cfg.Clients, cfg.Mixed)
	}
	if cfg.Election {
		fmt.Printf("chaos: election: every goroutine campaigns on election %q\n", chaos.ElectionName)
	}
	if cfg.Semaphore > 0 {
		fmt.Printf("chaos: semaphore mode: every goroutine takes permits of one semaphore of %d permits\n", cfg.Semaphore)
	}
	if cfg.SessionLease {
		fmt.Println("chaos: session leases: the workers in odd slots use WithSessionLease, the others per-lock Sessions")
	}
	if c := cfg.Clock; c.Bound > 0 {
		fmt.Printf("chaos: clock bound %v, ordinary offsets within ±%v, rogue offset %v\n", c.Bound, c.Skew, c.Rogue)
	}
	rep, err := chaos.Run(ctx, cfg)
	if err != nil {
		fmt.Fprintln(os.Stderr, "chaos:", err)
		return 2
	}
	rep.Write(os.Stdout)
	if err := save(cfg.Out, rep); err != nil {
		fmt.Fprintln(os.Stderr, "chaos:", err)
		return 2
	}
	return exitCode(rep)
}

func validate(c chaos.Config) error {
	switch {
	case c.Procs < 2:
		return fmt.Errorf("-procs must be at least 2 for processes to contend, got %d", c.Procs)
	case c.Goroutines < 1 || c.Keys < 1:
		return fmt.Errorf("-goroutines and -keys must be at least 1")
	case c.Duration <= 0:
		return fmt.Errorf("-duration must be positive, got %v", c.Duration)
	case c.Lease < dynamutex.MinLeaseDuration:
		// Refused here rather than by every worker's NewSession.
		return fmt.Errorf("-lease must be at least %v, the library's floor, got %v", dynamutex.MinLeaseDuration, c.Lease)
	case c.Wait <= 0 || c.Hold <= 0:
		return fmt.Errorf("-wait and -hold must be positive")
	case c.Faults.Rate < 0 || c.Faults.Rate > 1:
		return fmt.Errorf("-fault-rate must be between 0 and 1, got %v", c.Faults.Rate)
	}
	if err := validateClock(c.Clock); err != nil {
		return err
	}
	if err := validateMixed(c); err != nil {
		return err
	}
	if c.Semaphore < 0 || c.Semaphore > 100 || c.Semaphore > 0 && c.Mixed != dynamutex.FormatNative {
		return fmt.Errorf("-semaphore must be from 0 to 100, and goes without -mixed")
	}
	if c.SessionLease && (c.Mixed != dynamutex.FormatNative || c.Clock.Bound > 0) {
		// Session leases need the native format; and the checker judges a
		// Session's revocation by observation only, not by clock.
		return fmt.Errorf("-session-lease goes with neither -mixed nor -clock-bound")
	}
	if c.Election && c.Mixed != dynamutex.FormatNative {
		// The other clients have no elections.
		return fmt.Errorf("-election goes without -mixed")
	}
	for _, k := range c.Faults.Kinds {
		if !contains(chaos.AllFaults, k) {
			return fmt.Errorf("unknown fault kind %q; known: %v", k, chaos.AllFaults)
		}
	}
	return nil
}

func validateClock(c chaos.ClockPlan) error {
	switch {
	case c.Bound < 0 || c.Skew < 0:
		return fmt.Errorf("-clock-bound and -clock-skew must not be negative")
	case c.Bound == 0 && c.Rogue != 0:
		return fmt.Errorf("-rogue-offset needs -clock-bound")
	case c.Skew > c.Bound:
		return fmt.Errorf("-clock-skew %v exceeds -clock-bound %v: every worker would be a rogue; use -rogue-offset for one", c.Skew, c.Bound)
	case c.Rogue != 0 && c.Rogue.Abs() <= c.Bound:
		return fmt.Errorf("-rogue-offset %v is within -clock-bound %v: that worker would not be a rogue", c.Rogue, c.Bound)
	}
	return nil
}

// validateMixed checks what a mixed run needs of the lease and its
// clients.
func validateMixed(c chaos.Config) error {
	switch {
	case c.Mixed == dynamutex.FormatNative:
		return nil
	case c.Clients < 2:
		return fmt.Errorf("-clients must be at least 2 for the client's processes to contend, got %d", c.Clients)
	case c.Clock.Bound > 0:
		return fmt.Errorf("-mixed and -clock-bound do not go together: the other clients declare no clock bound")
	case c.Refresh <= 0:
		return fmt.Errorf("-refresh must be positive")
	case c.Lease%time.Millisecond != 0 || c.Lease/4%time.Millisecond != 0:
		return fmt.Errorf("-lease %v must be whole milliseconds, and so must its quarter, the heartbeat", c.Lease)
	case c.Mixed == dynamutex.FormatPython && c.Lease%(125*time.Millisecond) != 0:
		// python-dynamodb-lock writes the lease as Decimal.from_float of its
		// seconds, which DynamoDB refuses unless it is exact.
		return fmt.Errorf("-lease %v: python-dynamodb-lock needs a lease exact in binary seconds, a multiple of 125ms", c.Lease)
	}
	return nil
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

func save(dir string, rep *chaos.Report) error {
	f, err := os.Create(filepath.Join(dir, "report.txt"))
	if err != nil {
		return err
	}
	rep.Write(f)
	if err := f.Close(); err != nil {
		return err
	}
	b, err := json.MarshalIndent(rep, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "report.json"), b, 0o644)
}

func exitCode(rep *chaos.Report) int {
	if rep.OK() {
		return 0
	}
	return 1
}

// contended names what the workers contend for, for the banner.
func contended(cfg chaos.Config) string {
	switch {
	case cfg.Election:
		return "one election"
	case cfg.Semaphore > 0:
		return fmt.Sprintf("one semaphore of %d permits", cfg.Semaphore)
	}
	return fmt.Sprintf("%d keys", cfg.Keys)
}
