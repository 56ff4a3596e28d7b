package interop

// Command is one line sent to a driver. Zero fields are left out, and each
// driver then uses its client's own default (see interop/README.md).
type Command struct {
	// Op is acquire, try, release, get, list, state, sleep or exit.
	Op string `json:"op"`
	// Table is the lock table's name.
	Table string `json:"table,omitempty"`
	// Key is the lock's partition key value.
	Key string `json:"key,omitempty"`
	// LeaseMS is the lease of the client that serves the command; a driver
	// keeps one client per (table, lease, heartbeat), so a release must name
	// the same three as its acquire.
	LeaseMS int64 `json:"lease_ms,omitempty"`
	// HeartbeatMS is that client's heartbeat period.
	HeartbeatMS int64 `json:"heartbeat_ms,omitempty"`
	// WaitMS bounds a blocking acquire. The Java client waits this long plus
	// one lease of the first lock it finds; the Python client this long.
	WaitMS int64 `json:"wait_ms,omitempty"`
	// RefreshMS is how often a waiting acquire polls the table.
	RefreshMS int64 `json:"refresh_ms,omitempty"`
	// Keep asks a Java release to mark the item released instead of
	// deleting it. The Python client cannot, and answers with an error.
	Keep bool `json:"keep,omitempty"`
	// MS is how long a sleep command sleeps in the driver.
	MS int64 `json:"ms,omitempty"`
	// SafeMS is a Python client's safe period, after which its checker
	// marks a lock without a confirmed heartbeat IN_DANGER and stops its
	// heartbeats; default two thirds of the lease. Like the lease, it is
	// fixed when the driver first makes the client for a table.
	SafeMS int64 `json:"safe_ms,omitempty"`
	// Sort is the sort key value of a lock on a Python table; omitted, the
	// Python client and dxdriver's FormatPython both use "-".
	Sort string `json:"sort,omitempty"`
	// Format is the record format of a dxdriver Session: native (the
	// default), java or python. It also picks the table's key names, as
	// dynamutex.WithFormat does. The other drivers ignore it. Like the
	// lease, it names the Session that serves the command.
	Format string `json:"format,omitempty"`
}

// Reply is one line a driver answers with. Which fields are set depends on
// the command; a failed command has OK false, Error and Class.
type Reply struct {
	// OK is false when the command failed; the driver itself carries on.
	OK bool `json:"ok"`
	// Op is the command's op, or "ready" for the line a driver starts with.
	Op string `json:"op"`
	// Key is the lock's name. Key, Sort, Owner, RVN and LeaseMS describe a
	// lock as the client itself sees it: after acquire and try the lock just
	// taken, after get the item read.
	Key string `json:"key,omitempty"`
	// Sort is the Python item's sort key value.
	Sort string `json:"sort,omitempty"`
	// Owner is the owner name in the item.
	Owner string `json:"owner,omitempty"`
	// RVN is the record version number, which every heartbeat replaces.
	RVN string `json:"rvn,omitempty"`
	// LeaseMS is the item's lease in milliseconds, whatever unit the client
	// stores it in.
	LeaseMS int64 `json:"lease_ms,omitempty"`
	// Found tells whether get found an item.
	Found bool `json:"found,omitempty"`
	// Expired is the Java client's LockItem.isExpired, true for an item
	// released with keep.
	Expired bool `json:"expired,omitempty"`
	// ExpiryTime is the Python item's TTL attribute, in Unix seconds.
	ExpiryTime int64 `json:"expiry_time,omitempty"`
	// Locks is what list found (Java only).
	Locks []Reply `json:"locks,omitempty"`
	// Error and Class describe a failure: Class is the exception's class
	// name, or NotHeld, Unsupported or UnknownOp for the driver's own refusals.
	Error string `json:"error,omitempty"`
	Class string `json:"class,omitempty"`
	// Code is a python-dynamodb-lock DynamoDBLockError's code, such as
	// ACQUIRE_TIMEOUT.
	Code string `json:"code,omitempty"`
	// Status is the client's own status of a lock, after state. Python:
	// LOCKED, IN_DANGER, INVALID (a heartbeat failed its condition: the lock
	// was taken), RELEASED. dxdriver: LOCKED while the lock context is live,
	// else LOST (ErrLockLost), IN_DANGER (ErrLeaseInDanger), CLOSED or
	// RELEASED (ErrUnlocked), with the context's cause in Cause.
	Status string `json:"status,omitempty"`
	// Events are the app_callback codes a Python lock got, such as
	// LOCK_STOLEN, after state.
	Events []string `json:"events,omitempty"`
	// Client is "java", "python" or "dynamutex" on the ready line. In a
	// dxdriver's get and list replies it is dynamutex's LockInfo.Client:
	// "" for a record dynamutex wrote, in any format, or the client that
	// wrote it.
	Client string `json:"client,omitempty"`
	// Token is the fencing token of a lock dxdriver took or read; 0 for a
	// record another client wrote.
	Token uint64 `json:"token,omitempty"`
	// Released is dxdriver's LockInfo.Released: the last holder released
	// the record, which is kept.
	Released bool `json:"released,omitempty"`
	// Cause is the cause of a dxdriver lock context that ended, after
	// state, or after release for a lock lost before the release ran.
	Cause string `json:"cause,omitempty"`
	// Version is the client release the driver runs, on the ready line.
	Version string `json:"version,omitempty"`
	// TNS is the driver's wall clock, in Unix nanoseconds, as it replied.
	TNS int64 `json:"t_ns"`
}
