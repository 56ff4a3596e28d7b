package dynamutex

// SetWaitByWriting makes every Session of the test binary wait the way the
// release before reads did, by failed conditional writes, so that
// benchmarks can set both wait paths side by side. Tests must reset it.
func SetWaitByWriting(on bool) { waitByWriting.Store(on) }
