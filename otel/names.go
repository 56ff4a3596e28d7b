package dynamutexotel

// The instrument names, dotted and lowercase as OpenTelemetry's semantic
// conventions have them.
const (
	MetricAcquisitions    = "dynamutex.lock.acquisitions"     // Int64Counter, {acquisition}
	MetricWaitDuration    = "dynamutex.lock.wait.duration"    // Float64Histogram, s
	MetricHoldDuration    = "dynamutex.lock.hold.duration"    // Float64Histogram, s
	MetricHeld            = "dynamutex.locks.held"            // Int64UpDownCounter, {lock}
	MetricLost            = "dynamutex.lock.lost"             // Int64Counter, {lock}
	MetricInDanger        = "dynamutex.lock.in_danger"        // Int64Counter, {lock}
	MetricClaims          = "dynamutex.lock.claims"           // Int64Counter, {claim}
	MetricRenewalFailures = "dynamutex.lock.renewal.failures" // Int64Counter, {request}
	MetricClockChanges    = "dynamutex.clock.trust.changes"   // Int64Counter, {change}
)

// The attribute keys.
const (
	// AttrAcquiredHow, on acquisitions and wait durations, says how the lock
	// came: dynamutex.AcquiredHow's String, "free", "released",
	// "takeover_watched", "takeover_clock" or "adopted".
	AttrAcquiredHow = "dynamutex.acquired.how"
	// AttrHoldEnd, on hold durations, says how the hold ended: "released"
	// (Unlock), "lost" (the record was found changed) or "in_danger" (no
	// renewal confirmed within the safe time).
	AttrHoldEnd = "dynamutex.hold.end"
	// AttrTrusted, on clock-trust changes, is true when the Session trusts
	// its clock again, false when it stopped.
	AttrTrusted = "dynamutex.clock.trusted"
	// AttrKey and AttrSortKey are the lock's key and sort key, with
	// WithKeyAttribute only.
	AttrKey     = "dynamutex.key"
	AttrSortKey = "dynamutex.sort_key"
)

// The values of AttrHoldEnd.
const (
	HoldEndReleased = "released"
	HoldEndLost     = "lost"
	HoldEndInDanger = "in_danger"
)
