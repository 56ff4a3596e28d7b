package dynamutextest

import (
	"bytes"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/dynamutex/dynamutex/internal/wire"
)

// evalCond evaluates a condition against it, which is nil for a missing
// item. As in DynamoDB, comparing values of different types, or a missing
// attribute, is false rather than an error; only <> is true then.
func evalCond(c cond, it item) bool {
	switch c := c.(type) {
	case andCond:
		return evalCond(c.a, it) && evalCond(c.b, it)
	case orCond:
		return evalCond(c.a, it) || evalCond(c.b, it)
	case notCond:
		return !evalCond(c.c, it)
	case compareCond:
		return evalCompare(c, it)
	case betweenCond:
		x, xok := operandValue(c.x, it)
		lo, lok := operandValue(c.lo, it)
		hi, hok := operandValue(c.hi, it)
		if !xok || !lok || !hok {
			return false
		}
		a, aok := compareValues(lo, x)
		b, bok := compareValues(x, hi)
		return aok && bok && a <= 0 && b <= 0
	case inCond:
		x, ok := operandValue(c.x, it)
		if !ok {
			return false
		}
		for _, o := range c.list {
			if v, ok := operandValue(o, it); ok && equalValues(x, v) {
				return true
			}
		}
		return false
	case funcCond:
		return evalFunc(c, it)
	}
	return false
}

func evalCompare(c compareCond, it item) bool {
	a, aok := operandValue(c.a, it)
	b, bok := operandValue(c.b, it)
	if c.op == "<>" {
		return !aok || !bok || !equalValues(a, b)
	}
	if !aok || !bok {
		return false
	}
	if c.op == "=" {
		return equalValues(a, b)
	}
	n, ok := compareValues(a, b)
	if !ok {
		return false
	}
	switch c.op {
	case "<":
		return n < 0
	case "<=":
		return n <= 0
	case ">":
		return n > 0
	default: // ">="
		return n >= 0
	}
}

// operandValue is the value of a condition operand; ok is false when it
// names a missing attribute, or size() of a type without a size.
func operandValue(o operand, it item) (types.AttributeValue, bool) {
	switch o := o.(type) {
	case pathOp:
		return lookupPath(it, o.path)
	case valueOp:
		return o.v, true
	case sizeOp:
		v, ok := operandValue(o.arg, it)
		if !ok {
			return nil, false
		}
		n, ok := sizeOf(v)
		if !ok {
			return nil, false
		}
		return &types.AttributeValueMemberN{Value: strconv.Itoa(n)}, true
	}
	return nil, false
}

func evalFunc(f funcCond, it item) bool {
	a, aok := operandValue(f.args[0], it)
	switch f.name {
	case "attribute_exists":
		return aok
	case "attribute_not_exists":
		return !aok
	}
	b, bok := operandValue(f.args[1], it)
	if !aok || !bok {
		return false
	}
	switch f.name {
	case "attribute_type":
		want, _ := b.(*types.AttributeValueMemberS)
		return want != nil && wire.TypeName(a) == want.Value
	case "begins_with":
		return beginsWith(a, b)
	default: // "contains"
		return contains(a, b)
	}
}

func beginsWith(a, b types.AttributeValue) bool {
	match, _ := matchText(a, b, strings.HasPrefix, bytes.HasPrefix)
	return match
}

// contains is true for a substring of a string or binary, a member of a
// set, or an element of a list.
func contains(a, b types.AttributeValue) bool {
	if match, text := matchText(a, b, strings.Contains, bytes.Contains); text {
		return match
	}
	switch a := a.(type) {
	case *types.AttributeValueMemberSS, *types.AttributeValueMemberNS, *types.AttributeValueMemberBS:
		return memberType(a) == wire.TypeName(b) && setContains(a, b)
	case *types.AttributeValueMemberL:
		for _, e := range a.Value {
			if equalValues(e, b) {
				return true
			}
		}
	}
	return false
}

// matchText applies inString to a string a and inBytes to a binary a, each
// with b, which must be of a's type (else there is no match). text reports
// whether a is a string or a binary at all.
func matchText(a, b types.AttributeValue, inString func(s, sub string) bool, inBytes func(b, sub []byte) bool) (match, text bool) {
	switch a := a.(type) {
	case *types.AttributeValueMemberS:
		p, ok := b.(*types.AttributeValueMemberS)
		return ok && inString(a.Value, p.Value), true
	case *types.AttributeValueMemberB:
		p, ok := b.(*types.AttributeValueMemberB)
		return ok && inBytes(a.Value, p.Value), true
	}
	return false, false
}
