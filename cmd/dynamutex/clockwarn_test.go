package main

import (
	"bytes"
	"testing"
	"time"

	"github.com/dynamutex/dynamutex"
)

// TestClockWarner checks what the tool prints when the library finds this
// machine's clock outside its declared bound, and back within it; the
// skew cannot be made real in a test, so the events are fed by hand.
func TestClockWarner(t *testing.T) {
	var out bytes.Buffer
	cw := &clockWarner{w: &out, source: "DYNAMUTEX_CLOCK_BOUND", bound: 50 * time.Millisecond}
	cw.Observe(dynamutex.Event{Kind: dynamutex.EventAcquired})
	cw.Observe(dynamutex.Event{Kind: dynamutex.EventClockUntrusted, Skew: -3*time.Second - 200*time.Microsecond})
	cw.Observe(dynamutex.Event{Kind: dynamutex.EventClockTrusted, Skew: time.Millisecond})
	want := "dynamutex: warning: this machine's clock is -3s off DynamoDB's, more than DYNAMUTEX_CLOCK_BOUND 50ms allows; " +
		"taking locks over by watching only, until it agrees again\n" +
		"dynamutex: this machine's clock agrees with DynamoDB's within DYNAMUTEX_CLOCK_BOUND 50ms again\n"
	if out.String() != want {
		t.Errorf("got:\n%s\nwant:\n%s", out.String(), want)
	}
}
