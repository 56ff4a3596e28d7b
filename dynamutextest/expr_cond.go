package dynamutextest

// Parsing of condition expressions (ConditionExpression, FilterExpression).
// Precedence, loosest first: OR, AND, NOT, then comparisons, BETWEEN, IN
// and functions, then parentheses.

// node is a parsed sub-expression. "(" may open a condition or an operand
// ("(a = :v)" or "(a) = :v"), which is only known once its content is
// parsed, so the parser carries either until the context decides.
type node struct {
	c      cond
	op     operand
	parens bool // wrapped in parentheses, for the redundant-parentheses rule
}

// parseCondition parses a ConditionExpression or FilterExpression.
func parseCondition(src string, params *exprParams) (cond, error) {
	p, err := newParser(src, params)
	if err != nil {
		return nil, err
	}
	n, err := p.parseOr()
	if err != nil {
		return nil, err
	}
	if err := p.expectEOF(); err != nil {
		return nil, err
	}
	return p.asCond(n)
}

// asCond insists that n is a condition.
func (p *parser) asCond(n node) (cond, error) {
	if n.c != nil {
		return n.c, nil
	}
	if _, ok := n.op.(sizeOp); ok {
		return nil, exprErrorf("The function is not allowed to be used this way in an expression; function: size")
	}
	return nil, p.unexpected()
}

func (p *parser) parseOr() (node, error) {
	return p.parseJoined("OR", p.parseAnd, func(a, b cond) cond { return orCond{a, b} })
}

func (p *parser) parseAnd() (node, error) {
	return p.parseJoined("AND", p.parseNot, func(a, b cond) cond { return andCond{a, b} })
}

// parseJoined reads one or more operands, each read by operand, joined by
// the keyword kw, and joins them from the left with join. The operands of
// kw must be conditions.
func (p *parser) parseJoined(kw string, operand func() (node, error), join func(a, b cond) cond) (node, error) {
	left, err := operand()
	if err != nil {
		return node{}, err
	}
	for p.isKeyword(kw) {
		a, err := p.asCond(left)
		if err != nil {
			return node{}, err
		}
		p.next()
		b, err := p.parseCond(operand)
		if err != nil {
			return node{}, err
		}
		left = node{c: join(a, b)}
	}
	return left, nil
}

func (p *parser) parseNot() (node, error) {
	if !p.isKeyword("NOT") {
		return p.parseComparison()
	}
	p.next()
	c, err := p.parseCond(p.parseNot)
	if err != nil {
		return node{}, err
	}
	return node{c: notCond{c}}, nil
}

// parseCond reads a node with parse and insists that it is a condition.
func (p *parser) parseCond(parse func() (node, error)) (cond, error) {
	n, err := parse()
	if err != nil {
		return nil, err
	}
	return p.asCond(n)
}

var comparators = map[string]bool{"=": true, "<>": true, "<": true, "<=": true, ">": true, ">=": true}

// parseComparison reads a primary and, if it is an operand followed by a
// comparator, BETWEEN or IN, the comparison it starts.
func (p *parser) parseComparison() (node, error) {
	n, err := p.parsePrimary()
	if err != nil {
		return node{}, err
	}
	t := p.peek()
	follows := t.kind == tPunct && comparators[t.text] || p.isKeyword("BETWEEN") || p.isKeyword("IN")
	if n.c != nil {
		if f, ok := n.c.(funcCond); ok && follows && !n.parens {
			return node{}, exprErrorf("The function is not allowed to be used this way in an expression; function: %s", f.name)
		}
		return n, nil
	}
	switch {
	case t.kind == tPunct && comparators[t.text]:
		p.next()
		b, err := p.parseOperand()
		if err != nil {
			return node{}, err
		}
		c, err := checkCompare(t.text, n.op, b)
		return node{c: c}, err
	case p.isKeyword("BETWEEN"):
		return p.parseBetween(n.op)
	case p.isKeyword("IN"):
		return p.parseIn(n.op)
	}
	return n, nil
}

func (p *parser) parseBetween(x operand) (node, error) {
	p.next()
	lo, err := p.parseOperand()
	if err != nil {
		return node{}, err
	}
	if !p.isKeyword("AND") {
		return node{}, p.unexpected()
	}
	p.next()
	hi, err := p.parseOperand()
	if err != nil {
		return node{}, err
	}
	c, err := checkBetween(x, lo, hi)
	return node{c: c}, err
}

func (p *parser) parseIn(x operand) (node, error) {
	p.next()
	if !p.isPunct("(") {
		return node{}, p.unexpected()
	}
	list, err := p.parseCallArgs(p.parseOperand)
	if err != nil {
		return node{}, err
	}
	if len(list) == 0 {
		return node{}, exprErrorf("Syntax error; token: \")\", near: \"()\"")
	}
	c, err := checkIn(x, list)
	return node{c: c}, err
}

// parsePrimary reads a parenthesized expression, a function call or an
// operand.
func (p *parser) parsePrimary() (node, error) {
	switch {
	case p.isPunct("("):
		p.next()
		inner, err := p.parseOr()
		if err != nil {
			return node{}, err
		}
		if err := p.expectPunct(")"); err != nil {
			return node{}, err
		}
		if inner.c != nil && inner.parens {
			return node{}, exprErrorf("The expression has redundant parentheses;")
		}
		inner.parens = true
		return inner, nil
	case p.isCall():
		return p.parseCondFunction()
	}
	op, err := p.parseAtom()
	return node{op: op}, err
}

// parseOperand reads something that must be an operand.
func (p *parser) parseOperand() (operand, error) {
	n, err := p.parsePrimary()
	if err != nil {
		return nil, err
	}
	if n.c != nil {
		if f, ok := n.c.(funcCond); ok {
			return nil, exprErrorf("The function is not allowed to be used this way in an expression; function: %s", f.name)
		}
		return nil, p.unexpected()
	}
	return n.op, nil
}

// parseCondFunction reads a function call in a condition: one of the
// condition functions, or size() as an operand.
func (p *parser) parseCondFunction() (node, error) {
	name := p.next().text
	args, err := p.parseCallArgs(p.parseOperand)
	if err != nil {
		return node{}, err
	}
	switch name {
	case "attribute_exists", "attribute_not_exists", "attribute_type", "begins_with", "contains":
		c, err := checkCondFunc(name, args)
		return node{c: c}, err
	case "size":
		op, err := checkSize(args)
		return node{op: op}, err
	case "if_not_exists", "list_append":
		return node{}, exprErrorf("The function is not allowed in a condition expression; function: %s", name)
	}
	return node{}, exprErrorf("Invalid function name; function: %s", name)
}
