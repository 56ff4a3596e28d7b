package wire

import (
	"slices"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// Attribute names that the Java AmazonDynamoDBLockClient (1.4.0) writes on
// its lock items. The library reads them so that it can wait on, and take
// over, a lock a Java process holds in a shared table, and writes them in
// the Java layout (Java).
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

// versionName is the placeholder of o's version attribute in a write in
// layout l: #v, which names it already, for l's own.
func versionName(o, l Layout) string {
	switch {
	case o.Client == l.Client:
		return "#v"
	case o.Client == ClientJava:
		return "#jv"
	case o.Client == ClientPython:
		return "#pv"
	}
	return "#ov"
}

// othersAbsent is the condition, with its leading AND, that the record of a
// write in layout l carries the version of no layout but those in skip.
func (u *update) othersAbsent(l Layout, skip []Layout) string {
	cond := ""
	for _, o := range Layouts() {
		if slices.ContainsFunc(skip, func(s Layout) bool { return s.Client == o.Client }) {
			continue
		}
		p := versionName(o, l)
		u.names[p] = o.Version
		cond += " AND attribute_not_exists(" + p + ")"
	}
	return cond
}

// nameOf returns the placeholder that already names attr in u, or else
// makes want name it: one attribute, one placeholder.
func (u *update) nameOf(attr, want string) string {
	for p, a := range u.names {
		if a == attr {
			return p
		}
	}
	u.names[want] = attr
	return want
}

// Watched is one layout's version of a record, as a writer watched it.
type Watched struct {
	Layout  Layout // whose version attribute it is
	Version string // the value watched
}

// CrossArgs are the values of one takeover of a record in layouts other
// than the writer's.
type CrossArgs struct {
	// AcquireArgs are the values of the record the write leaves, in the
	// writer's layout (Item.Layout), as for an acquire; Takeover and
	// StaleClaim are unused.
	AcquireArgs
	// Watched lists the version of every layout the record carries: one,
	// or two for a record that carries two layouts' versions and is held
	// by both until one of them is replaced. Among them may be the
	// writer's own layout, beside another.
	Watched []Watched
	// Released is true when the writer takes a record of one layout that
	// was released in that layout (its released mark set), rather than
	// one watched unchanged for its lease.
	Released bool
}

// CrossTakeover builds the one conditional write that takes over a record
// written in another layout than the writer's (another lock client's, or
// the library's own in another format): conditioned on each version the
// writer watched (and, for a released record, on the mark), and on the
// absence of every other layout's version. It writes a record in the
// writer's layout, with the token seeded as for a missing record, and
// removes the other layouts' attributes and any claim: every client's
// heartbeat is conditioned on its version, so the old holder's fails and
// it learns it lost the lock. Returns as Acquire.
func CrossTakeover(a CrossArgs) *dynamodb.UpdateItemInput {
	l := a.Item.layout()
	u := l.newUpdate(a.Stamp, ValVersion, a.Version, a.Expires)
	u.holdRecord(a.AcquireArgs)
	u.names["#c"] = AttrClaim
	u.remove("#c")
	sets := l.Attributes()
	var conds []string
	var watched []Layout
	for i, w := range a.Watched {
		watched = append(watched, w.Layout)
		vp := ":w" + strconv.Itoa(i)
		u.values[vp] = S(w.Version)
		conds = append(conds, u.nameOf(w.Layout.Version, versionName(w.Layout, l))+" = "+vp)
		if a.Released && len(a.Watched) == 1 {
			u.values[":wr"] = w.Layout.releasedValue()
			conds = append(conds, u.nameOf(w.Layout.Released, "#wr")+" = :wr")
		}
		for j, name := range w.Layout.Attributes() {
			if !slices.Contains(sets, name) {
				u.remove(u.nameOf(name, "#f"+strconv.Itoa(i)+strconv.Itoa(j)))
			}
		}
	}
	in := u.input(a.Item, strings.Join(conds, " AND ")+u.othersAbsent(l, watched))
	in.ReturnValues = types.ReturnValueUpdatedOld
	return in
}
