package dynamutex

import (
	"testing"
	"time"
)

// Any one timing set alone gives a valid Session whose other two follow it
// in the proportions of the defaults; two set by hand keep both and derive
// the third; explicit zeros are refused, not taken for "unset".
func TestTimingsFollowTheLease(t *testing.T) {
	s := time.Second
	ms := time.Millisecond
	cases := []struct {
		name string
		opts []Option
		want Timings
	}{
		{"defaults", nil, Timings{DefaultLeaseDuration, DefaultHeartbeatPeriod, DefaultSafeTime}},
		{"lease 10s alone", []Option{WithLeaseDuration(10 * s)}, Timings{10 * s, 2500 * ms, 7500 * ms}},
		{"lease 16s alone", []Option{WithLeaseDuration(16 * s)}, Timings{16 * s, 4 * s, 12 * s}},
		{"lease 5m alone", []Option{WithLeaseDuration(5 * time.Minute)}, Timings{5 * time.Minute, 75 * s, 225 * s}},
		{"lease at the floor alone", []Option{WithLeaseDuration(MinLeaseDuration)}, Timings{100 * ms, 25 * ms, 75 * ms}},
		{"heartbeat alone", []Option{WithHeartbeatPeriod(s)}, Timings{4 * s, s, 3 * s}},
		{"safe time alone", []Option{WithSafeTime(3 * s)}, Timings{4 * s, s, 3 * s}},
		// 4/3 of 1 s is not whole milliseconds: the lease rounds up, so the
		// margin only grows.
		{"safe time alone, rounded", []Option{WithSafeTime(s)}, Timings{1334 * ms, s / 3, s}},
		{"lease and safe", []Option{WithLeaseDuration(20 * s), WithSafeTime(4 * s)}, Timings{20 * s, 4 * s / 3, 4 * s}},
		{"lease and heartbeat", []Option{WithLeaseDuration(8 * s), WithHeartbeatPeriod(s)}, Timings{8 * s, s, 6 * s}},
		{"heartbeat and safe", []Option{WithHeartbeatPeriod(s), WithSafeTime(6 * s)}, Timings{8 * s, s, 6 * s}},
		{"all three", []Option{WithLeaseDuration(9 * s), WithHeartbeatPeriod(2 * s), WithSafeTime(7 * s)}, Timings{9 * s, 2 * s, 7 * s}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, err := newConfig(tc.opts)
			if err != nil {
				t.Fatalf("newConfig: %v", err)
			}
			if got := (Timings{c.lease, c.heartbeat, c.safe}); got != tc.want {
				t.Errorf("timings %+v, want %+v", got, tc.want)
			}
		})
	}
}

// DeriveTimings is the one home of the proportions: NewSession and every
// caller that needs the derived values (the CLI, the demo, the chaos
// harness) get the same answer from it.
func TestDeriveTimingsMatchesNewSession(t *testing.T) {
	for _, lease := range []time.Duration{MinLeaseDuration, 600 * time.Millisecond, time.Second, 20 * time.Second, time.Hour} {
		c, err := newConfig([]Option{WithLeaseDuration(lease)})
		if err != nil {
			t.Fatalf("lease %v: %v", lease, err)
		}
		want := DeriveTimings(Timings{Lease: lease})
		if got := (Timings{c.lease, c.heartbeat, c.safe}); got != want {
			t.Errorf("lease %v: NewSession's timings %+v, DeriveTimings %+v", lease, got, want)
		}
		if want.Heartbeat >= want.Safe || want.Safe >= want.Lease {
			t.Errorf("lease %v: derived %+v break heartbeat < safe < lease", lease, want)
		}
	}
}

// A renewal is late a quarter period past its period, or sooner when the
// safe time leaves less room than that: half way from the period to the
// safe time.
func TestLateAfter(t *testing.T) {
	s := time.Second
	for _, tc := range []struct {
		name string
		opts []Option
		want time.Duration
	}{
		{"defaults", nil, 6250 * time.Millisecond},
		{"lease at the floor", []Option{WithLeaseDuration(MinLeaseDuration)}, 31250 * time.Microsecond},
		{"safe time a period and a half", []Option{WithHeartbeatPeriod(4 * s), WithSafeTime(6 * s)}, 5 * s},
		{"safe time close to the period", []Option{WithHeartbeatPeriod(5 * s), WithSafeTime(6 * s)}, 5500 * time.Millisecond},
	} {
		c, err := newConfig(tc.opts)
		if err != nil {
			t.Fatalf("%s: newConfig: %v", tc.name, err)
		}
		if got := c.lateAfter(); got != tc.want {
			t.Errorf("%s: late after %v, want %v", tc.name, got, tc.want)
		}
	}
}
