package dynamutextest

import (
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// pathElem is one step of a document path: a map key or a list index.
type pathElem struct {
	name    string
	index   int
	isIndex bool
}

// docPath is a document path such as a.b[2], with placeholders resolved.
type docPath []pathElem

// String formats the path as DynamoDB's error messages do: [a, b, [2]].
func (p docPath) String() string {
	parts := make([]string, len(p))
	for i, e := range p {
		if e.isIndex {
			parts[i] = "[" + strconv.Itoa(e.index) + "]"
		} else {
			parts[i] = e.name
		}
	}
	return "[" + strings.Join(parts, ", ") + "]"
}

func (p docPath) equal(q docPath) bool {
	return len(p) == len(q) && p.hasPrefix(q)
}

// hasPrefix reports whether q is p or an ancestor of p.
func (p docPath) hasPrefix(q docPath) bool {
	if len(q) > len(p) {
		return false
	}
	for i := range q {
		if p[i] != q[i] {
			return false
		}
	}
	return true
}

// overlaps reports DynamoDB's "two document paths overlap": one path is the
// other or contains it.
func (p docPath) overlaps(q docPath) bool { return p.hasPrefix(q) || q.hasPrefix(p) }

// operand is a value in an expression. Conditions use pathOp, valueOp and
// sizeOp; update expressions use pathOp, valueOp, ifNotExistsOp,
// listAppendOp and arithOp.
type operand interface{ operandNode() }

type pathOp struct{ path docPath }

type valueOp struct {
	ref string // the placeholder, for messages
	v   types.AttributeValue
}

type sizeOp struct{ arg operand }

type ifNotExistsOp struct {
	path docPath
	def  operand
}

type listAppendOp struct{ a, b operand }

type arithOp struct {
	minus bool
	a, b  operand
}

func (pathOp) operandNode()        {}
func (valueOp) operandNode()       {}
func (sizeOp) operandNode()        {}
func (ifNotExistsOp) operandNode() {}
func (listAppendOp) operandNode()  {}
func (arithOp) operandNode()       {}

// cond is a condition: the body of a ConditionExpression or
// FilterExpression.
type cond interface{ condNode() }

type compareCond struct {
	op   string // = <> < <= > >=
	a, b operand
}

type betweenCond struct{ x, lo, hi operand }

type inCond struct {
	x    operand
	list []operand
}

// funcCond is one of the functions that are conditions by themselves:
// attribute_exists, attribute_not_exists, attribute_type, begins_with and
// contains.
type funcCond struct {
	name string
	args []operand
}

type andCond struct{ a, b cond }
type orCond struct{ a, b cond }
type notCond struct{ c cond }

func (compareCond) condNode() {}
func (betweenCond) condNode() {}
func (inCond) condNode()      {}
func (funcCond) condNode()    {}
func (andCond) condNode()     {}
func (orCond) condNode()      {}
func (notCond) condNode()     {}

// updateExpr is a parsed UpdateExpression.
type updateExpr struct {
	sets    []setAction
	removes []docPath
	adds    []setAction // value is always a valueOp
	deletes []setAction // value is always a valueOp
}

type setAction struct {
	path  docPath
	value operand
}

// targets lists every path the update writes, in clause order.
func (u *updateExpr) targets() []docPath {
	var ps []docPath
	for _, a := range u.sets {
		ps = append(ps, a.path)
	}
	ps = append(ps, u.removes...)
	for _, a := range u.adds {
		ps = append(ps, a.path)
	}
	for _, a := range u.deletes {
		ps = append(ps, a.path)
	}
	return ps
}
