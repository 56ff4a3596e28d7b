//go:build race

package main

// raceEnabled makes TestMain build the binary under test with -race too, so
// that the end-to-end tests also look for data races in the tool.
const raceEnabled = true
