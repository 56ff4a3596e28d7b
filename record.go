package dynamutex

import (
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/dynamutex/dynamutex/internal/wire"
)

// maxRecordLease bounds the lease a record may ask waiters to respect, so that
// a damaged record cannot make them wait for years.
const maxRecordLease = 7 * 24 * time.Hour

// record is a decoded lock item.
type record struct {
	owner    string
	version  string
	token    uint64
	lease    time.Duration
	released bool
	data     []byte
	// sent and deadline come from the record's clock stamp (attrSent,
	// attrDeadline), and are zero when it has none or when the stamp belongs
	// to an earlier version (see wire.AttrStamped).
	sent     time.Time
	deadline time.Time
	claim    claim // the waiter that claimed the next turn, if any
	// client names the lock client that wrote the record: "" for this
	// library, in any layout, or wire.ClientJava or wire.ClientPython
	// (foreign.go).
	client string
	// watched lists the version of each layout the record carries: one, or
	// two for a record held by both (foreign.go), whose version is then
	// the two joined.
	watched []wire.Watched
	// session is, for a record held under a session lease, the key of the
	// Session record whose lease keeps it (sessionlease.go); version is
	// then the record's lock version, which only acquires and releases
	// change. "" for a record whose own version is renewed.
	session string
}

// decodeRecord reads a lock item written by this library in any of its
// formats, or by the Java or Python lock client (foreign.go). Anything else
// (an unknown item, a missing attribute, a wrong type, an absurd value)
// gives a *RecordError, never a panic.
func decodeRecord(key string, item map[string]types.AttributeValue) (record, error) {
	l, err := foreignLayout(key, item)
	if err != nil {
		return record{}, err
	}
	if l.Client != "" {
		return decodeForeign(key, item, l)
	}
	r, err := decodeOwn(key, item)
	r.watched = []wire.Watched{{Layout: wire.Native, Version: r.version}}
	return r, err
}

// decodeOwn reads a lock item written by this library alone.
func decodeOwn(key string, item map[string]types.AttributeValue) (record, error) {
	r, err := decodeHeld(key, item)
	if err != nil {
		return record{}, err
	}
	if r.token, err = tokenOf(item); err != nil {
		return record{}, &RecordError{Key: key, Attribute: attrToken, Problem: err.Error()}
	}
	return r, nil
}

// decodeHeld reads what a lock record of the library's layout and a
// Session record (sessionwatch.go) both carry: all but the token, which a
// Session record has not.
func decodeHeld(key string, item map[string]types.AttributeValue) (record, error) {
	var r record
	fail := func(attr, problem string) (record, error) {
		return record{}, &RecordError{Key: key, Attribute: attr, Problem: problem}
	}
	var err error
	if r.version, r.session, err = ownVersion(item); err != nil {
		return fail(attrVersion, err.Error())
	}
	if r.owner, err = stringAttr(item, attrOwner); err != nil {
		return fail(attrOwner, err.Error())
	}
	ms, err := numberAttr(item, attrLease)
	if err != nil {
		return fail(attrLease, err.Error())
	}
	if ms == 0 || ms > uint64(maxRecordLease/time.Millisecond) {
		return fail(attrLease, fmt.Sprintf("is %d ms, outside 1 ms to %v", ms, maxRecordLease))
	}
	r.lease = time.Duration(ms) * time.Millisecond
	switch v := item[attrReleased].(type) {
	case *types.AttributeValueMemberBOOL:
		r.released = v.Value
	case nil:
		return fail(attrReleased, "is missing")
	default:
		return fail(attrReleased, fmt.Sprintf("has type %s, want BOOL", wire.TypeName(v)))
	}
	var problem string
	if r.data, problem = dataAttr(item); problem != "" {
		return fail(attrData, problem)
	}
	if err := r.decodeStamp(key, item); err != nil {
		return record{}, err
	}
	if r.claim, err = decodeClaim(key, item); err != nil {
		return record{}, err
	}
	return r, nil
}

// ownVersion reads the version of a record of the library's layout: its
// version attribute or, for a record held or last released under a session
// lease, which has none, its lock version and its Session. A record that
// has both was taken by a writer that knows nothing of session leases,
// which sets the version and leaves the rest: the version rules.
func ownVersion(item map[string]types.AttributeValue) (version, session string, err error) {
	if _, ok := item[attrVersion]; ok || item[wire.AttrSession] == nil {
		version, err = stringAttr(item, attrVersion)
		if err == nil && version == "" {
			err = errors.New("is empty")
		}
		return version, "", err
	}
	if session, err = stringAttr(item, wire.AttrSession); err == nil && !isSessionKey(session) {
		err = fmt.Errorf("is missing, and %s %q names no Session record", wire.AttrSession, session)
	}
	if err != nil {
		return "", "", err
	}
	if version, err = stringAttr(item, wire.AttrLockVersion); err == nil && version == "" {
		err = errors.New("is empty")
	}
	if err != nil {
		return "", "", fmt.Errorf("is missing, and %s %v", wire.AttrLockVersion, err)
	}
	return version, session, nil
}

// decodeStamp reads the optional clock stamp. Records of earlier releases
// have none, and their writes leave an old stamp behind under a new version;
// both decode as no stamp. A stamp of the wrong type is damage all the same.
func (r *record) decodeStamp(key string, item map[string]types.AttributeValue) error {
	fail := func(attr, problem string) error { return &RecordError{Key: key, Attribute: attr, Problem: problem} }
	var stamped string
	if _, ok := item[attrStamped]; ok {
		var err error
		if stamped, err = stringAttr(item, attrStamped); err != nil {
			return fail(attrStamped, err.Error())
		}
	}
	var sent, deadline uint64
	for _, a := range []struct {
		name string
		v    *uint64
	}{{attrSent, &sent}, {attrDeadline, &deadline}} {
		if _, ok := item[a.name]; !ok {
			continue
		}
		n, err := numberAttr(item, a.name)
		if err != nil {
			return fail(a.name, err.Error())
		}
		if n > maxStampMillis {
			return fail(a.name, fmt.Sprintf("is %d ms, after the year 9999", n))
		}
		*a.v = n
	}
	if stamped != r.version {
		return nil
	}
	if sent > 0 {
		r.sent = time.UnixMilli(int64(sent))
	}
	if deadline > 0 {
		r.deadline = time.UnixMilli(int64(deadline))
	}
	return nil
}

// maxStampMillis keeps stamps inside what time.Time and the wire's
// millisecond arithmetic handle without overflow.
const maxStampMillis = 253402300799999 // 9999-12-31T23:59:59.999Z

func tokenOf(item map[string]types.AttributeValue) (uint64, error) {
	return numberAttr(item, attrToken)
}

func stringAttr(item map[string]types.AttributeValue, name string) (string, error) {
	switch v := item[name].(type) {
	case *types.AttributeValueMemberS:
		return v.Value, nil
	case nil:
		return "", errors.New("is missing")
	default:
		return "", fmt.Errorf("has type %s, want S", wire.TypeName(v))
	}
}

func numberAttr(item map[string]types.AttributeValue, name string) (uint64, error) {
	switch v := item[name].(type) {
	case *types.AttributeValueMemberN:
		n, err := strconv.ParseUint(v.Value, 10, 64)
		if err != nil {
			return 0, fmt.Errorf("is %q, want a whole number from 0 to 2^64-1", v.Value)
		}
		return n, nil
	case nil:
		return 0, errors.New("is missing")
	default:
		return 0, fmt.Errorf("has type %s, want N", wire.TypeName(v))
	}
}

// dataAttr returns the data stored with a lock (WithData), nil when there
// is none, or what is wrong with the attribute.
func dataAttr(item map[string]types.AttributeValue) ([]byte, string) {
	switch v := item[attrData].(type) {
	case nil:
		return nil, ""
	case *types.AttributeValueMemberB:
		return v.Value, ""
	default:
		return nil, fmt.Sprintf("has type %s, want B", wire.TypeName(v))
	}
}
