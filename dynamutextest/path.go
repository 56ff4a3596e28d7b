package dynamutextest

import (
	"cmp"
	"slices"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// lookupPath returns the value at path in it, following map keys and list
// indexes; ok is false when any step is missing or of the wrong type.
func lookupPath(it item, path docPath) (v types.AttributeValue, ok bool) {
	v, ok = it[path[0].name]
	for _, e := range path[1:] {
		if !ok {
			return nil, false
		}
		switch c := v.(type) {
		case *types.AttributeValueMemberM:
			if e.isIndex {
				return nil, false
			}
			v, ok = c.Value[e.name]
		case *types.AttributeValueMemberL:
			if !e.isIndex || e.index >= len(c.Value) {
				return nil, false
			}
			v = c.Value[e.index]
		default:
			return nil, false
		}
	}
	return v, ok
}

func errInvalidPath() error {
	return validation("The document path provided in the update expression is invalid for update")
}

// parentOf returns the map or list that holds the last step of a nested
// path. DynamoDB does not create missing parents: writing a.b needs a to be
// a map already.
func parentOf(it item, path docPath) (types.AttributeValue, pathElem, error) {
	last := path[len(path)-1]
	parent, ok := lookupPath(it, path[:len(path)-1])
	if !ok {
		return nil, last, errInvalidPath()
	}
	switch parent.(type) {
	case *types.AttributeValueMemberM:
		if last.isIndex {
			return nil, last, errInvalidPath()
		}
	case *types.AttributeValueMemberL:
		if !last.isIndex {
			return nil, last, errInvalidPath()
		}
	default:
		return nil, last, errInvalidPath()
	}
	return parent, last, nil
}

// setPath stores v at path in it, which must be the caller's own copy. An
// index past the end of a list appends, as in DynamoDB.
func setPath(it item, path docPath, v types.AttributeValue) error {
	return editPath(it, path, func(m *types.AttributeValueMemberM, name string) {
		if m.Value == nil {
			m.Value = item{}
		}
		m.Value[name] = v
	}, func(l *types.AttributeValueMemberL, i int) {
		if i < len(l.Value) {
			l.Value[i] = v
		} else {
			l.Value = append(l.Value, v)
		}
	})
}

// removePath deletes the value at path; a missing map key or list index is
// not an error, a missing parent is.
func removePath(it item, path docPath) error {
	return editPath(it, path, func(m *types.AttributeValueMemberM, name string) {
		delete(m.Value, name)
	}, func(l *types.AttributeValueMemberL, i int) {
		if i < len(l.Value) {
			l.Value = slices.Delete(l.Value, i, i+1)
		}
	})
}

// editPath hands the map or list that holds the last step of path, with
// that step, to inMap or inList. A top-level attribute is held by the item
// itself, which inMap gets as a map value; a nested one needs its parent
// (see parentOf).
func editPath(it item, path docPath, inMap func(m *types.AttributeValueMemberM, name string),
	inList func(l *types.AttributeValueMemberL, i int)) error {
	if len(path) == 1 {
		inMap(&types.AttributeValueMemberM{Value: it}, path[0].name)
		return nil
	}
	parent, last, err := parentOf(it, path)
	if err != nil {
		return err
	}
	switch c := parent.(type) {
	case *types.AttributeValueMemberM:
		inMap(c, last.name)
	case *types.AttributeValueMemberL:
		inList(c, last.index)
	}
	return nil
}

// comparePaths orders paths step by step, list indexes numerically. REMOVE
// applies its paths in reverse of this order, so that removing l[0] does not
// shift the l[2] of the same expression.
func comparePaths(a, b docPath) int {
	for i := 0; i < len(a) && i < len(b); i++ {
		x, y := a[i], b[i]
		if c := cmp.Compare(x.name, y.name); c != 0 {
			return c
		}
		if c := cmp.Compare(x.index, y.index); c != 0 {
			return c
		}
	}
	return cmp.Compare(len(a), len(b))
}
