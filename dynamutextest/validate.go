package dynamutextest

import (
	"iter"
	"maps"
	"slices"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/dynamutex/dynamutex/internal/wire"
)

// maxItemSize is DynamoDB's item size limit, 400 KB.
const maxItemSize = 400 * 1024

// importValue checks v as DynamoDB checks request values and returns a deep
// copy with every number in canonical form. Storing canonical numbers makes
// "1.50" and "1.5" the same key and gives callers back what DynamoDB would.
func importValue(v types.AttributeValue) (types.AttributeValue, error) {
	switch v := v.(type) {
	case *types.AttributeValueMemberS, *types.AttributeValueMemberBOOL:
		return cloneValue(v), nil
	case *types.AttributeValueMemberN:
		n, err := canonicalNumber(v.Value)
		if err != nil {
			return nil, validation("%s", err)
		}
		return &types.AttributeValueMemberN{Value: n}, nil
	case *types.AttributeValueMemberB:
		// The SDK sends a nil slice as no value at all.
		if v.Value == nil {
			return nil, validation("Supplied AttributeValue is empty, must contain exactly one of the supported datatypes")
		}
		return cloneValue(v), nil
	case *types.AttributeValueMemberNULL:
		if !v.Value {
			return nil, validation("One or more parameter values were invalid: Null attribute value types must have the value of true")
		}
		return cloneValue(v), nil
	case *types.AttributeValueMemberSS, *types.AttributeValueMemberNS, *types.AttributeValueMemberBS:
		return importSet(v)
	case *types.AttributeValueMemberL:
		l := make([]types.AttributeValue, len(v.Value))
		if err := importEach(slices.All(v.Value), func(i int, c types.AttributeValue) { l[i] = c }); err != nil {
			return nil, err
		}
		return &types.AttributeValueMemberL{Value: l}, nil
	case *types.AttributeValueMemberM:
		m := make(item, len(v.Value))
		if err := importEach(maps.All(v.Value), func(k string, c types.AttributeValue) { m[k] = c }); err != nil {
			return nil, err
		}
		return &types.AttributeValueMemberM{Value: m}, nil
	case nil:
		return nil, validation("Supplied AttributeValue is empty, must contain exactly one of the supported datatypes")
	}
	return nil, unsupported("the AttributeValue type " + wire.TypeName(v))
}

// importEach imports the elements of a list or a map, in the order elems
// yields them, and hands each copy to put; it stops at the first error.
func importEach[K comparable](elems iter.Seq2[K, types.AttributeValue], put func(K, types.AttributeValue)) error {
	for k, e := range elems {
		c, err := importValue(e)
		if err != nil {
			return err
		}
		put(k, c)
	}
	return nil
}

// importSet checks that a set is non-empty and free of duplicates (numbers
// compared by value) and canonicalizes its numbers.
func importSet(v types.AttributeValue) (types.AttributeValue, error) {
	members := setMembers(v)
	if len(members) == 0 {
		kind := map[string]string{"S": "string", "N": "number", "B": "binary"}[memberType(v)]
		return nil, validation("One or more parameter values were invalid: An %s set  may not be empty", kind)
	}
	seen := make(map[string]bool, len(members))
	for _, m := range members {
		k, err := scalarKey(m)
		if err != nil {
			return nil, err
		}
		if seen[k] {
			return nil, validation("One or more parameter values were invalid: Input collection contains duplicates")
		}
		seen[k] = true
	}
	out := cloneValue(v)
	if ns, ok := out.(*types.AttributeValueMemberNS); ok {
		for i, s := range ns.Value {
			ns.Value[i], _ = canonicalNumber(s) // checked by scalarKey
		}
	}
	return out, nil
}

// scalarKey is a string that identifies a scalar value: equal values (as
// DynamoDB compares them) have equal keys. It is used for set members and
// primary keys.
func scalarKey(v types.AttributeValue) (string, error) {
	switch v := v.(type) {
	case *types.AttributeValueMemberS:
		return "S" + v.Value, nil
	case *types.AttributeValueMemberN:
		n, err := canonicalNumber(v.Value)
		if err != nil {
			return "", validation("%s", err)
		}
		return "N" + n, nil
	case *types.AttributeValueMemberB:
		return "B" + string(v.Value), nil
	}
	return "", validation("Supplied AttributeValue has an unsupported type %s", wire.TypeName(v))
}

// importItem validates and copies a whole item.
func importItem(in item) (item, error) {
	out := make(item, len(in))
	for k, v := range in {
		if k == "" {
			return nil, validation("One or more parameter values were invalid: Empty attribute name")
		}
		c, err := importValue(v)
		if err != nil {
			return nil, err
		}
		out[k] = c
	}
	return out, nil
}

// itemSize approximates DynamoDB's item size: attribute name lengths plus
// value sizes, with a number taking one byte per two significant digits plus
// one, and lists and maps three bytes plus one per element. It matches
// DynamoDB for the scalar attributes that dominate real items; nested
// documents may be a few bytes off.
func itemSize(it item) int {
	n := 0
	for k, v := range it {
		n += len(k) + valueSize(v)
	}
	return n
}

func valueSize(v types.AttributeValue) int {
	switch v := v.(type) {
	case *types.AttributeValueMemberS:
		return len(v.Value)
	case *types.AttributeValueMemberB:
		return len(v.Value)
	case *types.AttributeValueMemberN:
		return numberSize(v.Value)
	case *types.AttributeValueMemberBOOL, *types.AttributeValueMemberNULL:
		return 1
	case *types.AttributeValueMemberSS:
		return sumOf(v.Value, func(s string) int { return len(s) })
	case *types.AttributeValueMemberNS:
		return sumOf(v.Value, numberSize)
	case *types.AttributeValueMemberBS:
		return sumOf(v.Value, func(b []byte) int { return len(b) })
	case *types.AttributeValueMemberL:
		return 3 + sumOf(v.Value, func(e types.AttributeValue) int { return valueSize(e) + 1 })
	case *types.AttributeValueMemberM:
		n := 3
		for k, e := range v.Value {
			n += len(k) + valueSize(e) + 1
		}
		return n
	}
	return 0
}

// sumOf adds up the sizes of the members of a set or the elements of a list.
func sumOf[E any](es []E, size func(E) int) int {
	n := 0
	for _, e := range es {
		n += size(e)
	}
	return n
}

func numberSize(s string) int {
	return (mustDecimal(s).digitCount()+1)/2 + 1
}

// checkItemSize refuses an item over 400 KB. msg differs by operation, as in
// DynamoDB.
func checkItemSize(it item, msg string) error {
	if itemSize(it) > maxItemSize {
		return validation("%s", msg)
	}
	return nil
}

const (
	msgItemTooBig       = "Item size has exceeded the maximum allowed size"
	msgUpdateItemTooBig = "Item size to update has exceeded the maximum allowed size"
)
