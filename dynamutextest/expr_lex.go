package dynamutextest

import (
	"strings"
)

// maxExpressionBytes is DynamoDB's limit on the length of one expression.
const maxExpressionBytes = 4096

// tokKind is the kind of an expression token.
type tokKind int

const (
	tEOF      tokKind = iota
	tName             // attribute name: a letter, then letters, digits, '_'
	tNameRef          // #placeholder from ExpressionAttributeNames
	tValueRef         // :placeholder from ExpressionAttributeValues
	tDigits           // list index inside [ ]
	tKeyword          // AND OR NOT BETWEEN IN SET REMOVE ADD DELETE, any case
	tPunct            // ( ) [ ] , . = <> < <= > >= + -
)

// token is one lexeme; pos is its byte offset, for error messages.
type token struct {
	kind tokKind
	text string
	pos  int
}

// keywords are the words the grammar itself uses. They are syntax errors
// where an attribute name is expected, unlike reserved words, which DynamoDB
// reports by name.
var keywords = map[string]bool{
	"AND": true, "OR": true, "NOT": true, "BETWEEN": true, "IN": true,
	"SET": true, "REMOVE": true, "ADD": true, "DELETE": true,
}

// lex splits an expression into tokens. It never fails on its own: an
// unexpected character becomes a syntax error with DynamoDB's wording.
func lex(src string) ([]token, error) {
	var toks []token
	for i := 0; i < len(src); {
		c := src[i]
		start := i
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
			continue
		case isLetter(c):
			for i < len(src) && isWordChar(src[i]) {
				i++
			}
			word := src[start:i]
			kind := tName
			if keywords[strings.ToUpper(word)] {
				kind = tKeyword
			}
			toks = append(toks, token{kind, word, start})
			continue
		case isDigit(c):
			for i < len(src) && isDigit(src[i]) {
				i++
			}
			toks = append(toks, token{tDigits, src[start:i], start})
			continue
		case c == '#' || c == ':':
			i++
			for i < len(src) && isWordChar(src[i]) {
				i++
			}
			if i == start+1 {
				return nil, syntaxError(src, start, i)
			}
			kind := tNameRef
			if c == ':' {
				kind = tValueRef
			}
			toks = append(toks, token{kind, src[start:i], start})
			continue
		case c == '<' && i+1 < len(src) && (src[i+1] == '>' || src[i+1] == '='),
			c == '>' && i+1 < len(src) && src[i+1] == '=':
			i += 2
		case strings.IndexByte("()[],.=<>+-", c) >= 0:
			i++
		default:
			return nil, syntaxError(src, start, start+1)
		}
		toks = append(toks, token{tPunct, src[start:i], start})
	}
	return append(toks, token{kind: tEOF, text: "<EOF>", pos: len(src)}), nil
}

func isLetter(c byte) bool   { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }
func isDigit(c byte) bool    { return c >= '0' && c <= '9' }
func isWordChar(c byte) bool { return isLetter(c) || isDigit(c) || c == '_' }

// syntaxError reports the text src[from:to] as unexpected, quoting a little
// context before it as DynamoDB does.
func syntaxError(src string, from, to int) *exprError {
	near := max(0, from-8)
	return exprErrorf("Syntax error; token: %q, near: %q", src[from:min(to, len(src))], src[near:min(len(src), to+8)])
}
