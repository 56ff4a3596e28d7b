package wire

import (
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// Layout is the attribute layout of the lock records a Session writes: this
// library's own (Native), or the one the Java or the Python lock client reads
// (Java, Python), so that processes of that client can wait on and take
// over the library's locks. Whatever the layout, a record also carries the
// library's token, clock stamp and claim under their own names: the other
// clients ignore attributes they do not know.
//
// The zero Layout is Native, so that an Item built without one names the
// library's own records.
type Layout struct {
	// Client is "" for the library's own layout, or ClientJava or
	// ClientPython.
	Client string
	// Version is the attribute that every write which takes or keeps a lock
	// sets to a fresh random value, and that waiters of every kind watch.
	Version string
	// Owner names the holder, for people; Java's heartbeat and release are
	// conditioned on it too.
	Owner string
	// Lease is the lease the holder asks waiters to respect, in the
	// layout's unit and type (LeaseValue).
	Lease string
	// Released marks a record free: BOOL true in the library's layout and
	// in Python's (whose own client knows no such mark), S "1" in Java's.
	Released string
	// Expires is the attribute DynamoDB's TTL deletes idle records by, or ""
	// for a layout without one (Java's).
	Expires string
}

// The three layouts.
var (
	Native = Layout{Version: AttrVersion, Owner: AttrOwner, Lease: AttrLease, Released: AttrReleased,
		Expires: AttrExpires}
	Java = Layout{Client: ClientJava, Version: JavaVersion, Owner: JavaOwner, Lease: JavaLease,
		Released: JavaReleased}
	Python = Layout{Client: ClientPython, Version: PythonVersion, Owner: PythonOwner, Lease: PythonLease,
		Released: AttrReleased, Expires: PythonExpiry}
)

// Layouts returns the three layouts, the library's own first.
func Layouts() []Layout { return []Layout{Native, Java, Python} }

// orNative is l, or Native for the zero Layout.
func (l Layout) orNative() Layout {
	if l.Version == "" {
		return Native
	}
	return l
}

// Attributes returns the attributes the layout names.
func (l Layout) Attributes() []string {
	a := []string{l.Version, l.Owner, l.Lease, l.Released}
	if l.Expires != "" {
		a = append(a, l.Expires)
	}
	return a
}

// LeaseValue is d as the layout stores a lease: whole milliseconds as N in
// the library's layout, as decimal text (S) in Java's, and seconds as a
// plain decimal N in Python's.
func (l Layout) LeaseValue(d time.Duration) types.AttributeValue {
	ms := uint64(d / time.Millisecond)
	switch l.orNative().Client {
	case ClientJava:
		return S(strconv.FormatUint(ms, 10))
	case ClientPython:
		return &types.AttributeValueMemberN{Value: Seconds(ms)}
	}
	return N(ms)
}

// Seconds writes ms milliseconds as seconds in plain decimal, with no
// trailing zeros: 2000 is "2", 2500 is "2.5", 1 is "0.001".
func Seconds(ms uint64) string {
	s := strconv.FormatUint(ms/1000, 10)
	if frac := ms % 1000; frac != 0 {
		s += "." + strings.TrimRight(strconv.FormatUint(1000+frac, 10)[1:], "0")
	}
	return s
}

// releasedValue is the value of the layout's released mark.
func (l Layout) releasedValue() types.AttributeValue {
	if l.Client == ClientJava {
		return S("1")
	}
	return boolean(true)
}

// ReleasedLease is the lease a release stores in Python's layout. A Python
// waiter takes a record over once it has seen its version unchanged for
// longer than the record's lease, and knows no released mark; a release
// there keeps the version and shortens the lease to this, so that a Python
// waiter that has already seen the version takes the lock at its next look.
const ReleasedLease = time.Millisecond
