package dynamutex

import (
	"bytes"
	"errors"
	"maps"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/dynamutex/dynamutex/internal/wire"
)

// The lock-record fuzz target reads an attribute map from the fuzzer's bytes.
// The format is the smallest one that reaches every AttributeValue member and
// every name the decoder looks at, so that mutations of one byte turn a good
// record into a bad one (another type, another name, another length).
//
//	item  = { name value }                 until the input ends
//	name  = 0..10 (fuzzNames[i]) | 11..255 then text
//	value = type byte mod 10 (0 S, 1 N, 2 B, 3 BOOL, 4 NULL, 5 M, 6 L,
//	        7 SS, 8 NS, 9 BS), then:
//	        S, N, B: text   BOOL, NULL: a byte, low bit
//	        M: count { name value }   L: count { value }
//	        SS, NS, BS: count { text }
//	count = a byte mod 8
//	text  = length byte, then that many bytes (fewer if the input ends)
//
// M and L nest at most fuzzDepth deep, so that an item stays small. A read
// past the end yields zeros, so every input, even a truncated one, decodes.
//
// The clock stamp's names came after the first eight, and the claim's
// after those, so that the older seeds keep their meaning except where they
// spelled a name out as text. The claim map's other fields share their names
// with record attributes (version, owner, lease_ms), which are already here.
//
// The Java and Python lock clients' names came next, for the same reason,
// and the session lease's last.
var fuzzNames = []string{attrOwner, attrVersion, attrToken, attrLease, attrReleased, attrData, ExpiresAttribute, DefaultPartitionKey,
	attrSent, attrDeadline, attrStamped, attrClaim, claimSince, claimBeat,
	wire.JavaVersion, wire.JavaOwner, wire.JavaLease, wire.JavaReleased,
	wire.PythonVersion, wire.PythonOwner, wire.PythonLease, wire.PythonExpiry,
	wire.AttrSession, wire.AttrLockVersion}

// claimFields are the claim map's fields, in no particular order.
var claimFields = []string{claimVersion, claimOwner, claimBeat, claimSince, claimLease}

const (
	fuzzDepth = 3
	fuzzKey   = "fuzz/key"
	// maxFuzzItem holds a whole record and several foreign attributes.
	maxFuzzItem = 512
)

type fuzzReader struct{ b []byte }

func (r *fuzzReader) byte() byte {
	if len(r.b) == 0 {
		return 0
	}
	c := r.b[0]
	r.b = r.b[1:]
	return c
}

// text copies, as the SDK gives every value its own bytes: a decoder that
// wrote into one must not show up in another.
func (r *fuzzReader) text() []byte {
	n := min(int(r.byte()), len(r.b))
	v := append([]byte{}, r.b[:n]...)
	r.b = r.b[n:]
	return v
}

func (r *fuzzReader) name() string {
	if c := r.byte(); int(c) < len(fuzzNames) {
		return fuzzNames[c]
	}
	return string(r.text())
}

func (r *fuzzReader) value(depth int) types.AttributeValue {
	switch r.byte() % 10 {
	case 0:
		return &types.AttributeValueMemberS{Value: string(r.text())}
	case 1:
		return &types.AttributeValueMemberN{Value: string(r.text())}
	case 2:
		return &types.AttributeValueMemberB{Value: r.text()}
	case 3:
		return &types.AttributeValueMemberBOOL{Value: r.byte()&1 == 1}
	case 4:
		return &types.AttributeValueMemberNULL{Value: r.byte()&1 == 1}
	case 5:
		m := map[string]types.AttributeValue{}
		for n := r.count(depth); n > 0; n-- {
			m[r.name()] = r.value(depth - 1)
		}
		return &types.AttributeValueMemberM{Value: m}
	case 6:
		l := []types.AttributeValue{}
		for n := r.count(depth); n > 0; n-- {
			l = append(l, r.value(depth-1))
		}
		return &types.AttributeValueMemberL{Value: l}
	case 7:
		return &types.AttributeValueMemberSS{Value: r.strings()}
	case 8:
		return &types.AttributeValueMemberNS{Value: r.strings()}
	default:
		bs := [][]byte{}
		for n := r.count(1); n > 0; n-- {
			bs = append(bs, r.text())
		}
		return &types.AttributeValueMemberBS{Value: bs}
	}
}

func (r *fuzzReader) strings() []string {
	ss := []string{}
	for n := r.count(1); n > 0; n-- {
		ss = append(ss, string(r.text()))
	}
	return ss
}

// count reads a container's length. An M or L at the depth limit is left
// empty, though its count byte is still read, so that the layout of the bytes
// does not depend on where they sit.
func (r *fuzzReader) count(depth int) int {
	n := int(r.byte() % 8)
	if depth <= 0 {
		return 0
	}
	return n
}

func fuzzItem(b []byte) map[string]types.AttributeValue {
	r := &fuzzReader{b: b}
	item := map[string]types.AttributeValue{}
	for len(r.b) > 0 {
		item[r.name()] = r.value(fuzzDepth)
	}
	return item
}

// encodeItem is fuzzItem's inverse. Seeds are written as attribute maps, so
// that a reader sees what each one holds, and encoded here.
func encodeItem(tb testing.TB, item map[string]types.AttributeValue) []byte {
	var b []byte
	for _, name := range slices.Sorted(maps.Keys(item)) {
		b = encodeValue(tb, encodeName(tb, b, name), item[name])
	}
	return b
}

func encodeName(tb testing.TB, b []byte, name string) []byte {
	if i := slices.Index(fuzzNames, name); i >= 0 {
		return append(b, byte(i))
	}
	return encodeText(tb, append(b, byte(len(fuzzNames))), name)
}

func encodeText(tb testing.TB, b []byte, s string) []byte {
	if len(s) > 255 {
		tb.Fatalf("seed text of %d bytes does not fit the one-byte length", len(s))
	}
	return append(append(b, byte(len(s))), s...)
}

func encodeCount(tb testing.TB, b []byte, n int) []byte {
	if n > 7 {
		tb.Fatalf("seed container of %d elements does not fit the count", n)
	}
	return append(b, byte(n))
}

func encodeValue(tb testing.TB, b []byte, v types.AttributeValue) []byte {
	bit := func(v bool) byte {
		if v {
			return 1
		}
		return 0
	}
	switch v := v.(type) {
	case *types.AttributeValueMemberS:
		return encodeText(tb, append(b, 0), v.Value)
	case *types.AttributeValueMemberN:
		return encodeText(tb, append(b, 1), v.Value)
	case *types.AttributeValueMemberB:
		return encodeText(tb, append(b, 2), string(v.Value))
	case *types.AttributeValueMemberBOOL:
		return append(b, 3, bit(v.Value))
	case *types.AttributeValueMemberNULL:
		return append(b, 4, bit(v.Value))
	case *types.AttributeValueMemberM:
		b = encodeCount(tb, append(b, 5), len(v.Value))
		for _, name := range slices.Sorted(maps.Keys(v.Value)) {
			b = encodeValue(tb, encodeName(tb, b, name), v.Value[name])
		}
		return b
	case *types.AttributeValueMemberL:
		b = encodeCount(tb, append(b, 6), len(v.Value))
		for _, e := range v.Value {
			b = encodeValue(tb, b, e)
		}
		return b
	case *types.AttributeValueMemberSS:
		return encodeTexts(tb, append(b, 7), v.Value)
	case *types.AttributeValueMemberNS:
		return encodeTexts(tb, append(b, 8), v.Value)
	case *types.AttributeValueMemberBS:
		b = encodeCount(tb, append(b, 9), len(v.Value))
		for _, e := range v.Value {
			b = encodeText(tb, b, string(e))
		}
		return b
	}
	tb.Fatalf("seed holds an attribute of type %T", v)
	return nil
}

func encodeTexts(tb testing.TB, b []byte, ss []string) []byte {
	b = encodeCount(tb, b, len(ss))
	for _, s := range ss {
		b = encodeText(tb, b, s)
	}
	return b
}

// wantRecord is the record format restated apart from decodeRecord's code:
// what a record holding item should decode to, and which attributes keep item
// from being a record at all. An item with a Java or Python version is that
// client's record, and also this library's when it has a version of ours:
// then it is held by both, never released, its version the two joined and
// its lease the longer. A record whose stamped_version is its client
// version was written last by this library in that client's layout: it
// names no client and carries a token and a clock stamp; in Python's layout
// also a released mark and data, both optional.
func wantRecord(item map[string]types.AttributeValue) (record, map[string]bool) {
	_, java := item[wire.JavaVersion]
	_, python := item[wire.PythonVersion]
	if !java && !python {
		r, bad := wantOwn(item)
		r.watched = []wire.Watched{{Layout: wire.Native, Version: r.version}}
		return r, bad
	}
	var r record
	bad := map[string]bool{}
	layout := wire.Java
	switch {
	case java && python:
		bad[wire.JavaVersion], bad[wire.PythonVersion] = true, true
		return r, bad
	case java:
		r = wantJava(item, bad)
	default:
		r, layout = wantPython(item, bad), wire.Python
	}
	r.watched = []wire.Watched{{Layout: layout, Version: r.version}}
	wantClaim(item, &r, bad)
	stamped, ok := item[attrStamped].(*types.AttributeValueMemberS)
	mine := ok && stamped.Value == r.version
	if mine {
		r.client = ""
	}
	if _, ok := item[attrVersion]; ok {
		own, ownBad := wantOwn(item)
		maps.Copy(bad, ownBad)
		r.watched = append([]wire.Watched{{Layout: wire.Native, Version: own.version}}, r.watched...)
		r.version = own.version + "+" + r.version
		r.token, r.lease, r.released, r.claim = own.token, max(r.lease, own.lease), false, own.claim
		r.client = layout.Client
		return r, bad
	}
	if mine {
		wantMine(item, &r, layout, bad)
	}
	return r, bad
}

// wantMine restates what this library keeps beside a client's layout.
func wantMine(item map[string]types.AttributeValue, r *record, layout wire.Layout, bad map[string]bool) {
	if n, ok := decimal(item[attrToken]); ok {
		r.token = n
	} else {
		bad[attrToken] = true
	}
	wantStamp(item, r, bad)
	if layout.Client != wire.ClientPython {
		return
	}
	switch v := item[attrReleased].(type) {
	case nil:
	case *types.AttributeValueMemberBOOL:
		r.released = v.Value
	default:
		bad[attrReleased] = true
	}
	wantData(item, r, bad)
}

// wantData restates the optional data: absent, or B.
func wantData(item map[string]types.AttributeValue, r *record, bad map[string]bool) {
	switch v := item[attrData].(type) {
	case nil:
	case *types.AttributeValueMemberB:
		r.data = v.Value
	default:
		bad[attrData] = true
	}
}

// wantJava restates the Java client's attributes: version and owner
// strings, the version not empty, the lease a decimal string of 1 ms up to
// maxRecordLease, isReleased absent or exactly "1", data absent or B.
func wantJava(item map[string]types.AttributeValue, bad map[string]bool) record {
	r := record{client: wire.ClientJava}
	r.version, r.owner = wantVersionOwner(item, wire.JavaVersion, wire.JavaOwner, bad)
	var ms uint64
	ok := false
	if v, isS := item[wire.JavaLease].(*types.AttributeValueMemberS); isS {
		ms, ok = decimal(&types.AttributeValueMemberN{Value: v.Value})
	}
	if ok && ms > 0 && ms <= uint64(maxRecordLease/time.Millisecond) {
		r.lease = time.Duration(ms) * time.Millisecond
	} else {
		bad[wire.JavaLease] = true
	}
	if v, present := item[wire.JavaReleased]; present {
		if s, ok := v.(*types.AttributeValueMemberS); ok && s.Value == "1" {
			r.released = true
		} else {
			bad[wire.JavaReleased] = true
		}
	}
	wantData(item, &r, bad)
	return r
}

// wantVersionOwner restates a client's version and owner attributes: both
// strings, the version not empty. A wrong one is marked in bad, and read as "".
func wantVersionOwner(item map[string]types.AttributeValue, versionAttr, ownerAttr string, bad map[string]bool) (version, owner string) {
	if v, ok := item[versionAttr].(*types.AttributeValueMemberS); ok && v.Value != "" {
		version = v.Value
	} else {
		bad[versionAttr] = true
	}
	if o, ok := item[ownerAttr].(*types.AttributeValueMemberS); ok {
		owner = o.Value
	} else {
		bad[ownerAttr] = true
	}
	return version, owner
}

// pythonNumber is the one form of number the Python client's records are
// read in: digits, then optionally a point and digits.
var pythonNumber = regexp.MustCompile(`^[0-9]+(\.[0-9]+)?$`)

// wantPython restates the Python client's attributes: version and owner
// strings, the version not empty, the lease an N of seconds from 1 ms up to
// maxRecordLease (rounded up to the nanosecond), the expiry any N.
func wantPython(item map[string]types.AttributeValue, bad map[string]bool) record {
	r := record{client: wire.ClientPython}
	r.version, r.owner = wantVersionOwner(item, wire.PythonVersion, wire.PythonOwner, bad)
	bad[wire.PythonLease] = true
	if v, ok := item[wire.PythonLease].(*types.AttributeValueMemberN); ok && pythonNumber.MatchString(v.Value) {
		f, _ := strconv.ParseFloat(v.Value, 64)
		d := time.Duration(math.Ceil(f * 1e9))
		if f <= maxRecordLease.Seconds() && d >= time.Millisecond {
			r.lease = d
			delete(bad, wire.PythonLease)
		}
	}
	if v, ok := item[wire.PythonExpiry].(*types.AttributeValueMemberN); !ok || !pythonNumber.MatchString(v.Value) {
		bad[wire.PythonExpiry] = true
	}
	return r
}

// wantOwn restates a record of this library alone.
// wantVersion restates the version rule: the version, a non-empty S, when
// there is one or no session; else, held under a session lease, the
// lock version, a non-empty S, and the session, an S naming a Session
// record. Each fault is blamed on the missing version.
func wantVersion(item map[string]types.AttributeValue, r *record, bad map[string]bool) {
	_, hasVersion := item[attrVersion]
	if _, leased := item[wire.AttrSession]; hasVersion || !leased {
		if v, ok := item[attrVersion].(*types.AttributeValueMemberS); ok && v.Value != "" {
			r.version = v.Value
		} else {
			bad[attrVersion] = true
		}
		return
	}
	sess, ok := item[wire.AttrSession].(*types.AttributeValueMemberS)
	lv, lok := item[wire.AttrLockVersion].(*types.AttributeValueMemberS)
	if !ok || !strings.HasPrefix(sess.Value, wire.SessionKeyPrefix) || !lok || lv.Value == "" {
		bad[attrVersion] = true
		return
	}
	r.version, r.session = lv.Value, sess.Value
}

func wantOwn(item map[string]types.AttributeValue) (record, map[string]bool) {
	var r record
	bad := map[string]bool{}
	wantVersion(item, &r, bad)
	if v, ok := item[attrOwner].(*types.AttributeValueMemberS); ok {
		r.owner = v.Value
	} else {
		bad[attrOwner] = true
	}
	if n, ok := decimal(item[attrToken]); ok {
		r.token = n
	} else {
		bad[attrToken] = true
	}
	if n, ok := decimal(item[attrLease]); ok && n > 0 && n <= uint64(maxRecordLease/time.Millisecond) {
		r.lease = time.Duration(n) * time.Millisecond
	} else {
		bad[attrLease] = true
	}
	if v, ok := item[attrReleased].(*types.AttributeValueMemberBOOL); ok {
		r.released = v.Value
	} else {
		bad[attrReleased] = true
	}
	wantData(item, &r, bad)
	wantStamp(item, &r, bad)
	wantClaim(item, &r, bad)
	return r, bad
}

// wantClaim restates the optional claim: a map whose version is a non-empty
// string, owner and beat strings, since_ms a plain decimal up to the year
// 9999 and lease_ms one from 1 ms to maxRecordLease. Other fields in the map
// are ignored. A bad field is named "claim.<field>"; a claim that is not a
// map at all is named "claim".
func wantClaim(item map[string]types.AttributeValue, r *record, bad map[string]bool) {
	v, ok := item[attrClaim]
	if !ok {
		return
	}
	m, ok := v.(*types.AttributeValueMemberM)
	if !ok {
		bad[attrClaim] = true
		return
	}
	f, clean := m.Value, true
	check := func(field string, ok bool) {
		if !ok {
			bad[attrClaim+"."+field] = true
			clean = false
		}
	}
	version, ok := f[claimVersion].(*types.AttributeValueMemberS)
	check(claimVersion, ok && version.Value != "")
	owner, ok := f[claimOwner].(*types.AttributeValueMemberS)
	check(claimOwner, ok)
	beat, ok := f[claimBeat].(*types.AttributeValueMemberS)
	check(claimBeat, ok && beat.Value != "")
	since, ok := decimal(f[claimSince])
	check(claimSince, ok && since <= maxStampMillis)
	lease, ok := decimal(f[claimLease])
	check(claimLease, ok && lease > 0 && lease <= uint64(maxRecordLease/time.Millisecond))
	if clean {
		r.claim = claim{version: version.Value, owner: owner.Value, beat: beat.Value,
			since: time.UnixMilli(int64(since)), lease: time.Duration(lease) * time.Millisecond}
	}
}

// wantStamp restates the optional clock stamp: numbers in the plain decimal
// form, up to the year 9999, that count only under the version that wrote
// them.
func wantStamp(item map[string]types.AttributeValue, r *record, bad map[string]bool) {
	stamped, isS := item[attrStamped].(*types.AttributeValueMemberS)
	if item[attrStamped] != nil && !isS {
		bad[attrStamped] = true
	}
	ms := map[string]uint64{}
	for _, name := range []string{attrSent, attrDeadline} {
		if item[name] == nil {
			continue
		}
		if n, ok := decimal(item[name]); ok && n <= maxStampMillis {
			ms[name] = n
		} else {
			bad[name] = true
		}
	}
	if !isS || stamped.Value != r.version || r.version == "" {
		return
	}
	if n := ms[attrSent]; n > 0 {
		r.sent = time.UnixMilli(int64(n))
	}
	if n := ms[attrDeadline]; n > 0 {
		r.deadline = time.UnixMilli(int64(n))
	}
}

// decimal reads a uint64 in the one form dynamutex writes, plain decimal
// digits. Signs, fractions and exponents are foreign even when DynamoDB would
// call them whole numbers. It compares digit strings rather than parse, so
// that it shares no code with the decoder it checks.
func decimal(v types.AttributeValue) (uint64, bool) {
	n, ok := v.(*types.AttributeValueMemberN)
	if !ok || n.Value == "" || strings.Trim(n.Value, "0123456789") != "" {
		return 0, false
	}
	const maxUint64 = "18446744073709551615"
	digits := strings.TrimLeft(n.Value, "0")
	if len(digits) > len(maxUint64) || len(digits) == len(maxUint64) && digits > maxUint64 {
		return 0, false
	}
	var u uint64
	for _, c := range digits {
		u = u*10 + uint64(c-'0')
	}
	return u, true
}

// fuzzRecord is a valid record, held, as this release writes it, without a
// clock stamp or a claim: seeds start from it.
func fuzzRecord() map[string]types.AttributeValue {
	return map[string]types.AttributeValue{
		attrOwner: &types.AttributeValueMemberS{Value: "host/1/abc"}, attrVersion: &types.AttributeValueMemberS{Value: "v1"},
		attrToken: &types.AttributeValueMemberN{Value: "42"}, attrLease: &types.AttributeValueMemberN{Value: "20000"},
		attrReleased: &types.AttributeValueMemberBOOL{}, attrData: &types.AttributeValueMemberB{Value: []byte("d")},
		ExpiresAttribute: &types.AttributeValueMemberN{Value: "1800000000"}, DefaultPartitionKey: &types.AttributeValueMemberS{Value: fuzzKey},
	}
}

// fuzzClaim is a valid claim map, as this release writes it.
func fuzzClaim() map[string]types.AttributeValue {
	return map[string]types.AttributeValue{
		claimVersion: &types.AttributeValueMemberS{Value: "v2"}, claimOwner: &types.AttributeValueMemberS{Value: "host/2/def"},
		claimBeat: &types.AttributeValueMemberS{Value: "b7"}, claimSince: &types.AttributeValueMemberN{Value: "1796150000000"},
		claimLease: &types.AttributeValueMemberN{Value: "20000"},
	}
}

// claimSeeds are records whose claim takes every shape: of another type than
// a map, an empty map, each field missing, of the wrong type, empty, at and
// just past its limits, and fields this release does not know.
func claimSeeds() []map[string]types.AttributeValue {
	withClaim := func(v types.AttributeValue) map[string]types.AttributeValue {
		r := fuzzRecord()
		r[attrClaim] = v
		return r
	}
	edit := func(field string, v types.AttributeValue) map[string]types.AttributeValue {
		c := fuzzClaim()
		if v == nil {
			delete(c, field)
		} else {
			c[field] = v
		}
		return withClaim(&types.AttributeValueMemberM{Value: c})
	}
	s := func(v string) types.AttributeValue { return &types.AttributeValueMemberS{Value: v} }
	n := func(v string) types.AttributeValue { return &types.AttributeValueMemberN{Value: v} }
	seeds := []map[string]types.AttributeValue{
		withClaim(&types.AttributeValueMemberM{Value: fuzzClaim()}),
		{attrClaim: &types.AttributeValueMemberM{Value: fuzzClaim()}}, // a claim and nothing else
		withClaim(s("v2")), withClaim(&types.AttributeValueMemberNULL{Value: true}),
		withClaim(&types.AttributeValueMemberL{Value: []types.AttributeValue{&types.AttributeValueMemberM{Value: fuzzClaim()}}}),
		withClaim(&types.AttributeValueMemberM{Value: map[string]types.AttributeValue{}}),
		edit(claimVersion, s("")), edit(claimOwner, s("")), edit(claimBeat, s("")),
		edit(claimVersion, &types.AttributeValueMemberM{Value: map[string]types.AttributeValue{claimVersion: s("v2")}}),
		edit(claimSince, n("0")), edit(claimSince, n("253402300799999")), edit(claimSince, n("253402300800000")),
		edit(claimSince, n("-1")), edit(claimSince, n("1.7e12")), edit(claimSince, n("18446744073709551616")),
		edit(claimLease, n("1")), edit(claimLease, n("604800000")), edit(claimLease, n("604800001")),
		edit(claimLease, n("0")), edit(claimLease, n("20000.5")), edit(claimLease, n("0020000")),
		edit("extra", &types.AttributeValueMemberBOOL{Value: true}),
	}
	for _, field := range claimFields {
		wrong := s("1")
		if field == claimSince || field == claimLease {
			wrong = n("1")
			seeds = append(seeds, edit(field, s("1")))
		}
		seeds = append(seeds, edit(field, nil), edit(field, wrong), edit(field, &types.AttributeValueMemberB{Value: []byte("1")}))
	}
	return seeds
}

// foreignSeeds are the records the Java and Python lock clients write (as
// in interop/testdata), their keep-released and fractional-lease forms, the
// same with damage, and records that carry this library's attributes too.
func foreignSeeds() []map[string]types.AttributeValue {
	s := func(v string) types.AttributeValue { return &types.AttributeValueMemberS{Value: v} }
	n := func(v string) types.AttributeValue { return &types.AttributeValueMemberN{Value: v} }
	java := map[string]types.AttributeValue{DefaultPartitionKey: s(fuzzKey), wire.JavaOwner: s("java-a"),
		wire.JavaLease: s("2000"), wire.JavaVersion: s("3f1c1c1e-7c7a-4d53-9f63-5a0b7d2f4a10")}
	python := map[string]types.AttributeValue{"lock_key": s(fuzzKey), "sort_key": s("-"), wire.PythonOwner: s("python-a"),
		wire.PythonLease: n("2"), wire.PythonVersion: s("9a4e5d0c-2b1f-4f7e-8d6c-1e2f3a4b5c6d"), wire.PythonExpiry: n("1764856800")}
	with := func(base map[string]types.AttributeValue, name string, v types.AttributeValue) map[string]types.AttributeValue {
		m := maps.Clone(base)
		if v == nil {
			delete(m, name)
		} else {
			m[name] = v
		}
		return m
	}
	both := func(base map[string]types.AttributeValue) map[string]types.AttributeValue {
		m := fuzzRecord()
		maps.Copy(m, base)
		return m
	}
	return []map[string]types.AttributeValue{
		java, with(java, wire.JavaReleased, s("1")), with(java, wire.JavaReleased, s("0")),
		with(java, attrData, &types.AttributeValueMemberB{Value: []byte("d")}), with(java, wire.JavaLease, n("2000")),
		with(java, wire.JavaLease, s("0")), with(java, wire.JavaLease, s("2000.5")), with(java, wire.JavaOwner, nil),
		with(java, wire.JavaVersion, s("")),
		python, with(python, wire.PythonLease, n("1.5")), with(python, wire.PythonLease, n("0.0001")),
		with(python, wire.PythonLease, n("1e3")), with(python, wire.PythonLease, s("2")), with(python, wire.PythonExpiry, nil),
		with(python, wire.PythonExpiry, s("1764856800")), with(python, wire.PythonVersion, n("1")),
		both(java), both(with(java, wire.JavaReleased, s("1"))), both(python), with(both(python), attrToken, s("1")),
		with(java, wire.PythonVersion, s("rvn")),
		// Written by this library in the clients' layouts: the stamp names
		// the client's version.
		mine(java, wire.JavaVersion), with(mine(java, wire.JavaVersion), attrToken, nil),
		with(mine(java, wire.JavaVersion), wire.JavaReleased, s("1")),
		with(mine(java, wire.JavaVersion), attrDeadline, n("1764856802000")),
		mine(python, wire.PythonVersion), with(mine(python, wire.PythonVersion), attrReleased, &types.AttributeValueMemberBOOL{Value: true}),
		with(mine(python, wire.PythonVersion), attrReleased, s("true")),
		with(mine(python, wire.PythonVersion), attrData, s("not bytes")), with(python, attrData, s("theirs")),
		with(mine(python, wire.PythonVersion), attrToken, n("-1")), with(python, attrStamped, s("an older version")),
	}
}

// mine is base as this library writes it in that client's layout: a token
// and a clock stamp naming the client's version (versionAttr).
func mine(base map[string]types.AttributeValue, versionAttr string) map[string]types.AttributeValue {
	m := maps.Clone(base)
	m[attrToken] = &types.AttributeValueMemberN{Value: "1764856800000001"}
	m[attrSent] = &types.AttributeValueMemberN{Value: "1764856800000"}
	m[attrStamped] = m[versionAttr]
	return m
}

// checkDecode decodes item and holds the outcome to wantRecord: a
// *RecordError naming one of the bad attributes, or, when none is bad, the
// record the item holds, field for field.
func checkDecode(t *testing.T, item map[string]types.AttributeValue) (record, error) {
	rec, err := decodeRecord(fuzzKey, item)
	want, bad := wantRecord(item)
	if err != nil {
		var re *RecordError
		if !errors.Is(err, ErrCorruptRecord) || !errors.As(err, &re) || re.Key != fuzzKey || re.Attribute == "" || re.Problem == "" {
			t.Fatalf("decodeRecord error %#v, want a *RecordError with the key, an attribute and a problem", err)
		}
		if !bad[re.Attribute] {
			t.Fatalf("decodeRecord blames %q, but the bad attributes are %v: %v", re.Attribute, bad, err)
		}
		_ = err.Error() // it reaches logs and callers, so formatting must not panic either
		return rec, err
	}
	if len(bad) > 0 {
		t.Fatalf("decodeRecord accepted an item whose %v are bad: %+v", bad, rec)
	}
	if rec.version == "" || rec.lease < time.Millisecond || rec.lease > maxRecordLease {
		t.Fatalf("decoded record breaks an invariant: %+v", rec)
	}
	if c := rec.claim; !c.none() && (c.lease < time.Millisecond || c.lease > maxRecordLease ||
		c.since.UnixMilli() < 0 || c.since.UnixMilli() > maxStampMillis) {
		t.Fatalf("decoded claim breaks an invariant: %+v", c)
	}
	if !sameRecord(rec, want) {
		t.Fatalf("decoded %+v, the item holds %+v", rec, want)
	}
	return rec, nil
}

func sameRecord(a, b record) bool {
	return a.owner == b.owner && a.version == b.version && a.token == b.token && a.lease == b.lease &&
		a.released == b.released && bytes.Equal(a.data, b.data) && a.sent.Equal(b.sent) && a.deadline.Equal(b.deadline) &&
		a.claim.version == b.claim.version && a.claim.owner == b.claim.owner && a.claim.beat == b.claim.beat &&
		a.claim.since.Equal(b.claim.since) && a.claim.lease == b.claim.lease &&
		a.client == b.client && slices.Equal(a.watched, b.watched) && a.session == b.session
}

// FuzzDecodeRecord feeds decodeRecord, and lostFrom which reports what a
// failed write found, the items a foreign writer or a damaged table could
// hold. Seeds beyond these are in testdata/fuzz/FuzzDecodeRecord.
func FuzzDecodeRecord(f *testing.F) {
	for _, name := range claimFields {
		if !slices.Contains(fuzzNames, name) {
			f.Fatalf("claim field %q is not among fuzzNames, so the fuzzer can spell it only by chance", name)
		}
	}
	valid := fuzzRecord()
	nested := map[string]types.AttributeValue{attrVersion: &types.AttributeValueMemberM{Value: map[string]types.AttributeValue{
		attrToken: &types.AttributeValueMemberL{Value: []types.AttributeValue{
			&types.AttributeValueMemberNS{Value: []string{"1"}}, &types.AttributeValueMemberBS{Value: [][]byte{{0xff}}},
		}},
	}}}
	stamped := maps.Clone(valid)
	stamped[attrSent] = &types.AttributeValueMemberN{Value: "1796150000000"}
	stamped[attrDeadline] = &types.AttributeValueMemberN{Value: "1796150020010"}
	stamped[attrStamped] = &types.AttributeValueMemberS{Value: "v1"}
	stale := maps.Clone(stamped)
	stale[attrStamped] = &types.AttributeValueMemberS{Value: "v0"}
	claimed := maps.Clone(stamped)
	claimed[attrClaim] = &types.AttributeValueMemberM{Value: fuzzClaim()}
	f.Add(encodeItem(f, valid), uint64(42))
	f.Add(encodeItem(f, valid), uint64(41))
	f.Add(encodeItem(f, stamped), uint64(42))
	f.Add(encodeItem(f, stale), uint64(42))
	f.Add(encodeItem(f, claimed), uint64(42))
	f.Add([]byte{}, uint64(0))
	f.Add(encodeItem(f, nested), uint64(1))
	for _, seed := range claimSeeds() {
		f.Add(encodeItem(f, seed), uint64(42))
	}
	for _, seed := range foreignSeeds() {
		f.Add(encodeItem(f, seed), uint64(42))
	}
	// Held under a session lease: no version, a lock version and the
	// Session's key; and such a record a per-lock writer took since.
	leased := maps.Clone(stamped)
	delete(leased, attrVersion)
	leased[wire.AttrLockVersion] = leased[attrStamped]
	leased[wire.AttrSession] = &types.AttributeValueMemberS{Value: wire.SessionKeyPrefix + "s1"}
	f.Add(encodeItem(f, leased), uint64(42))
	f.Add(encodeItem(f, maps.Clone(stamped)), uint64(42))
	retaken := maps.Clone(leased)
	retaken[attrVersion] = &types.AttributeValueMemberS{Value: "v9"}
	f.Add(encodeItem(f, retaken), uint64(42))
	f.Fuzz(func(t *testing.T, b []byte, token uint64) {
		// Bytes past the cap change nothing, so the fuzzer's minimizer, whose
		// last passes are quadratic in the input's length, cuts them at once.
		item := fuzzItem(b[:min(len(b), maxFuzzItem)])
		rec, err := checkDecode(t, item)

		le := lostFrom(fuzzKey, token, item)
		if le == nil || le.Reason == "" || le.Key != fuzzKey || le.Token != token || !errors.Is(le, ErrLockLost) {
			t.Fatalf("lostFrom = %#v, want a *LostError with the key, token and a reason", le)
		}
		_ = le.Error()
		// The successor's owner and token come only from a record that decodes;
		// anything else must not be shown as if it were one.
		if err != nil || len(item) == 0 {
			if le.Owner != "" || le.NewToken != 0 {
				t.Fatalf("lostFrom names successor %q (token %d) from an item that is not a record", le.Owner, le.NewToken)
			}
		} else if le.Owner != rec.owner || le.NewToken != rec.token {
			t.Fatalf("lostFrom names successor %q (token %d), the record holds %q (token %d)", le.Owner, le.NewToken, rec.owner, rec.token)
		}
	})
}

// claimShape packs FuzzDecodeClaim's shape argument: the claim attribute's
// form (claimForms), then each field's kind (fieldKinds) in claimFields'
// order, three bits apiece, then one bit for a field this release does not
// know.
func claimShape(form uint32, kinds [5]uint32, extra bool) uint32 {
	shape := form & 7
	for i, k := range kinds {
		shape |= (k & 7) << (3 * (i + 1))
	}
	if extra {
		shape |= 1 << 18
	}
	return shape
}

// The forms of the claim attribute in FuzzDecodeClaim: the map, most often,
// else missing, a string, a list holding the map, or NULL.
const (
	formMap, formMissing, formS, formL, formNULL = 0, 4, 5, 6, 7
)

// The kinds of a claim field in FuzzDecodeClaim, each holding the field's
// text: the field's own type (S or N, most often), missing, the other of S
// and N, B, BOOL, NULL, or its own type one map too deep.
const (
	kindOwn, kindMissing, kindOther, kindB, kindBOOL, kindNULL, kindNested = 0, 2, 3, 4, 5, 6, 7
)

// claimField builds one claim field of kind from text; nil means missing.
func claimField(name, text string, kind uint32) types.AttributeValue {
	own := func() types.AttributeValue {
		if name == claimSince || name == claimLease {
			return &types.AttributeValueMemberN{Value: text}
		}
		return &types.AttributeValueMemberS{Value: text}
	}
	switch kind & 7 {
	case kindOwn, 1:
		return own()
	case kindMissing:
		return nil
	case kindOther:
		if _, isN := own().(*types.AttributeValueMemberN); isN {
			return &types.AttributeValueMemberS{Value: text}
		}
		return &types.AttributeValueMemberN{Value: text}
	case kindB:
		return &types.AttributeValueMemberB{Value: []byte(text)}
	case kindBOOL:
		return &types.AttributeValueMemberBOOL{Value: text != ""}
	case kindNULL:
		return &types.AttributeValueMemberNULL{Value: true}
	default:
		return &types.AttributeValueMemberM{Value: map[string]types.AttributeValue{name: own()}}
	}
}

// claimItem builds a valid record whose claim is shaped by shape (see
// claimShape) from the field texts, given in claimFields' order.
func claimItem(shape uint32, texts [5]string) map[string]types.AttributeValue {
	fields := map[string]types.AttributeValue{}
	for i, name := range claimFields {
		if v := claimField(name, texts[i], shape>>(3*(i+1))); v != nil {
			fields[name] = v
		}
	}
	if shape&(1<<18) != 0 {
		fields["extra"] = &types.AttributeValueMemberS{Value: texts[0]}
	}
	item := fuzzRecord()
	m := &types.AttributeValueMemberM{Value: fields}
	switch shape & 7 {
	case formMissing:
	case formS:
		item[attrClaim] = &types.AttributeValueMemberS{Value: texts[0]}
	case formL:
		item[attrClaim] = &types.AttributeValueMemberL{Value: []types.AttributeValue{m}}
	case formNULL:
		item[attrClaim] = &types.AttributeValueMemberNULL{Value: true}
	default:
		item[attrClaim] = m
	}
	return item
}

// FuzzDecodeClaim varies the claim of an otherwise valid record field by
// field, so that every shape of every field, and every number near a limit,
// is a mutation or two away, where FuzzDecodeRecord must first spell a whole
// claim map out of bytes. Only the claim may be blamed: the rest is valid.
func FuzzDecodeClaim(f *testing.F) {
	good := [5]string{"v2", "host/2/def", "b7", "1796150000000", "20000"}
	at := func(i int, text string) [5]string { t := good; t[i] = text; return t }
	kind := func(i int, k uint32) [5]uint32 { var ks [5]uint32; ks[i] = k; return ks }
	const since, lease = 3, 4 // indexes in claimFields
	f.Add(uint32(0), good[0], good[1], good[2], good[3], good[4])
	texts := [][5]string{at(0, ""), at(1, ""), at(2, ""), at(since, "0"), at(since, "253402300799999"),
		at(since, "253402300800000"), at(since, "-1"), at(since, "1e3"), at(since, " 1"), at(since, ""),
		at(since, "18446744073709551616"), at(lease, "1"), at(lease, "604800000"), at(lease, "604800001"),
		at(lease, "0"), at(lease, "1.0"), at(lease, "+5"), at(lease, "0001")}
	for _, tx := range texts {
		f.Add(uint32(0), tx[0], tx[1], tx[2], tx[3], tx[4])
	}
	for i := range claimFields {
		for _, k := range []uint32{kindMissing, kindOther, kindB, kindBOOL, kindNULL, kindNested} {
			f.Add(claimShape(formMap, kind(i, k), false), good[0], good[1], good[2], good[3], good[4])
		}
	}
	for _, form := range []uint32{formMissing, formS, formL, formNULL} {
		f.Add(claimShape(form, [5]uint32{}, false), good[0], good[1], good[2], good[3], good[4])
	}
	f.Add(claimShape(formMap, [5]uint32{}, true), good[0], good[1], good[2], good[3], good[4])
	f.Add(claimShape(formMap, [5]uint32{kindMissing, kindMissing, kindMissing, kindMissing, kindMissing}, false), "", "", "", "", "")
	f.Fuzz(func(t *testing.T, shape uint32, version, owner, beat, sinceMs, leaseMs string) {
		var tx [5]string
		for i, s := range []string{version, owner, beat, sinceMs, leaseMs} {
			tx[i] = s[:min(len(s), maxFuzzTail)] // longer texts decode no differently
		}
		item := claimItem(shape, tx)
		rec, err := checkDecode(t, item)
		var re *RecordError
		if errors.As(err, &re) && re.Attribute != attrClaim && !strings.HasPrefix(re.Attribute, attrClaim+".") {
			t.Fatalf("decodeRecord blames %q in a record whose only damage can be its claim: %v", re.Attribute, err)
		}
		if err == nil && shape&7 != formMissing && rec.claim.none() {
			t.Fatalf("decodeRecord accepted claim %v but decoded none", item[attrClaim])
		}
	})
}

const (
	// maxDataLen is beyond DynamoDB's 400 KB item limit, so that the fuzzer
	// crosses the limit from both sides.
	maxDataLen = 500 * 1024
	// maxFuzzTail bounds the arbitrary part of a key or sort value, for the
	// same minimizer; it leaves room for any mix of bad and multi-byte runes.
	maxFuzzTail = 64
)

// fuzzSessions returns Sessions without a client, with and without a sort key,
// as NewSession configures them: NewMutex's checks read nothing else. The owner
// is as long as allowed, so it weighs the most on the room left for data.
func fuzzSessions(tb testing.TB) (plain, sorted *Session) {
	owner := WithOwner(strings.Repeat("o", maxOwnerBytes))
	c1, err := newConfig([]Option{owner})
	if err != nil {
		tb.Fatal(err)
	}
	c2, err := newConfig([]Option{owner, WithSortKey("sk")})
	if err != nil {
		tb.Fatal(err)
	}
	return &Session{cfg: c1}, &Session{cfg: c2}
}

// itemBound is the size DynamoDB would count for the largest record of this
// lock: attribute names plus values, with numbers at their longest (a uint64
// in decimal) and the boolean at one byte.
func itemBound(cfg *config, key, sortValue string, data int) int {
	n := len(cfg.keys.partition) + len(key) + len(attrOwner) + len(cfg.owner) + len(attrVersion) + len("00000000-0000-0000-0000-000000000000")
	if cfg.keys.sort != "" {
		n += len(cfg.keys.sort) + len(sortValue)
	}
	maxUint := len("18446744073709551615")
	n += len(attrToken) + maxUint + len(attrLease) + maxUint + len(ExpiresAttribute) + maxUint
	n += len(attrReleased) + 1
	n += len(attrSent) + maxUint + len(attrDeadline) + maxUint + len(attrStamped) + len("00000000-0000-0000-0000-000000000000")
	// A claim, from another Session, whose owner may be as long as owners go.
	n += len(attrClaim) + len(claimVersion) + 36 + len(claimOwner) + maxOwnerBytes + len(claimBeat) + 36 +
		len(claimSince) + maxUint + len(claimLease) + maxUint
	if data > 0 {
		n += len(attrData) + data
	}
	return n
}

// FuzzMutexValidate runs arbitrary keys, sort-key values and data sizes
// through the checks NewMutex makes before any request. A key is a run of
// padding then arbitrary bytes, so that short inputs reach both sides of
// DynamoDB's 2048-byte key and 1024-byte sort-key limits; a 2 KB string
// argument would stall the fuzzer's quadratic minimizer. Seeds beyond these
// are in testdata/fuzz/FuzzMutexValidate.
func FuzzMutexValidate(f *testing.F) {
	plain, sorted := fuzzSessions(f)
	f.Add(uint16(0), "invoice/42", false, uint16(0), "", false, uint32(0))
	f.Add(uint16(0), "", false, uint16(0), "", false, uint32(0))
	f.Add(uint16(2048), "", true, uint16(1024), "", true, uint32(400*1024))
	f.Add(uint16(1), "\xc3\x28", true, uint16(0), "\xff", true, uint32(1))
	f.Fuzz(func(t *testing.T, keyPad uint16, keyTail string, withSortKey bool, sortPad uint16, sortTail string, giveSortValue bool, dataLen uint32) {
		key := strings.Repeat("k", int(keyPad)%2050) + keyTail[:min(len(keyTail), maxFuzzTail)]
		sortValue := strings.Repeat("s", int(sortPad)%1026) + sortTail[:min(len(sortTail), maxFuzzTail)]
		s := plain
		if withSortKey {
			s = sorted
		}
		n := int(dataLen % (maxDataLen + 1))
		opts := []MutexOption{WithData(make([]byte, n))}
		if giveSortValue {
			opts = append(opts, WithSortKeyValue(sortValue))
		}
		err := s.NewMutex(key, opts...).bad()

		keyOK := len(key) >= 1 && len(key) <= 2048 && utf8.ValidString(key)
		sortOK := !giveSortValue
		if withSortKey {
			sortOK = giveSortValue && len(sortValue) >= 1 && len(sortValue) <= 1024 && utf8.ValidString(sortValue)
		}
		if !keyOK || !sortOK {
			if !errors.Is(err, ErrInvalidKey) {
				t.Fatalf("%d-byte key %q, %d-byte sort value %q (given %v, table has one %v): got %v, want ErrInvalidKey",
					len(key), keyTail, len(sortValue), sortTail, giveSortValue, withSortKey, err)
			}
			return
		}
		if !giveSortValue {
			sortValue = ""
		}
		size := itemBound(s.cfg, key, sortValue, n)
		switch {
		case err == nil && size > maxItemBytes:
			t.Fatalf("accepted %d bytes of data in a record of up to %d bytes, over DynamoDB's %d", n, size, maxItemBytes)
		case err != nil && !errors.Is(err, ErrDataTooLarge):
			t.Fatalf("valid key and sort value: got %v, want nil or ErrDataTooLarge", err)
		case err != nil && n == 0:
			t.Fatalf("valid key and sort value without data: %v", err)
		case err != nil && size+1024 <= maxItemBytes:
			// A kilobyte covers any per-item overhead DynamoDB may count;
			// refusing data further below the limit takes room from users.
			t.Fatalf("refused %d bytes of data in a record of up to %d bytes: %v", n, size, err)
		}
	})
}
