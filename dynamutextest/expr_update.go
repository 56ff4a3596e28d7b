package dynamutextest

import (
	"strings"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/dynamutex/dynamutex/internal/wire"
)

// Parsing of update expressions: SET, REMOVE, ADD and DELETE clauses, each
// at most once, in any order.

// parseUpdate parses an UpdateExpression.
func parseUpdate(src string, params *exprParams) (*updateExpr, error) {
	p, err := newParser(src, params)
	if err != nil {
		return nil, err
	}
	if p.peek().kind == tEOF {
		return nil, p.unexpected()
	}
	u := &updateExpr{}
	seen := map[string]bool{}
	for p.peek().kind != tEOF {
		t := p.peek()
		clause := strings.ToUpper(t.text)
		if t.kind != tKeyword || clause != "SET" && clause != "REMOVE" && clause != "ADD" && clause != "DELETE" {
			return nil, p.unexpected()
		}
		if seen[clause] {
			return nil, exprErrorf("The %q section can only be used once in an update expression;", clause)
		}
		seen[clause] = true
		p.next()
		if err := p.parseClause(clause, u); err != nil {
			return nil, err
		}
	}
	return u, checkOverlap(u.targets())
}

// parseClause reads the comma-separated actions of one clause.
func (p *parser) parseClause(clause string, u *updateExpr) error {
	for {
		path, err := p.parsePath()
		if err != nil {
			return err
		}
		switch clause {
		case "SET":
			if err := p.expectPunct("="); err != nil {
				return err
			}
			v, _, err := p.parseSetValue()
			if err != nil {
				return err
			}
			if err := checkListAppend(v, true); err != nil {
				return err
			}
			u.sets = append(u.sets, setAction{path: path, value: v})
		case "REMOVE":
			u.removes = append(u.removes, path)
		case "ADD", "DELETE":
			v, err := p.parseSetLiteral(clause)
			if err != nil {
				return err
			}
			a := setAction{path: path, value: v}
			if clause == "ADD" {
				u.adds = append(u.adds, a)
			} else {
				u.deletes = append(u.deletes, a)
			}
		}
		if !p.isPunct(",") {
			return nil
		}
		p.next()
	}
}

// parseSetLiteral reads the :value of an ADD or DELETE action: a number or
// set for ADD, a set for DELETE.
func (p *parser) parseSetLiteral(clause string) (operand, error) {
	if p.peek().kind != tValueRef {
		return nil, p.unexpected()
	}
	op, err := p.parseAtom()
	if err != nil {
		return nil, err
	}
	v := op.(valueOp).v
	isSet := memberType(v) != ""
	if !isSet && (clause == "DELETE" || wire.TypeName(v) != "N") {
		return nil, exprErrorf("Incorrect operand type for operator or function; operator: %s, operand type: %s", clause, wire.TypeName(v))
	}
	return op, nil
}

// parseSetValue reads the right side of a SET action: an operand, or two
// joined by + or -. paren reports a value that is one parenthesized
// operand, for the redundant-parentheses rule.
func (p *parser) parseSetValue() (v operand, paren bool, err error) {
	a, paren, err := p.parseSetOperand()
	if err != nil {
		return nil, false, err
	}
	if !p.isPunct("+") && !p.isPunct("-") {
		return a, paren, nil
	}
	op := p.next().text
	b, _, err := p.parseSetOperand()
	if err != nil {
		return nil, false, err
	}
	for _, o := range []operand{a, b} {
		if v, ok := o.(valueOp); ok && wire.TypeName(v.v) != "N" {
			return nil, false, incorrectOperand(op, v.v)
		}
	}
	return arithOp{minus: op == "-", a: a, b: b}, false, nil
}

// parseSetOperand reads a path, a :value, a parenthesized SET value, or a
// call of if_not_exists or list_append. paren reports the parenthesized
// case.
func (p *parser) parseSetOperand() (v operand, paren bool, err error) {
	switch {
	case p.isPunct("("):
		p.next()
		v, inner, err := p.parseSetValue()
		if err != nil {
			return nil, false, err
		}
		if inner {
			return nil, false, exprErrorf("The expression has redundant parentheses;")
		}
		return v, true, p.expectPunct(")")
	case p.isCall():
		v, err := p.parseSetFunction()
		return v, false, err
	}
	v, err = p.parseAtom()
	return v, false, err
}

// parseSetArg reads a function argument in a SET value.
func (p *parser) parseSetArg() (operand, error) {
	v, _, err := p.parseSetOperand()
	return v, err
}

// checkListAppend refuses list_append anywhere but at the top of a SET
// value: DynamoDB accepts if_not_exists inside list_append and arithmetic,
// but not the other way round.
func checkListAppend(v operand, top bool) error {
	switch v := v.(type) {
	case listAppendOp:
		if !top {
			return exprErrorf("The function is not allowed to be used this way in an expression; function: list_append")
		}
		if err := checkListAppend(v.a, false); err != nil {
			return err
		}
		return checkListAppend(v.b, false)
	case ifNotExistsOp:
		return checkListAppend(v.def, false)
	case arithOp:
		if err := checkListAppend(v.a, false); err != nil {
			return err
		}
		return checkListAppend(v.b, false)
	}
	return nil
}

func (p *parser) parseSetFunction() (operand, error) {
	name := p.next().text
	args, err := p.parseCallArgs(p.parseSetArg)
	if err != nil {
		return nil, err
	}
	switch name {
	case "if_not_exists", "list_append":
	case "size", "attribute_exists", "attribute_not_exists", "attribute_type", "begins_with", "contains":
		return nil, exprErrorf("The function is not allowed in an update expression; function: %s", name)
	default:
		return nil, exprErrorf("Invalid function name; function: %s", name)
	}
	if len(args) != 2 {
		return nil, exprErrorf("Incorrect number of operands for operator or function; operator or function: %s, "+
			"number of operands: %d", name, len(args))
	}
	if name == "list_append" {
		for _, a := range args {
			if v, ok := a.(valueOp); ok && wire.TypeName(v.v) != "L" {
				return nil, incorrectOperand(name, v.v)
			}
		}
		return listAppendOp{a: args[0], b: args[1]}, nil
	}
	path, ok := args[0].(pathOp)
	if !ok {
		return nil, exprErrorf("Operator or function requires a document path; operator or function: if_not_exists")
	}
	if err := checkDistinct(name, path, args[1]); err != nil {
		return nil, err
	}
	return ifNotExistsOp{path: path.path, def: args[1]}, nil
}

// updatedNames lists the top-level attributes an update writes, for
// ReturnValues UPDATED_OLD and UPDATED_NEW. Like DynamoDB Local, a nested
// path returns its whole top-level attribute.
func (u *updateExpr) updatedNames() []string {
	var names []string
	seen := map[string]bool{}
	for _, p := range u.targets() {
		if !seen[p[0].name] {
			seen[p[0].name] = true
			names = append(names, p[0].name)
		}
	}
	return names
}

// valueOf unwraps a valueOp; ADD and DELETE actions always hold one.
func valueOf(o operand) types.AttributeValue {
	if v, ok := o.(valueOp); ok {
		return v.v
	}
	return nil
}
