package dynamutextest

import (
	"encoding/base64"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/dynamutex/dynamutex/internal/wire"
)

// The checks below are the ones DynamoDB makes before it reads the item:
// they depend only on the expression and its literal values, so a request
// that fails them fails whatever the table holds.

// maxInOperands is DynamoDB's limit on the list of IN.
const maxInOperands = 100

func checkCompare(op string, a, b operand) (cond, error) {
	if err := checkDistinct(op, a, b); err != nil {
		return nil, err
	}
	if op != "=" && op != "<>" {
		if err := checkOrdered(op, a, b); err != nil {
			return nil, err
		}
	}
	return compareCond{op: op, a: a, b: b}, nil
}

func checkBetween(x, lo, hi operand) (cond, error) {
	if err := checkDistinct("BETWEEN", x, lo, hi); err != nil {
		return nil, err
	}
	if err := checkOrdered("BETWEEN", x, lo, hi); err != nil {
		return nil, err
	}
	l, lok := lo.(valueOp)
	h, hok := hi.(valueOp)
	if lok && hok {
		c, same := compareValues(l.v, h.v)
		if !same {
			return nil, exprErrorf("The BETWEEN operator requires same data type for lower and upper bounds; "+
				"lower bound operand: AttributeValue: %s, upper bound operand: AttributeValue: %s", showValue(l.v), showValue(h.v))
		}
		if c > 0 {
			return nil, exprErrorf("The BETWEEN operator requires upper bound to be greater than or equal to lower bound; "+
				"lower bound operand: AttributeValue: %s, upper bound operand: AttributeValue: %s", showValue(l.v), showValue(h.v))
		}
	}
	return betweenCond{x: x, lo: lo, hi: hi}, nil
}

func checkIn(x operand, list []operand) (cond, error) {
	if len(list) > maxInOperands {
		return nil, exprErrorf("Too many operands for IN; maximum: %d, number of operands: %d", maxInOperands, len(list))
	}
	if err := checkDistinct("IN", x, list...); err != nil {
		return nil, err
	}
	return inCond{x: x, list: list}, nil
}

// condFuncArity is the number of arguments of each condition function.
var condFuncArity = map[string]int{
	"attribute_exists": 1, "attribute_not_exists": 1, "attribute_type": 2, "begins_with": 2, "contains": 2,
}

// validTypeNames are the arguments attribute_type accepts.
var validTypeNames = map[string]bool{
	"S": true, "N": true, "B": true, "BOOL": true, "NULL": true, "SS": true, "NS": true, "BS": true, "L": true, "M": true,
}

func checkCondFunc(name string, args []operand) (cond, error) {
	if len(args) != condFuncArity[name] {
		return nil, exprErrorf("Incorrect number of operands for operator or function; operator or function: %s, "+
			"number of operands: %d", name, len(args))
	}
	switch name {
	case "attribute_exists", "attribute_not_exists":
		if _, ok := args[0].(pathOp); !ok {
			return nil, exprErrorf("Operator or function requires a document path; operator or function: %s", name)
		}
	case "attribute_type":
		if _, ok := args[0].(pathOp); !ok {
			return nil, exprErrorf("Operator or function requires a document path; operator or function: %s", name)
		}
		if err := checkTypeName(args[1]); err != nil {
			return nil, err
		}
	case "begins_with":
		if err := checkDistinct(name, args[0], args[1]); err != nil {
			return nil, err
		}
		for _, a := range args {
			if v, ok := a.(valueOp); ok && wire.TypeName(v.v) != "S" && wire.TypeName(v.v) != "B" {
				return nil, incorrectOperand(name, v.v)
			}
			if _, ok := a.(sizeOp); ok { // size() is a number
				return nil, exprErrorf("Incorrect operand type for operator or function; operator or function: %s, operand type: N", name)
			}
		}
	case "contains":
		if err := checkDistinct(name, args[0], args[1]); err != nil {
			return nil, err
		}
	}
	return funcCond{name: name, args: args}, nil
}

func checkTypeName(a operand) error {
	v, ok := a.(valueOp)
	if !ok {
		return exprErrorf("Incorrect operand type for operator or function; operator or function: attribute_type, " +
			"operand type: a document path; it needs an expression attribute value")
	}
	s, ok := v.v.(*types.AttributeValueMemberS)
	if !ok {
		return incorrectOperand("attribute_type", v.v)
	}
	if !validTypeNames[s.Value] {
		return exprErrorf("Invalid attribute type name found; type: %s, valid types: {B,BOOL,BS,L,M,N,NS,NULL,S,SS}", s.Value)
	}
	return nil
}

func checkSize(args []operand) (operand, error) {
	if len(args) != 1 {
		return nil, exprErrorf("Incorrect number of operands for operator or function; operator or function: size, "+
			"number of operands: %d", len(args))
	}
	switch a := args[0].(type) {
	case pathOp:
	case valueOp:
		if _, ok := sizeOf(a.v); !ok {
			return nil, incorrectOperand("size", a.v)
		}
	default:
		return nil, exprErrorf("Operator or function requires a document path; operator or function: size")
	}
	return sizeOp{arg: args[0]}, nil
}

// checkDistinct refuses comparing a path with itself, which DynamoDB treats
// as a mistake rather than a tautology.
func checkDistinct(op string, first operand, rest ...operand) error {
	fp, ok := first.(pathOp)
	if !ok {
		return nil
	}
	for _, r := range rest {
		if rp, ok := r.(pathOp); ok && rp.path.equal(fp.path) {
			return exprErrorf("The first operand must be distinct from the remaining operands for this operator or "+
				"function; operator: %s, first operand: %s", op, fp.path)
		}
	}
	return nil
}

// checkOrdered refuses literal operands of a type that has no order.
func checkOrdered(op string, ops ...operand) error {
	for _, o := range ops {
		if v, ok := o.(valueOp); ok && !isOrdered(v.v) {
			return incorrectOperand(op, v.v)
		}
	}
	return nil
}

func incorrectOperand(op string, v types.AttributeValue) *exprError {
	return exprErrorf("Incorrect operand type for operator or function; operator or function: %s, operand type: %s", op, wire.TypeName(v))
}

// showValue formats a scalar as DynamoDB's messages do: {N:6}.
func showValue(v types.AttributeValue) string {
	switch v := v.(type) {
	case *types.AttributeValueMemberS:
		return "{S:" + v.Value + "}"
	case *types.AttributeValueMemberN:
		return "{N:" + v.Value + "}"
	case *types.AttributeValueMemberB:
		return "{B:" + base64.StdEncoding.EncodeToString(v.Value) + "}"
	}
	return "{" + wire.TypeName(v) + "}"
}
