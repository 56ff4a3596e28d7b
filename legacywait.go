package dynamutex

import "sync/atomic"

// waitByWriting brings back the wait path of the release before reads: a
// waiter retries its conditional write after each backoff sleep, and each
// failed write is its poll. Only tests and benchmarks set it
// (export_test.go), to measure the read path against it in one run; it is
// not an option.
var waitByWriting atomic.Bool
