// Package wallclock is the one place the library reads the wall clock for
// the times it writes into records and compares with them: send-time hints
// and clock-bound deadlines. Its offset exists for tests and the chaos
// harness, which need processes whose clocks disagree on one machine; it is
// not a feature, and nothing outside this module can reach it.
package wallclock

import (
	"sync/atomic"
	"time"
)

var offset atomic.Int64

// Now returns the wall clock, shifted by the offset. The monotonic reading is
// stripped: these times are compared with other machines' wall clocks, never
// used to measure elapsed time.
func Now() time.Time {
	return time.Now().Add(time.Duration(offset.Load())).Round(0)
}

// SetOffset shifts every later Now by d, for the whole process.
func SetOffset(d time.Duration) { offset.Store(int64(d)) }

// Offset returns the offset set by SetOffset.
func Offset() time.Duration { return time.Duration(offset.Load()) }
