package dynamutextest

import (
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go"
)

// The errors below are the ones the SDK itself returns, so that code under
// test branches on them (errors.As, smithy.APIError codes) exactly as it
// would against DynamoDB.

// opError wraps err the way the SDK's client does, so that errors.As and
// the error text look the same on both.
func opError(op string, err error) error {
	return &smithy.OperationError{ServiceID: "DynamoDB", OperationName: op, Err: err}
}

// validation is DynamoDB's ValidationException, which the SDK has no type
// for: it arrives as a *smithy.GenericAPIError with this code. The SDK's
// deserializer leaves the Fault of such errors unset (smithy.FaultUnknown),
// although DynamoDB sends them with HTTP status 400; so does this Store, so
// that code which sorts errors by fault sees the same thing on both.
func validation(format string, args ...any) error {
	return &smithy.GenericAPIError{Code: "ValidationException", Message: fmt.Sprintf(format, args...)}
}

// unsupported reports a DynamoDB feature this store does not emulate. It is
// a ValidationException so that callers fail loudly instead of getting a
// result DynamoDB would not give.
func unsupported(feature string) error {
	return validation("dynamutextest does not support %s", feature)
}

func tableNotFound(name string) error {
	return &types.ResourceNotFoundException{Message: aws.String("Requested resource not found: Table: " + name + " not found")}
}

func tableInUse(name string) error {
	return &types.ResourceInUseException{Message: aws.String("Table already exists: " + name)}
}

// conditionFailed carries the item the condition was checked against when
// the request asked for it with ReturnValuesOnConditionCheckFailure=ALL_OLD.
func conditionFailed(old item, returnOld types.ReturnValuesOnConditionCheckFailure) error {
	e := &types.ConditionalCheckFailedException{Message: aws.String("The conditional request failed")}
	if returnOld == types.ReturnValuesOnConditionCheckFailureAllOld && old != nil {
		e.Item = cloneItem(old)
	}
	return e
}

// exprError is a problem found in one expression. The request handler
// prefixes it with the expression's kind, as DynamoDB does ("Invalid
// ConditionExpression: ...").
type exprError struct{ msg string }

func (e *exprError) Error() string { return e.msg }

func exprErrorf(format string, args ...any) *exprError {
	return &exprError{msg: fmt.Sprintf(format, args...)}
}

// param is one parameter of a request and whether the request sets it.
type param struct {
	name string
	set  bool
}

// checkParams makes the checks that come first in every request, in the
// order a request meets them: the SDK's client-side check of the required
// parameters (input is the name of the input type, need lists the
// parameters in the SDK's order), then the refusal of the legacy parameters
// that legacy marks as set (nil for an operation that has none).
func checkParams(input string, need []param, legacy map[string]bool) error {
	r := required{context: input}
	for _, p := range need {
		r.check(p.set, p.name)
	}
	if err := r.err(); err != nil {
		return err
	}
	return legacyParams(legacy)
}

// required mimics the SDK's client-side check of required parameters, which
// fails before any request is sent and is not an API error.
type required struct {
	context string
	missing []string
}

func (r *required) check(ok bool, field string) {
	if !ok {
		r.missing = append(r.missing, field)
	}
}

func (r *required) err() error {
	if len(r.missing) == 0 {
		return nil
	}
	inv := smithy.InvalidParamsError{Context: r.context}
	for _, f := range r.missing {
		inv.Add(smithy.NewErrParamRequired(f))
	}
	return inv
}
