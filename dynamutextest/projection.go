package dynamutextest

import (
	"maps"
	"slices"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// project returns a copy of the parts of it that paths name. Like DynamoDB,
// projecting list elements yields a list of just those elements, in index
// order: projecting l[3] of a four-element list gives a one-element list.
func project(it item, paths []docPath) item {
	root := &projNode{}
	for _, p := range paths {
		if v, ok := lookupPath(it, p); ok {
			root.insert(p, v)
		}
	}
	out := item{}
	for name, n := range root.fields {
		out[name] = n.build()
	}
	return out
}

// shaped returns the copy of it that a read gives its caller: the parts
// that paths name, or all of it when the read has no projection.
func shaped(it item, paths []docPath) item {
	if paths != nil {
		return project(it, paths)
	}
	return cloneItem(it)
}

// projNode collects the projected parts of one value.
type projNode struct {
	leaf   types.AttributeValue
	fields map[string]*projNode
	elems  map[int]*projNode
}

func (n *projNode) insert(path docPath, v types.AttributeValue) {
	for _, e := range path {
		var next *projNode
		if e.isIndex {
			if n.elems == nil {
				n.elems = map[int]*projNode{}
			}
			if next = n.elems[e.index]; next == nil {
				next = &projNode{}
				n.elems[e.index] = next
			}
		} else {
			if n.fields == nil {
				n.fields = map[string]*projNode{}
			}
			if next = n.fields[e.name]; next == nil {
				next = &projNode{}
				n.fields[e.name] = next
			}
		}
		n = next
	}
	n.leaf = v
}

func (n *projNode) build() types.AttributeValue {
	switch {
	case n.leaf != nil:
		return cloneValue(n.leaf)
	case n.elems != nil:
		idx := slices.Sorted(maps.Keys(n.elems))
		l := make([]types.AttributeValue, len(idx))
		for i, k := range idx {
			l[i] = n.elems[k].build()
		}
		return &types.AttributeValueMemberL{Value: l}
	default:
		m := item{}
		for name, c := range n.fields {
			m[name] = c.build()
		}
		return &types.AttributeValueMemberM{Value: m}
	}
}
