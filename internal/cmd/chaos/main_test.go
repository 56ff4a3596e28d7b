package main

import (
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/dynamutex/dynamutex/internal/chaos"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestValidate(t *testing.T) {
	good := chaos.Config{Procs: 4, Goroutines: 3, Keys: 3, Duration: time.Minute, Lease: time.Second,
		Wait: time.Second, Hold: time.Millisecond, Faults: chaos.Faults{Rate: 0.05}}
	if err := validate(good); err != nil {
		t.Fatalf("good config: %v", err)
	}
	for name, c := range map[string]struct {
		mutate func(*chaos.Config)
		want   string
	}{
		"one process":    {func(c *chaos.Config) { c.Procs = 1 }, "-procs"},
		"no keys":        {func(c *chaos.Config) { c.Keys = 0 }, "-keys"},
		"tiny lease":     {func(c *chaos.Config) { c.Lease = time.Millisecond }, "-lease"},
		"no wait":        {func(c *chaos.Config) { c.Wait = 0 }, "-wait"},
		"rate above one": {func(c *chaos.Config) { c.Faults.Rate = 1.5 }, "-fault-rate"},
		"unknown fault":  {func(c *chaos.Config) { c.Faults.Kinds = []string{"gremlins"} }, "unknown fault kind"},
	} {
		c2 := good
		c.mutate(&c2)
		if err := validate(c2); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: validate = %v, want an error about %s", name, err, c.want)
		}
	}
}
