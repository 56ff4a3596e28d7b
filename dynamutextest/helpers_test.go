package dynamutextest_test

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go"
)

type item = map[string]types.AttributeValue

var ctx = context.Background()

func S(s string) types.AttributeValue                  { return &types.AttributeValueMemberS{Value: s} }
func N(s string) types.AttributeValue                  { return &types.AttributeValueMemberN{Value: s} }
func B(b string) types.AttributeValue                  { return &types.AttributeValueMemberB{Value: []byte(b)} }
func BOOL(b bool) types.AttributeValue                 { return &types.AttributeValueMemberBOOL{Value: b} }
func NULL() types.AttributeValue                       { return &types.AttributeValueMemberNULL{Value: true} }
func SS(s ...string) types.AttributeValue              { return &types.AttributeValueMemberSS{Value: s} }
func NS(s ...string) types.AttributeValue              { return &types.AttributeValueMemberNS{Value: s} }
func L(v ...types.AttributeValue) types.AttributeValue { return &types.AttributeValueMemberL{Value: v} }
func M(m item) types.AttributeValue                    { return &types.AttributeValueMemberM{Value: m} }

// show formats an item deterministically (sorted attributes, sorted set
// members, since backends may order sets differently), so that items
// compare as strings and failures print readably.
func show(m item) string {
	if m == nil {
		return "<nil>"
	}
	keys := slices.Sorted(maps.Keys(m))
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + ":" + showValue(m[k])
	}
	return "{" + strings.Join(parts, " ") + "}"
}

func showValue(v types.AttributeValue) string {
	switch v := v.(type) {
	case *types.AttributeValueMemberS:
		return fmt.Sprintf("S%q", v.Value)
	case *types.AttributeValueMemberN:
		return "N" + v.Value
	case *types.AttributeValueMemberB:
		return fmt.Sprintf("B%q", v.Value)
	case *types.AttributeValueMemberBOOL:
		return fmt.Sprintf("BOOL%v", v.Value)
	case *types.AttributeValueMemberNULL:
		return "NULL"
	case *types.AttributeValueMemberSS:
		return fmt.Sprintf("SS%q", slices.Sorted(slices.Values(v.Value)))
	case *types.AttributeValueMemberNS:
		return fmt.Sprintf("NS%v", slices.Sorted(slices.Values(v.Value)))
	case *types.AttributeValueMemberBS:
		var s []string
		for _, b := range v.Value {
			s = append(s, string(b))
		}
		return fmt.Sprintf("BS%q", slices.Sorted(slices.Values(s)))
	case *types.AttributeValueMemberL:
		parts := make([]string, len(v.Value))
		for i, e := range v.Value {
			parts[i] = showValue(e)
		}
		return "L[" + strings.Join(parts, " ") + "]"
	case *types.AttributeValueMemberM:
		return "M" + show(v.Value)
	}
	return fmt.Sprintf("%T", v)
}

// wantItem fails unless got is want; a nil want requires a nil item.
func wantItem(t *testing.T, what string, got, want item) {
	t.Helper()
	if want == nil {
		if got != nil {
			t.Errorf("%s = %s, want nil", what, show(got))
		}
		return
	}
	if show(got) != show(want) {
		t.Errorf("%s =\n  %s\nwant\n  %s", what, show(got), show(want))
	}
}

func mustOK(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("unexpected error: %v", err)
	}
}

// wantAPIError fails unless err is an API error with code, wrapped in a
// *smithy.OperationError of operation op as the SDK's client wraps it. It
// returns the error's message.
func wantAPIError(t *testing.T, err error, op, code string) string {
	t.Helper()
	if err == nil {
		t.Fatalf("got no error, want %s", code)
	}
	var oe *smithy.OperationError
	if !errors.As(err, &oe) || oe.OperationName != op || oe.ServiceID != "DynamoDB" {
		t.Errorf("error %v is not a *smithy.OperationError of DynamoDB %s", err, op)
	}
	var api smithy.APIError
	if !errors.As(err, &api) {
		t.Fatalf("error %v (%T) is not a smithy.APIError", err, err)
	}
	if api.ErrorCode() != code {
		t.Fatalf("error code %q (%v), want %q", api.ErrorCode(), err, code)
	}
	// The SDK has types, with a client fault, for the errors it knows; the
	// others (ValidationException) arrive as generic errors of unknown fault.
	wantFault := smithy.FaultClient
	_, generic := api.(*smithy.GenericAPIError)
	if generic {
		wantFault = smithy.FaultUnknown
	} else if code == "ValidationException" {
		t.Errorf("ValidationException is a %T, want the SDK's *smithy.GenericAPIError", api)
	}
	if api.ErrorFault() != wantFault {
		t.Errorf("error fault %v, want %v", api.ErrorFault(), wantFault)
	}
	return api.ErrorMessage()
}

// wantValidation checks for a ValidationException whose message contains
// each of parts, which are chosen to be the same on both backends.
func wantValidation(t *testing.T, err error, op string, parts ...string) {
	t.Helper()
	msg := wantAPIError(t, err, op, "ValidationException")
	for _, p := range parts {
		if !strings.Contains(msg, p) {
			t.Errorf("ValidationException %q does not mention %q", msg, p)
		}
	}
}

// wantConditionFailed checks for a *types.ConditionalCheckFailedException
// carrying item (nil: no item).
func wantConditionFailed(t *testing.T, err error, op string, want item) {
	t.Helper()
	wantAPIError(t, err, op, "ConditionalCheckFailedException")
	var ccf *types.ConditionalCheckFailedException
	if !errors.As(err, &ccf) {
		t.Fatalf("error %v is not a *types.ConditionalCheckFailedException", err)
	}
	if want == nil && len(ccf.Item) == 0 {
		return
	}
	wantItem(t, "ConditionalCheckFailedException.Item", ccf.Item, want)
}

// get reads an item with a consistent read.
func get(t *testing.T, c api, table string, key item) item {
	t.Helper()
	out, err := c.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(table), Key: key, ConsistentRead: aws.Bool(true)})
	mustOK(t, err)
	return out.Item
}

func put(t *testing.T, c api, table string, it item) {
	t.Helper()
	_, err := c.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(table), Item: it})
	mustOK(t, err)
}

// update is an UpdateItem request under construction, so that cases read
// as the request DynamoDB receives.
type update struct {
	in *dynamodb.UpdateItemInput
}

func newUpdate(table string, key item, expr string) *update {
	u := &update{in: &dynamodb.UpdateItemInput{TableName: aws.String(table), Key: key}}
	if expr != "" {
		u.in.UpdateExpression = aws.String(expr)
	}
	return u
}

func (u *update) cond(c string) *update { u.in.ConditionExpression = aws.String(c); return u }

func (u *update) names(kv ...string) *update {
	u.in.ExpressionAttributeNames = map[string]string{}
	for i := 0; i+1 < len(kv); i += 2 {
		u.in.ExpressionAttributeNames[kv[i]] = kv[i+1]
	}
	return u
}

func (u *update) values(v item) *update { u.in.ExpressionAttributeValues = v; return u }

func (u *update) returning(rv types.ReturnValue) *update { u.in.ReturnValues = rv; return u }

func (u *update) allOldOnFailure() *update {
	u.in.ReturnValuesOnConditionCheckFailure = types.ReturnValuesOnConditionCheckFailureAllOld
	return u
}

func (u *update) send(c api) (item, error) {
	out, err := c.UpdateItem(ctx, u.in)
	if err != nil {
		return nil, err
	}
	return out.Attributes, nil
}

// checker evaluates condition expressions against one item, by a
// conditional update of a scratch attribute.
type checker struct {
	t     *testing.T
	c     api
	table string
	key   item
}

// holds reports whether expr holds for the item; names are #placeholder,
// name pairs. Any error other than a failed condition fails the test.
func (ck checker) holds(expr string, vals item, names ...string) bool {
	ck.t.Helper()
	v := item{":scratch": S("x")}
	for k, x := range vals {
		v[k] = x
	}
	u := newUpdate(ck.table, ck.key, "SET scratch = :scratch").cond(expr).values(v)
	if len(names) > 0 {
		u.names(names...)
	}
	_, err := u.send(ck.c)
	var ccf *types.ConditionalCheckFailedException
	if errors.As(err, &ccf) {
		return false
	}
	if err != nil {
		ck.t.Fatalf("condition %q: %v", expr, err)
	}
	return true
}
