// Package wire is the one home of the lock record's wire format: the names
// of the record's attributes, every request the library sends about a
// record (the acquire, renew, release, claim and unclaim writes, the guard's
// ConditionCheck, and the reads), and the classifier that tells those
// requests apart again. The library builds its requests here, and so does
// everything else that must send or recognise exactly the library's
// requests: the conformance tests of package dynamutextest, the chaos
// transport and the raw-SDK baselines of the benchmarks (ClassifyUpdate
// also serves test transports that hold only an update expression). A
// change of shape is therefore made once, beside the classifier that must
// follow it.
//
// The builders are pure: the caller supplies every value that depends on a
// clock or a random source (versions, the token seed, the expiry, the clock
// stamp), so that tests can build the same requests with fixed values.
//
// # Compatibility
//
// A table may be shared by this release and the previous one, and every
// Session reads every other Session's records, so the format changes only
// under these rules:
//
//   - The previous release must read every record this one writes, or, for
//     a lock held under a session lease (session.go), refuse it: such a
//     record has no version, which that release's decoder requires and
//     every clause of its acquire but "released" and "missing" needs, so it
//     never writes a live one. The attributes it knows (owner, version,
//     token, lease_ms, released, data, expires_at) keep their names, types
//     and meaning. The recorded items,
//     requests and decoder verdicts of that release are in
//     testdata/prevrelease, and the root package's compat tests replay them.
//   - A reader ignores attributes it does not know. The previous release
//     ignores the clock stamp and the claim; this one must ignore whatever a
//     later one adds. New attributes are therefore only ever added, and must
//     be safe to ignore: they may cost fairness or speed, never exclusion.
//   - Exclusion rests on the version alone: a write that takes or keeps the
//     lock is conditional on the record's version (or on the record being
//     missing or released), and sets a fresh random version chosen by the
//     writer, so that a write whose reply was lost can be recognised in the
//     ALL_OLD item of a failed retry.
//   - Writes of the previous release do not touch attributes they do not
//     know: a renewal of that release changes the version and leaves this
//     release's stamp behind. Such leftovers must never count: the stamp
//     counts only under the version that wrote it (AttrStamped).
package wire
