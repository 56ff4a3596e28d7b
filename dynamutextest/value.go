package dynamutextest

import (
	"bytes"
	"maps"
	"slices"
	"strings"
	"unicode/utf16"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/dynamutex/dynamutex/internal/wire"
)

// cloneValue deep-copies v, so that neither the caller nor the Store can
// change what the other holds.
func cloneValue(v types.AttributeValue) types.AttributeValue {
	switch v := v.(type) {
	case *types.AttributeValueMemberS:
		return &types.AttributeValueMemberS{Value: v.Value}
	case *types.AttributeValueMemberN:
		return &types.AttributeValueMemberN{Value: v.Value}
	case *types.AttributeValueMemberB:
		return &types.AttributeValueMemberB{Value: bytes.Clone(v.Value)}
	case *types.AttributeValueMemberBOOL:
		return &types.AttributeValueMemberBOOL{Value: v.Value}
	case *types.AttributeValueMemberNULL:
		return &types.AttributeValueMemberNULL{Value: v.Value}
	case *types.AttributeValueMemberSS:
		return &types.AttributeValueMemberSS{Value: append([]string(nil), v.Value...)}
	case *types.AttributeValueMemberNS:
		return &types.AttributeValueMemberNS{Value: append([]string(nil), v.Value...)}
	case *types.AttributeValueMemberBS:
		bs := make([][]byte, len(v.Value))
		for i, b := range v.Value {
			bs[i] = bytes.Clone(b)
		}
		return &types.AttributeValueMemberBS{Value: bs}
	case *types.AttributeValueMemberL:
		l := make([]types.AttributeValue, len(v.Value))
		for i, e := range v.Value {
			l[i] = cloneValue(e)
		}
		return &types.AttributeValueMemberL{Value: l}
	case *types.AttributeValueMemberM:
		return &types.AttributeValueMemberM{Value: cloneItem(v.Value)}
	}
	return v // nil or an unknown type, both refused on the way in
}

// cloneItem deep-copies an item; nil stays nil.
func cloneItem(m item) item {
	if m == nil {
		return nil
	}
	c := make(item, len(m))
	for k, v := range m {
		c[k] = cloneValue(v)
	}
	return c
}

// equalValues is DynamoDB's "=": same type and same value, with numbers
// compared as numbers and sets compared regardless of order.
func equalValues(a, b types.AttributeValue) bool {
	switch a := a.(type) {
	case *types.AttributeValueMemberS:
		b, ok := b.(*types.AttributeValueMemberS)
		return ok && a.Value == b.Value
	case *types.AttributeValueMemberN:
		b, ok := b.(*types.AttributeValueMemberN)
		return ok && mustDecimal(a.Value).cmp(mustDecimal(b.Value)) == 0
	case *types.AttributeValueMemberB:
		b, ok := b.(*types.AttributeValueMemberB)
		return ok && bytes.Equal(a.Value, b.Value)
	case *types.AttributeValueMemberBOOL:
		b, ok := b.(*types.AttributeValueMemberBOOL)
		return ok && a.Value == b.Value
	case *types.AttributeValueMemberNULL:
		_, ok := b.(*types.AttributeValueMemberNULL)
		return ok
	case *types.AttributeValueMemberSS, *types.AttributeValueMemberNS, *types.AttributeValueMemberBS:
		return wire.TypeName(a) == wire.TypeName(b) && equalSets(a, b)
	case *types.AttributeValueMemberL:
		b, ok := b.(*types.AttributeValueMemberL)
		return ok && slices.EqualFunc(a.Value, b.Value, equalValues)
	case *types.AttributeValueMemberM:
		b, ok := b.(*types.AttributeValueMemberM)
		return ok && maps.EqualFunc(a.Value, b.Value, equalValues)
	}
	return false
}

// equalSets compares two sets of the same type. Set members are unique, so
// equal sizes and inclusion one way suffice.
func equalSets(a, b types.AttributeValue) bool {
	ea, eb := setMembers(a), setMembers(b)
	if len(ea) != len(eb) {
		return false
	}
	for _, x := range ea {
		if !setContains(b, x) {
			return false
		}
	}
	return true
}

// setMembers returns the members of a set as scalar values, or nil for
// anything that is not a set.
func setMembers(v types.AttributeValue) []types.AttributeValue {
	var out []types.AttributeValue
	switch v := v.(type) {
	case *types.AttributeValueMemberSS:
		for _, s := range v.Value {
			out = append(out, &types.AttributeValueMemberS{Value: s})
		}
	case *types.AttributeValueMemberNS:
		for _, s := range v.Value {
			out = append(out, &types.AttributeValueMemberN{Value: s})
		}
	case *types.AttributeValueMemberBS:
		for _, b := range v.Value {
			out = append(out, &types.AttributeValueMemberB{Value: b})
		}
	}
	return out
}

// setContains reports whether set has a member equal to x.
func setContains(set, x types.AttributeValue) bool {
	for _, m := range setMembers(set) {
		if equalValues(m, x) {
			return true
		}
	}
	return false
}

// memberType is the scalar type of a set's members ("S" for SS).
func memberType(set types.AttributeValue) string {
	switch set.(type) {
	case *types.AttributeValueMemberSS, *types.AttributeValueMemberNS, *types.AttributeValueMemberBS:
		return strings.TrimSuffix(wire.TypeName(set), "S")
	}
	return ""
}

// compareValues orders two values of the same scalar type: numbers by value,
// strings and binaries by their bytes (DynamoDB compares strings by their
// UTF-8 bytes). ok is false for different types or non-scalars, which
// DynamoDB treats as a false comparison, not an error.
func compareValues(a, b types.AttributeValue) (c int, ok bool) {
	switch a := a.(type) {
	case *types.AttributeValueMemberN:
		if b, isN := b.(*types.AttributeValueMemberN); isN {
			return mustDecimal(a.Value).cmp(mustDecimal(b.Value)), true
		}
	case *types.AttributeValueMemberS:
		if b, isS := b.(*types.AttributeValueMemberS); isS {
			return bytes.Compare([]byte(a.Value), []byte(b.Value)), true
		}
	case *types.AttributeValueMemberB:
		if b, isB := b.(*types.AttributeValueMemberB); isB {
			return bytes.Compare(a.Value, b.Value), true
		}
	}
	return 0, false
}

// isOrdered reports whether v's type supports < and BETWEEN.
func isOrdered(v types.AttributeValue) bool {
	switch v.(type) {
	case *types.AttributeValueMemberN, *types.AttributeValueMemberS, *types.AttributeValueMemberB:
		return true
	}
	return false
}

// sizeOf is the size() function: the length of a string or binary, the
// number of members of a set, list or map. ok is false for other types,
// which makes the comparison using it false.
//
// Strings count UTF-16 code units, as DynamoDB Local does ("a😀b" has size
// 4); most strings are ASCII, where this equals both bytes and characters.
func sizeOf(v types.AttributeValue) (int, bool) {
	switch v := v.(type) {
	case *types.AttributeValueMemberS:
		return len(utf16.Encode([]rune(v.Value))), true
	case *types.AttributeValueMemberB:
		return len(v.Value), true
	case *types.AttributeValueMemberSS:
		return len(v.Value), true
	case *types.AttributeValueMemberNS:
		return len(v.Value), true
	case *types.AttributeValueMemberBS:
		return len(v.Value), true
	case *types.AttributeValueMemberL:
		return len(v.Value), true
	case *types.AttributeValueMemberM:
		return len(v.Value), true
	}
	return 0, false
}
