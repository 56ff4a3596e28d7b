package dynamutex

import (
	"fmt"
	"log/slog"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/dynamutex/dynamutex/internal/wire"
)

// Records written by other lock clients, and records in their layouts. The
// Java AmazonDynamoDBLockClient and python-dynamodb-lock share this
// library's design: a holder rewrites a random record version number at
// every heartbeat, and a waiter that watches one version unchanged for the
// record's lease, by its own clock, takes the record over with a write
// conditioned on that version.
//
// A Session that writes a client's layout (WithFormat) keeps its version in
// that client's version attribute. Its renewals change what the client's
// waiters watch, so they never take a live lock over; its acquisitions are
// conditioned on that attribute as the client's are, so a takeover or an
// acquisition of the Session makes the client's next heartbeat, conditioned
// on its version, fail. The Session's own extras (token, clock stamp, claim)
// ride along as attributes the client ignores; its stamp names the version
// it wrote, which tells the library's records from the client's.
//
// A record in another layout than the Session writes (cross) is waited on
// and taken by that layout's rule alone: released in it, or watched
// unchanged for its lease, never by a clock deadline. CrossTakeover,
// conditioned on the watched version, rewrites it in the Session's layout
// and removes the other layout's attributes. Exclusion against a live
// holder of another layout rests on two facts. The write passes only while
// the version is the one watched for the whole lease, which a holder that
// heartbeats changes well within its lease, just as that layout's own
// waiters require. And the ordinary acquire refuses any record that carries
// another layout's version (wire.Acquire), so no released mark, missing
// record rule or clock deadline of one layout can pass a holder of another.
//
// A record may carry both this library's version and a foreign one: a
// foreign client that updates attributes in place (Java's
// withUpdateExistingLockRecord) can write its own beside ours, and a foreign
// heartbeat could land on a record a Session rewrote without removing the
// foreign version. Who holds such a record cannot be told from it, so it
// is treated as held by both: never released, its version the two joined,
// so that it counts as unchanged only while neither holder wrote, its lease
// the longer of the two, and the takeover conditioned on both versions.
// Exclusion never depends on guessing which attribute is the live one.

// foreignLayout names the layout of the foreign version item carries:
// wire.Native when it carries none. An item with both the Java and the
// Python client's versions is damaged.
func foreignLayout(key string, item map[string]types.AttributeValue) (wire.Layout, error) {
	_, java := item[wire.JavaVersion]
	_, python := item[wire.PythonVersion]
	switch {
	case java && python:
		return wire.Native, &RecordError{Key: key, Attribute: wire.PythonVersion,
			Problem: "is present beside " + wire.JavaVersion + ": the record carries two clients' versions"}
	case java:
		return wire.Java, nil
	case python:
		return wire.Python, nil
	}
	return wire.Native, nil
}

// decodeForeign reads a record in layout l, the Java or the Python
// client's, and the library's own too if it has a version of ours.
func decodeForeign(key string, item map[string]types.AttributeValue, l wire.Layout) (record, error) {
	var r record
	var err error
	switch l.Client {
	case wire.ClientJava:
		r, err = decodeJava(key, item)
	default:
		r, err = decodePython(key, item)
	}
	if err != nil {
		return record{}, err
	}
	r.watched = []wire.Watched{{Layout: l, Version: r.version}}
	if r.claim, err = decodeClaim(key, item); err != nil {
		return record{}, err
	}
	// The library stamps every write of its own with the version it wrote;
	// a write of the other client leaves an older stamp, or none.
	mine := false
	if stamped, ok := item[attrStamped].(*types.AttributeValueMemberS); ok && stamped.Value == r.version {
		mine = true
	}
	if !mine {
		r.client = l.Client
	}
	if _, ok := item[attrVersion]; ok {
		return decodeBoth(key, item, r)
	}
	if mine {
		return decodeMine(key, item, r)
	}
	return r, nil
}

// decodeMine reads what the library keeps beside another client's layout
// on a record it wrote last: the token, the clock stamp and, in Python's
// layout, the released mark and the data.
func decodeMine(key string, item map[string]types.AttributeValue, r record) (record, error) {
	var err error
	if r.token, err = tokenOf(item); err != nil {
		return record{}, &RecordError{Key: key, Attribute: attrToken, Problem: err.Error()}
	}
	if err := r.decodeStamp(key, item); err != nil {
		return record{}, err
	}
	if r.watched[0].Layout.Client != wire.ClientPython {
		return r, nil
	}
	switch v := item[attrReleased].(type) {
	case *types.AttributeValueMemberBOOL:
		r.released = v.Value
	case nil:
	default:
		return record{}, &RecordError{Key: key, Attribute: attrReleased,
			Problem: fmt.Sprintf("has type %s, want BOOL", wire.TypeName(v))}
	}
	var problem string
	if r.data, problem = dataAttr(item); problem != "" {
		return record{}, &RecordError{Key: key, Attribute: attrData, Problem: problem}
	}
	return r, nil
}

// decodeBoth reads a record that carries the library's own version beside
// r's: held by both, until one write of ours or theirs passes under both
// versions (see the comment at the top of this file).
func decodeBoth(key string, item map[string]types.AttributeValue, r record) (record, error) {
	own, err := decodeOwn(key, item)
	if err != nil {
		return record{}, err
	}
	r.watched = append([]wire.Watched{{Layout: wire.Native, Version: own.version}}, r.watched...)
	r.version = own.version + "+" + r.version
	r.token = own.token
	r.lease = max(r.lease, own.lease)
	r.released = false
	r.claim = own.claim
	if r.client == "" {
		r.client = r.watched[1].Layout.Client
	}
	return r, nil
}

// decodeJava reads the attributes the Java lock client writes.
func decodeJava(key string, item map[string]types.AttributeValue) (record, error) {
	var r record
	fail := func(attr, problem string) (record, error) {
		return record{}, &RecordError{Key: key, Attribute: attr, Problem: problem}
	}
	var err error
	if r.version, err = nonEmpty(item, wire.JavaVersion); err != nil {
		return fail(wire.JavaVersion, err.Error())
	}
	if r.owner, err = stringAttr(item, wire.JavaOwner); err != nil {
		return fail(wire.JavaOwner, err.Error())
	}
	text, err := stringAttr(item, wire.JavaLease)
	if err != nil {
		return fail(wire.JavaLease, err.Error())
	}
	ms, perr := strconv.ParseUint(text, 10, 64)
	if perr != nil || ms == 0 || ms > uint64(maxRecordLease/time.Millisecond) {
		return fail(wire.JavaLease, fmt.Sprintf("is %q, want milliseconds from 1 to %d", text, maxRecordLease.Milliseconds()))
	}
	r.lease = time.Duration(ms) * time.Millisecond
	if _, ok := item[wire.JavaReleased]; ok {
		// Java reads any value as released; the takeover is conditioned
		// on "1", so any other value is damage, not a free lock.
		if v, err := stringAttr(item, wire.JavaReleased); err != nil || v != "1" {
			return fail(wire.JavaReleased, fmt.Sprintf("is %s, want S \"1\"", describeValue(item[wire.JavaReleased])))
		}
		r.released = true
	}
	var problem string
	if r.data, problem = dataAttr(item); problem != "" {
		return fail(attrData, problem)
	}
	return r, nil
}

// decodePython reads the attributes python-dynamodb-lock writes.
func decodePython(key string, item map[string]types.AttributeValue) (record, error) {
	var r record
	fail := func(attr, problem string) (record, error) {
		return record{}, &RecordError{Key: key, Attribute: attr, Problem: problem}
	}
	var err error
	if r.version, err = nonEmpty(item, wire.PythonVersion); err != nil {
		return fail(wire.PythonVersion, err.Error())
	}
	if r.owner, err = stringAttr(item, wire.PythonOwner); err != nil {
		return fail(wire.PythonOwner, err.Error())
	}
	if r.lease, err = secondsAttr(item, wire.PythonLease); err != nil {
		return fail(wire.PythonLease, err.Error())
	}
	// Python's reader requires the expiry; so does this one, to recognise
	// the record, though nothing is decided by it.
	switch v := item[wire.PythonExpiry].(type) {
	case *types.AttributeValueMemberN:
		if _, err := plainDecimal(v.Value); err != nil {
			return fail(wire.PythonExpiry, fmt.Sprintf("is %q, want a number", v.Value))
		}
	case nil:
		return fail(wire.PythonExpiry, "is missing")
	default:
		return fail(wire.PythonExpiry, fmt.Sprintf("has type %s, want N", wire.TypeName(v)))
	}
	return r, nil
}

// nonEmpty reads a string attribute that must not be empty.
func nonEmpty(item map[string]types.AttributeValue, name string) (string, error) {
	v, err := stringAttr(item, name)
	if err == nil && v == "" {
		err = fmt.Errorf("is empty")
	}
	return v, err
}

// secondsAttr reads a number of seconds, possibly fractional, as a lease:
// from 1 ms to maxRecordLease, rounded up to the nanosecond so that a waiter
// never waits less than the writer asked.
func secondsAttr(item map[string]types.AttributeValue, name string) (time.Duration, error) {
	v, ok := item[name].(*types.AttributeValueMemberN)
	if !ok {
		if item[name] == nil {
			return 0, fmt.Errorf("is missing")
		}
		return 0, fmt.Errorf("has type %s, want N", wire.TypeName(item[name]))
	}
	f, err := plainDecimal(v.Value)
	d := time.Duration(math.Ceil(f * float64(time.Second)))
	if err != nil || f > maxRecordLease.Seconds() || d < time.Millisecond {
		return 0, fmt.Errorf("is %q, want seconds from 0.001 to %v", v.Value, maxRecordLease.Seconds())
	}
	return d, nil
}

// plainDecimal parses the form DynamoDB gives numbers the clients wrote:
// digits, then optionally a point and more digits. Signs, exponents and
// the other spellings strconv accepts are refused.
func plainDecimal(text string) (float64, error) {
	whole, frac, dot := strings.Cut(text, ".")
	if whole == "" || strings.Trim(whole, "0123456789") != "" ||
		dot && (frac == "" || strings.Trim(frac, "0123456789") != "") {
		return 0, fmt.Errorf("%q is not a plain decimal", text)
	}
	return strconv.ParseFloat(text, 64)
}

// describeValue names an attribute value's type, and its text for a string.
func describeValue(v types.AttributeValue) string {
	if s, ok := v.(*types.AttributeValueMemberS); ok {
		return fmt.Sprintf("S %q", s.Value)
	}
	return wire.TypeName(v)
}

// warnForeign says, once per Session, that the table holds a record in
// another layout than this Session writes: it waits on and takes over such
// records, but the processes that wrote it may fail on this Session's
// records rather than wait for them.
func (s *Session) warnForeign(id lockID, rec record) {
	theirs := FormatNative
	if n := len(rec.watched); n > 0 {
		theirs = formatOf(rec.watched[n-1].Layout)
	}
	s.log.Warn("dynamutex: the table holds records in another format than this Session writes; "+
		"processes that read only that format may fail on this Session's records instead of waiting; "+
		"give every Session on the table WithFormat("+formatName(theirs)+")",
		slog.String("key", id.key), slog.String("format", theirs.String()), slog.String("session_format", s.cfg.keys.format.String()),
		slog.String("client", rec.client), slog.String("holder", rec.owner))
}

// formatName is the Go name of f's constant.
func formatName(f Format) string {
	switch f {
	case FormatJava:
		return "dynamutex.FormatJava"
	case FormatPython:
		return "dynamutex.FormatPython"
	}
	return "dynamutex.FormatNative"
}

// crossReady reports whether rec is a record in another layout than this
// Session writes that a write of this Session may take now: one released
// in its layout, or one this Session has watched unchanged for its lease.
// There is no clock takeover of such records: the other clients declare no
// bound, and a clock-bound holder of another format is taken by watching.
func (s *Session) crossReady(id lockID, rec record, now time.Time) bool {
	return s.store.cross(rec) && (rec.released || s.expiredVersion(id, now) == rec.version)
}
