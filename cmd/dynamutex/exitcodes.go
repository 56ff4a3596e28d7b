package main

// Exit codes of dynamutex. They are part of its interface: scripts and cron
// wrappers branch on them, so they never change meaning. `dynamutex run`
// otherwise exits with CMD's own code, which can collide with these; that is
// why the busy code can be moved with --busy-exit-code, and why every code
// dynamutex chooses comes with a message on stderr.
const (
	// exitOK: the command succeeded (status, list, create-table, help).
	exitOK = 0

	// exitFailure: anything that is neither the caller's mistake nor a
	// verdict about the lock, such as DynamoDB being unreachable, refused
	// credentials, or a corrupt record reported by status.
	exitFailure = 1

	// exitUsage: bad flags or values, a missing table, bad AWS
	// configuration. The same as flag parsing errors in most Unix tools.
	exitUsage = 2

	// exitBusy: the lock is held by someone else and --no-wait was given, or
	// --wait ran out. EX_TEMPFAIL of sysexits.h, because trying again later
	// is the right reaction. --busy-exit-code moves it, like flock -E.
	exitBusy = 75

	// exitLost: the lock was lost or fell into danger while CMD ran, so CMD
	// was stopped (or, if it had already exited, may have run without
	// exclusive access). Chosen next to exitBusy so that both read as
	// "the lock, not the command".
	exitLost = 76

	// exitCannotRun and exitNotFound follow shells and flock(1): CMD exists
	// but cannot be executed, or was not found at all.
	exitCannotRun = 126
	exitNotFound  = 127

	// exitSignalBase plus N is the code of a child killed by signal N, and of
	// dynamutex itself when signal N interrupted the wait for the lock, as
	// in shells (130 for SIGINT, 143 for SIGTERM).
	exitSignalBase = 128
)
