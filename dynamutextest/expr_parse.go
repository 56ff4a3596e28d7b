package dynamutextest

import (
	"strconv"
	"strings"
)

// parser is a recursive-descent parser over one expression's tokens. It
// resolves placeholders as it goes, so that the request can afterwards
// refuse the ones no expression used.
type parser struct {
	src    string
	toks   []token
	pos    int
	params *exprParams
}

func newParser(src string, params *exprParams) (*parser, error) {
	toks, err := lex(src)
	if err != nil {
		return nil, err
	}
	return &parser{src: src, toks: toks, params: params}, nil
}

func (p *parser) peek() token { return p.toks[p.pos] }

// peekAt looks ahead; past the end it returns the EOF token.
func (p *parser) peekAt(n int) token { return p.toks[min(p.pos+n, len(p.toks)-1)] }

func (p *parser) next() token {
	t := p.toks[p.pos]
	if t.kind != tEOF {
		p.pos++
	}
	return t
}

func (p *parser) isPunct(s string) bool {
	t := p.peek()
	return t.kind == tPunct && t.text == s
}

func (p *parser) isKeyword(kw string) bool {
	t := p.peek()
	return t.kind == tKeyword && strings.EqualFold(t.text, kw)
}

// unexpected reports the current token as a syntax error.
func (p *parser) unexpected() error {
	t := p.peek()
	if t.kind == tEOF {
		return exprErrorf("Syntax error; token: \"<EOF>\", near: %q", p.src[max(0, len(p.src)-8):])
	}
	return syntaxError(p.src, t.pos, t.pos+len(t.text))
}

func (p *parser) expectPunct(s string) error {
	if !p.isPunct(s) {
		return p.unexpected()
	}
	p.next()
	return nil
}

func (p *parser) expectEOF() error {
	if p.peek().kind != tEOF {
		return p.unexpected()
	}
	return nil
}

// isCall reports whether the next tokens are a function name and "(".
func (p *parser) isCall() bool {
	n := p.peekAt(1)
	return p.peek().kind == tName && n.kind == tPunct && n.text == "("
}

// parsePath reads a document path: a name, then any number of .name and
// [index] steps.
func (p *parser) parsePath() (docPath, error) {
	first, err := p.pathName()
	if err != nil {
		return nil, err
	}
	path := docPath{{name: first}}
	for {
		switch {
		case p.isPunct("."):
			p.next()
			name, err := p.pathName()
			if err != nil {
				return nil, err
			}
			path = append(path, pathElem{name: name})
		case p.isPunct("["):
			p.next()
			idx, err := p.listIndex()
			if err != nil {
				return nil, err
			}
			path = append(path, pathElem{index: idx, isIndex: true})
		default:
			return path, nil
		}
	}
}

// pathName reads one attribute name, plain or as a #placeholder. Plain
// names may not be reserved words.
func (p *parser) pathName() (string, error) {
	t := p.peek()
	switch t.kind {
	case tName:
		if reservedWords[strings.ToUpper(t.text)] {
			return "", exprErrorf("Attribute name is a reserved keyword; reserved keyword: %s", t.text)
		}
		p.next()
		return t.text, nil
	case tNameRef:
		p.next()
		return p.params.name(t.text)
	}
	return "", p.unexpected()
}

// listIndex reads "n]" after "[". DynamoDB refuses leading zeros.
func (p *parser) listIndex() (int, error) {
	t := p.peek()
	if t.kind != tDigits || len(t.text) > 1 && t.text[0] == '0' {
		return 0, p.unexpected()
	}
	idx, err := strconv.Atoi(t.text)
	if err != nil || idx > 1<<24 {
		return 0, exprErrorf("List index is too large; index: %s", t.text)
	}
	p.next()
	return idx, p.expectPunct("]")
}

// parseAtom reads a path or a :value.
func (p *parser) parseAtom() (operand, error) {
	t := p.peek()
	switch t.kind {
	case tValueRef:
		p.next()
		v, err := p.params.value(t.text)
		if err != nil {
			return nil, err
		}
		return valueOp{ref: t.text, v: v}, nil
	case tName, tNameRef:
		path, err := p.parsePath()
		if err != nil {
			return nil, err
		}
		return pathOp{path: path}, nil
	}
	return nil, p.unexpected()
}

// parseCallArgs reads "(a, b, ...)" after a function name, each argument
// read by arg.
func (p *parser) parseCallArgs(arg func() (operand, error)) ([]operand, error) {
	if err := p.expectPunct("("); err != nil {
		return nil, err
	}
	if p.isPunct(")") {
		p.next()
		return nil, nil
	}
	args, err := parseList(p, arg)
	if err != nil {
		return nil, err
	}
	return args, p.expectPunct(")")
}

// parseList reads one or more items, each read by parse, separated by
// commas.
func parseList[T any](p *parser, parse func() (T, error)) ([]T, error) {
	var list []T
	for {
		x, err := parse()
		if err != nil {
			return nil, err
		}
		list = append(list, x)
		if !p.isPunct(",") {
			return list, nil
		}
		p.next()
	}
}

// parseProjection parses a ProjectionExpression: paths separated by commas.
func parseProjection(src string, params *exprParams) ([]docPath, error) {
	p, err := newParser(src, params)
	if err != nil {
		return nil, err
	}
	paths, err := parseList(p, p.parsePath)
	if err != nil {
		return nil, err
	}
	if err := p.expectEOF(); err != nil {
		return nil, err
	}
	return paths, checkOverlap(paths)
}

// checkOverlap refuses two paths of which one is, or contains, the other.
func checkOverlap(paths []docPath) error {
	for i := range paths {
		for j := i + 1; j < len(paths); j++ {
			if paths[i].overlaps(paths[j]) {
				return exprErrorf("Two document paths overlap with each other; must remove or rewrite one of these paths; "+
					"path one: %s, path two: %s", paths[i], paths[j])
			}
		}
	}
	return nil
}
