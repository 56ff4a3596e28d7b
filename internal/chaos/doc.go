// Package chaos is dynamutex's adversarial test harness. Worker processes,
// each with its own Session and goroutines, contend for a few keys through a
// transport that injects faults, and make writes fenced by their tokens to a
// ledger table. A parent process kills and pauses them at random. Every step
// is logged as an Event; Check replays the log and reports each broken
// guarantee as a violation.
//
// The command is internal/cmd/chaos; `make chaos` runs it against DynamoDB
// Local. docs/RELIABILITY.md describes the checks and a real run's figures.
package chaos
