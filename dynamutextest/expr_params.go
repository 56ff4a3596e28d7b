package dynamutextest

import (
	"errors"
	"iter"
	"maps"
	"regexp"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go"
)

// exprParams holds a request's ExpressionAttributeNames and
// ExpressionAttributeValues and records which ones its expressions use:
// DynamoDB refuses a request that supplies any it does not use.
type exprParams struct {
	names      map[string]string
	values     item // imported: validated, canonical copies
	usedNames  map[string]bool
	usedValues map[string]bool
}

var (
	nameRefRE  = regexp.MustCompile(`^#[A-Za-z0-9_]+$`)
	valueRefRE = regexp.MustCompile(`^:[A-Za-z0-9_]+$`)
)

// newExprParams checks the placeholder maps. hasExpr tells whether the
// request has any expression at all; without one, DynamoDB refuses the maps.
func newExprParams(names map[string]string, values item, hasExpr bool) (*exprParams, error) {
	if !hasExpr && len(values) > 0 {
		return nil, validation("ExpressionAttributeValues can only be specified when using expressions")
	}
	if !hasExpr && len(names) > 0 {
		return nil, validation("ExpressionAttributeNames can only be specified when using expressions")
	}
	p := &exprParams{names: names, values: item{}, usedNames: map[string]bool{}, usedValues: map[string]bool{}}
	for _, k := range slices.Sorted(maps.Keys(names)) {
		if !nameRefRE.MatchString(k) {
			return nil, validation("ExpressionAttributeNames contains invalid key: Syntax error; key: %q", k)
		}
		if names[k] == "" {
			return nil, validation("ExpressionAttributeNames contains invalid value: Empty attribute name for key %s", k)
		}
	}
	for _, k := range slices.Sorted(maps.Keys(values)) {
		if !valueRefRE.MatchString(k) {
			return nil, validation("ExpressionAttributeValues contains invalid key: Syntax error; key: %q", k)
		}
		v, err := importValue(values[k])
		if err != nil {
			return nil, validation("ExpressionAttributeValues contains invalid value: %s for key %s", apiMessage(err), k)
		}
		p.values[k] = v
	}
	return p, nil
}

// apiMessage is the message of an API error, or the error text otherwise.
func apiMessage(err error) string {
	var api smithy.APIError
	if errors.As(err, &api) {
		return api.ErrorMessage()
	}
	return err.Error()
}

func (p *exprParams) name(ref string) (string, error) {
	n, ok := p.names[ref]
	if !ok {
		return "", exprErrorf("An expression attribute name used in the document path is not defined; attribute name: %s", ref)
	}
	p.usedNames[ref] = true
	return n, nil
}

func (p *exprParams) value(ref string) (types.AttributeValue, error) {
	v, ok := p.values[ref]
	if !ok {
		return nil, exprErrorf("An expression attribute value used in expression is not defined; attribute value: %s", ref)
	}
	p.usedValues[ref] = true
	return v, nil
}

// checkUnused refuses placeholders that no expression of the request used.
func (p *exprParams) checkUnused() error {
	if unused := unusedKeys(maps.Keys(p.names), p.usedNames); unused != "" {
		return validation("Value provided in ExpressionAttributeNames unused in expressions: keys: {%s}", unused)
	}
	if unused := unusedKeys(maps.Keys(p.values), p.usedValues); unused != "" {
		return validation("Value provided in ExpressionAttributeValues unused in expressions: keys: {%s}", unused)
	}
	return nil
}

func unusedKeys(keys iter.Seq[string], used map[string]bool) string {
	var out []string
	for k := range keys {
		if !used[k] {
			out = append(out, k)
		}
	}
	slices.Sort(out)
	return strings.Join(out, ", ")
}

// parseInto parses one expression of the request, prefixing any error with
// the expression's parameter name as DynamoDB does. A nil expression is
// absent and gives a nil result.
func parseInto[T any](param string, expr *string, parse func(string) (T, error)) (T, error) {
	var zero T
	if expr == nil {
		return zero, nil
	}
	if *expr == "" {
		return zero, validation("Invalid %s: The expression can not be empty;", param)
	}
	if len(*expr) > maxExpressionBytes {
		return zero, validation("Invalid %s: Expression size has exceeded the maximum allowed size; expression size: %d", param, len(*expr))
	}
	v, err := parse(*expr)
	if err != nil {
		var ee *exprError
		if errors.As(err, &ee) {
			return zero, validation("Invalid %s: %s", param, ee.msg)
		}
		return zero, err
	}
	return v, nil
}
