package wire

import (
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// Attribute names that the Java AmazonDynamoDBLockClient (1.4.0) writes on
// its lock items. The library reads them so that it can wait on, and take
// over, a lock a Java process holds in a shared table; it never writes them.
const (
	JavaOwner    = "ownerName"           // S: the holder's owner name
	JavaLease    = "leaseDuration"       // S: the lease in milliseconds, as decimal text
	JavaVersion  = "recordVersionNumber" // S: a fresh UUID at every acquire and heartbeat; Java's exclusion rests on it
	JavaReleased = "isReleased"          // S: "1" on an item released with deleteLock=false; absent otherwise
	// Java's data attribute is "data", of type B: the same name and type as
	// AttrData, so it needs no name of its own.
)

// Attribute names that python-dynamodb-lock (0.9.1) writes on its lock
// items, read for the same reason as the Java ones.
const (
	PythonOwner   = "owner_name"            // S: the holder's owner name
	PythonLease   = "lease_duration"        // N: the lease in seconds, possibly fractional
	PythonVersion = "record_version_number" // S: a fresh UUID at every acquire and heartbeat
	PythonExpiry  = "expiry_time"           // N: Unix seconds for DynamoDB's TTL; Python decides nothing by it
)

// The names of the clients whose records the library reads, as records and
// errors report them.
const (
	ClientJava   = "java"
	ClientPython = "python"
)

// ForeignAttributes returns the attributes client writes that a takeover
// removes: its version, owner, lease and released or expiry marks. It
// returns nil for a client it does not know.
func ForeignAttributes(client string) []string {
	switch client {
	case ClientJava:
		return []string{JavaVersion, JavaOwner, JavaLease, JavaReleased}
	case ClientPython:
		return []string{PythonVersion, PythonOwner, PythonLease, PythonExpiry}
	}
	return nil
}

// ForeignVersion is the version attribute of client, or "" for a client it
// does not know.
func ForeignVersion(client string) string {
	if a := ForeignAttributes(client); a != nil {
		return a[0]
	}
	return ""
}

// ForeignArgs are the values of one takeover of a record written by another
// lock client.
type ForeignArgs struct {
	// AcquireArgs are the values of the record the write leaves, as for an
	// acquire; Takeover and StaleClaim are unused.
	AcquireArgs
	Client        string // ClientJava or ClientPython: whose attributes the record carries
	ClientVersion string // the client's version (record version number) the writer watched
	// Version0 is the library's own version that the record carried beside
	// the client's, when it carried both; "" when it had none.
	Version0 string
	// Released is true when the writer takes a Java record released with
	// keep (JavaReleased "1") rather than one watched unchanged for its
	// lease.
	Released bool
}

// ForeignTakeover builds the one conditional write that takes over a record
// written by another lock client: conditioned on the exact client version
// the writer watched (and, for a Java keep-released record, on JavaReleased
// being "1"), and on the library's own version being the one watched beside
// it, or absent. It writes a record of the library's own, with the token
// seeded as for a missing record, and removes the client's version, owner,
// lease and released or expiry marks and any claim: the client's heartbeat
// is conditioned on its version, so it fails and its holder learns it lost
// the lock. Returns as Acquire.
func ForeignTakeover(a ForeignArgs) *dynamodb.UpdateItemInput {
	u := newUpdate(a.Stamp, ValVersion, a.Version, a.Expires)
	u.holdRecord(a.AcquireArgs)
	u.names["#c"] = AttrClaim
	u.remove("#c")
	for i, name := range ForeignAttributes(a.Client) {
		p := "#f" + string(rune('0'+i))
		u.names[p] = name
		u.remove(p)
	}
	u.values[":fv"] = S(a.ClientVersion)
	cond := "#f0 = :fv"
	if a.Released {
		cond += " AND #f3 = :fr" // #f3 is JavaReleased
		u.values[":fr"] = S("1")
	}
	if a.Version0 != "" {
		cond += " AND #v = " + ValTakeover
		u.values[ValTakeover] = S(a.Version0)
	} else {
		cond += " AND attribute_not_exists(#v)"
	}
	in := u.input(a.Item, cond)
	in.ReturnValues = types.ReturnValueUpdatedOld
	return in
}
