package dynamutextest

import (
	"slices"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/dynamutex/dynamutex/internal/wire"
)

func errMissingOperand() error {
	return validation("The provided expression refers to an attribute that does not exist in the item")
}

func errOperandType() error {
	return validation("An operand in the update expression has an incorrect data type")
}

// applyUpdate returns the item that u makes of old (nil when there was no
// item; then the update starts from the key attributes alone). old itself
// is not changed.
//
// Every SET value is computed from the old item before anything is
// written, as DynamoDB does: "SET a = :v, b = a" gives b the old a.
func applyUpdate(u *updateExpr, old, key item) (item, error) {
	out := cloneItem(old)
	if out == nil {
		out = cloneItem(key)
	}
	if u == nil {
		return out, nil
	}
	vals := make([]types.AttributeValue, len(u.sets))
	for i, a := range u.sets {
		v, err := evalSetValue(a.value, old)
		if err != nil {
			return nil, err
		}
		vals[i] = cloneValue(v)
	}
	for i, a := range u.sets {
		if err := setPath(out, a.path, vals[i]); err != nil {
			return nil, err
		}
	}
	for _, a := range u.adds {
		if err := applyAdd(out, a.path, valueOf(a.value)); err != nil {
			return nil, err
		}
	}
	for _, a := range u.deletes {
		if err := applyDelete(out, a.path, valueOf(a.value)); err != nil {
			return nil, err
		}
	}
	removes := slices.Clone(u.removes)
	slices.SortFunc(removes, func(a, b docPath) int { return comparePaths(b, a) })
	for _, p := range removes {
		if err := removePath(out, p); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// evalSetValue computes the right side of a SET action against the old
// item.
func evalSetValue(o operand, old item) (types.AttributeValue, error) {
	switch o := o.(type) {
	case valueOp:
		return o.v, nil
	case pathOp:
		v, ok := lookupPath(old, o.path)
		if !ok {
			return nil, errMissingOperand()
		}
		return v, nil
	case ifNotExistsOp:
		// The default is computed even when unused: DynamoDB refuses a
		// default that names a missing attribute either way.
		def, err := evalSetValue(o.def, old)
		if err != nil {
			return nil, err
		}
		if v, ok := lookupPath(old, o.path); ok {
			return v, nil
		}
		return def, nil
	case listAppendOp:
		return evalListAppend(o, old)
	case arithOp:
		return evalArith(o, old)
	}
	return nil, errOperandType()
}

func evalListAppend(o listAppendOp, old item) (types.AttributeValue, error) {
	la, lb, err := evalOperands[*types.AttributeValueMemberL](o.a, o.b, old)
	if err != nil {
		return nil, err
	}
	return &types.AttributeValueMemberL{Value: slices.Concat(la.Value, lb.Value)}, nil
}

func evalArith(o arithOp, old item) (types.AttributeValue, error) {
	na, nb, err := evalOperands[*types.AttributeValueMemberN](o.a, o.b, old)
	if err != nil {
		return nil, err
	}
	x, y := mustDecimal(na.Value), mustDecimal(nb.Value)
	var r decimal
	if o.minus {
		r, err = x.sub(y)
	} else {
		r, err = x.add(y)
	}
	if err != nil {
		return nil, validation("%s", err)
	}
	return &types.AttributeValueMemberN{Value: r.String()}, nil
}

// evalOperands computes a and then b, the operands of list_append or of
// + and -, which must both be of type T.
func evalOperands[T types.AttributeValue](a, b operand, old item) (T, T, error) {
	var zero T
	x, err := evalSetValue(a, old)
	if err != nil {
		return zero, zero, err
	}
	y, err := evalSetValue(b, old)
	if err != nil {
		return zero, zero, err
	}
	tx, xok := x.(T)
	ty, yok := y.(T)
	if !xok || !yok {
		return zero, zero, errOperandType()
	}
	return tx, ty, nil
}

// applyAdd adds a number to a number, or members to a set; a missing
// attribute starts from v.
func applyAdd(it item, path docPath, v types.AttributeValue) error {
	cur, ok := lookupPath(it, path)
	if !ok {
		return setPath(it, path, cloneValue(v))
	}
	if n, isN := cur.(*types.AttributeValueMemberN); isN {
		add, isN := v.(*types.AttributeValueMemberN)
		if !isN {
			return errOperandType()
		}
		sum, err := mustDecimal(n.Value).add(mustDecimal(add.Value))
		if err != nil {
			return validation("%s", err)
		}
		return setPath(it, path, &types.AttributeValueMemberN{Value: sum.String()})
	}
	if memberType(cur) == "" || wire.TypeName(cur) != wire.TypeName(v) {
		return errOperandType()
	}
	merged := cloneValue(cur)
	for _, m := range setMembers(v) {
		if !setContains(cur, m) {
			merged = appendMember(merged, m)
		}
	}
	return setPath(it, path, merged)
}

// applyDelete removes members from a set, and the attribute itself when the
// set ends up empty, since DynamoDB has no empty sets.
func applyDelete(it item, path docPath, v types.AttributeValue) error {
	cur, ok := lookupPath(it, path)
	if !ok {
		if len(path) > 1 {
			if _, _, err := parentOf(it, path); err != nil {
				return err
			}
		}
		return nil
	}
	if wire.TypeName(cur) != wire.TypeName(v) {
		return errOperandType()
	}
	var kept types.AttributeValue
	for _, m := range setMembers(cur) {
		if !setContains(v, m) {
			kept = appendMember(kept, m)
		}
	}
	if kept == nil {
		return removePath(it, path)
	}
	return setPath(it, path, kept)
}

// appendMember adds the scalar m to set, creating the set (of m's type)
// when set is nil.
func appendMember(set, m types.AttributeValue) types.AttributeValue {
	switch m := m.(type) {
	case *types.AttributeValueMemberS:
		return appendTo(set, m.Value, func(s *types.AttributeValueMemberSS) *[]string { return &s.Value })
	case *types.AttributeValueMemberN:
		return appendTo(set, m.Value, func(s *types.AttributeValueMemberNS) *[]string { return &s.Value })
	case *types.AttributeValueMemberB:
		return appendTo(set, m.Value, func(s *types.AttributeValueMemberBS) *[][]byte { return &s.Value })
	}
	return set
}

// appendTo appends x to set, a set of type *S whose members values gives,
// or to a new one when set is not such a set.
func appendTo[S, E any, P interface {
	*S
	types.AttributeValue
}](set types.AttributeValue, x E, values func(P) *[]E) types.AttributeValue {
	s, _ := set.(P)
	if s == nil {
		s = new(S)
	}
	v := values(s)
	*v = append(*v, x)
	return s
}
