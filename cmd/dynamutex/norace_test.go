//go:build !race

package main

// raceEnabled is false: the binary under test is built without -race.
const raceEnabled = false
