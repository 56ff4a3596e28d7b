package main

import (
	"errors"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/dynamutex/dynamutex"
	"github.com/dynamutex/dynamutex/internal/chaos"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestValidate(t *testing.T) {
	good := chaos.Config{Procs: 4, Goroutines: 3, Keys: 3, Duration: time.Minute, Lease: time.Second,
		Wait: time.Second, Hold: time.Millisecond, Faults: chaos.Faults{Rate: 0.05}}
	if err := validate(good); err != nil {
		t.Fatalf("good config: %v", err)
	}
	leasedElection := good
	leasedElection.Election, leasedElection.SessionLease = true, true
	if err := validate(leasedElection); err != nil {
		t.Errorf("an election run with session leases: %v", err)
	}
	for name, c := range map[string]struct {
		mutate func(*chaos.Config)
		want   string
	}{
		"one process":                     {func(c *chaos.Config) { c.Procs = 1 }, "-procs"},
		"no keys":                         {func(c *chaos.Config) { c.Keys = 0 }, "-keys"},
		"tiny lease":                      {func(c *chaos.Config) { c.Lease = time.Millisecond }, "-lease"},
		"lease under the library's floor": {func(c *chaos.Config) { c.Lease = dynamutex.MinLeaseDuration - time.Millisecond }, "-lease must be at least 100ms"},
		"no duration":                     {func(c *chaos.Config) { c.Duration = 0 }, "-duration"},
		"no wait":                         {func(c *chaos.Config) { c.Wait = 0 }, "-wait"},
		"rate above one":                  {func(c *chaos.Config) { c.Faults.Rate = 1.5 }, "-fault-rate"},
		"unknown fault":                   {func(c *chaos.Config) { c.Faults.Kinds = []string{"gremlins"} }, "unknown fault kind"},
		"session lease with a clock bound": {func(c *chaos.Config) {
			c.SessionLease, c.Clock = true, chaos.ClockPlan{Bound: 100 * time.Millisecond}
		}, "-session-lease goes with neither"},
	} {
		c2 := good
		c.mutate(&c2)
		if err := validate(c2); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: validate = %v, want an error about %s", name, err, c.want)
		}
	}
}

func TestValidateClock(t *testing.T) {
	ms := func(n int) time.Duration { return time.Duration(n) * time.Millisecond }
	for _, ok := range []chaos.ClockPlan{{}, {Bound: ms(100), Skew: ms(50)}, {Bound: ms(100), Skew: ms(100), Rogue: ms(-600)}} {
		if err := validateClock(ok); err != nil {
			t.Errorf("%+v: %v", ok, err)
		}
	}
	for name, c := range map[string]struct {
		plan chaos.ClockPlan
		want string
	}{
		"negative bound":   {chaos.ClockPlan{Bound: ms(-1)}, "must not be negative"},
		"rogue, no bound":  {chaos.ClockPlan{Rogue: ms(600)}, "needs -clock-bound"},
		"skew above bound": {chaos.ClockPlan{Bound: ms(100), Skew: ms(101)}, "every worker would be a rogue"},
		"rogue inside":     {chaos.ClockPlan{Bound: ms(100), Rogue: ms(-100)}, "would not be a rogue"},
	} {
		if err := validateClock(c.plan); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: validateClock = %v, want an error about %s", name, err, c.want)
		}
	}
}

func TestValidateMixed(t *testing.T) {
	good := chaos.Config{Procs: 4, Goroutines: 3, Keys: 3, Duration: time.Minute, Lease: 2 * time.Second,
		Wait: time.Second, Hold: time.Millisecond, Mixed: dynamutex.FormatPython, Clients: 2, Refresh: 75 * time.Millisecond}
	if err := validate(good); err != nil {
		t.Fatalf("good config: %v", err)
	}
	for name, c := range map[string]struct {
		mutate func(*chaos.Config)
		want   string
	}{
		"one client":             {func(c *chaos.Config) { c.Clients = 1 }, "-clients"},
		"clock bound":            {func(c *chaos.Config) { c.Clock.Bound = 100 * time.Millisecond }, "do not go together"},
		"inexact python lease":   {func(c *chaos.Config) { c.Lease = 1100 * time.Millisecond }, "exact in binary seconds"},
		"fractional millisecond": {func(c *chaos.Config) { c.Mixed = dynamutex.FormatJava; c.Lease = 1001 * time.Millisecond }, "whole milliseconds"},
	} {
		c2 := good
		c.mutate(&c2)
		if err := validate(c2); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: validate = %v, want an error about %s", name, err, c.want)
		}
	}
	java := good
	java.Mixed, java.Lease = dynamutex.FormatJava, 1100*time.Millisecond
	if err := validate(java); err != nil {
		t.Errorf("Java takes any whole-millisecond lease: %v", err)
	}
}

func TestMixedFormats(t *testing.T) {
	o := &options{mixed: "python", format: "native"}
	o.cfg.Lease = time.Second
	if err := o.formats(); err != nil || o.cfg.Mixed != dynamutex.FormatPython || o.cfg.Lease != 2*time.Second {
		t.Fatalf("formats() = %v, mixed %v, lease %v; want python and the 2s lease", err, o.cfg.Mixed, o.cfg.Lease)
	}
	o = &options{mixed: "java", format: "native", leased: true}
	o.cfg.Lease = 3 * time.Second
	if err := o.formats(); err != nil || o.cfg.Lease != 3*time.Second {
		t.Fatalf("formats() = %v, lease %v; want -lease kept", err, o.cfg.Lease)
	}
	for _, bad := range []*options{{mixed: "native", format: "native"}, {mixed: "go", format: "native"}, {format: "cobol"}} {
		if err := bad.formats(); err == nil {
			t.Errorf("formats() accepted -mixed %q -format %q", bad.mixed, bad.format)
		}
	}
}

func TestInteropMissing(t *testing.T) {
	in := chaos.Interop{Cache: t.TempDir(), Source: t.TempDir()}
	err := in.Check(dynamutex.FormatPython)
	if !errors.Is(err, chaos.ErrNoInterop) || !strings.Contains(err.Error(), "venv") {
		t.Fatalf("Check = %v, want ErrNoInterop naming the missing venv", err)
	}
}
