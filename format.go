package dynamutex

import (
	"fmt"

	"github.com/dynamutex/dynamutex/internal/wire"
)

// Format chooses how the lock records a Session writes are laid out, so
// that processes of another lock client sharing the table can read them,
// wait on them and take them over. Every Session reads records of every
// format, whatever its own; the format decides only what it writes.
//
// A table is best written in one format: choose the format of the other
// client that shares it, in every dynamutex Session on that table.
// docs/PROTOCOL.md ("Sharing a table with other clients") gives what each
// format keeps of the library's guarantees and what it costs.
type Format int

const (
	// FormatNative is the library's own layout, and the default. The Java
	// and Python lock clients fail on its records.
	FormatNative Format = iota
	// FormatJava writes records that the Java AmazonDynamoDBLockClient
	// (com.amazonaws:dynamodb-lock-client 1.4.0) reads: ownerName,
	// leaseDuration (milliseconds as text), recordVersionNumber and
	// isReleased, on a table whose partition key is "key" by default,
	// without TTL. A release keeps the record, marked released as Java's
	// own release with keep does, so that Java waiters take it at once.
	FormatJava
	// FormatPython writes records that python-dynamodb-lock (0.9.1) reads:
	// owner_name, lease_duration (seconds), record_version_number and
	// expiry_time (for TTL), on a table with partition key "lock_key" and
	// sort key "sort_key", whose value is "-" unless WithSortKeyValue says
	// otherwise. That client knows no released record: a release keeps the
	// record's version and sets its lease to 1 ms, so that a Python waiter
	// that has seen the version takes the lock at its next look.
	FormatPython
)

// Defaults of FormatPython, as python-dynamodb-lock names its table's keys.
const (
	pythonPartitionKey = "lock_key"
	pythonSortKey      = "sort_key"
	pythonSortValue    = "-"
)

// String returns "native", "java" or "python".
func (f Format) String() string {
	switch f {
	case FormatNative:
		return "native"
	case FormatJava:
		return "java"
	case FormatPython:
		return "python"
	}
	return fmt.Sprintf("Format(%d)", int(f))
}

// TTLAttribute is the record attribute by which DynamoDB's TTL deletes
// idle records of format f, and on which CreateTable enables TTL:
// ExpiresAttribute for FormatNative, "expiry_time" for FormatPython, and ""
// for FormatJava, whose tables have no TTL.
func (f Format) TTLAttribute() string {
	l, _ := f.layout()
	return l.Expires
}

// layout is the wire layout of f, ok false for an unknown Format.
func (f Format) layout() (wire.Layout, bool) {
	switch f {
	case FormatNative:
		return wire.Native, true
	case FormatJava:
		return wire.Java, true
	case FormatPython:
		return wire.Python, true
	}
	return wire.Native, false
}

// formatOf is the Format that writes layout l.
func formatOf(l wire.Layout) Format {
	switch l.Client {
	case wire.ClientJava:
		return FormatJava
	case wire.ClientPython:
		return FormatPython
	}
	return FormatNative
}

// FormatOption chooses the record format (see WithFormat). It is both an
// Option and a TableOption; its zero value is FormatNative.
type FormatOption struct {
	format Format
}

func (o FormatOption) applySession(c *config) { o.applyTable(&c.keys) }
func (o FormatOption) applyTable(k *keyNames) { k.format = o.format }

// WithFormat sets the format of the records a Session writes, or, given to
// CreateTable, the table that format's client expects: its key names and
// its TTL attribute (expiry_time for FormatPython, none for FormatJava).
// Key names left unset follow the format (see WithPartitionKey and
// WithSortKey). Default, and for 0: FormatNative. A value that is none of
// the three is an *OptionError.
func WithFormat(f Format) FormatOption { return FormatOption{format: f} }
