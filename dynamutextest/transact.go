package dynamutextest

import (
	"context"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// maxTransactItems is DynamoDB's limit on the items of one transaction.
const maxTransactItems = 100

// TransactWriteItems applies 1 to 100 ConditionChecks, Puts, Updates and
// Deletes, across tables, all or nothing. Every condition is checked before
// anything is written; if any fails, nothing is written and the error is a
// *types.TransactionCanceledException with one CancellationReason per item,
// in order: Code "ConditionalCheckFailed" (with the item, when that item
// asked for ALL_OLD) or "None". Two items on the same item are a
// ValidationException. As in DynamoDB Local, an item whose update cannot be
// applied (a type mismatch, say) fails the whole request with a
// ValidationException. ClientRequestToken is accepted but idempotency is not
// emulated: a repeated request runs again.
func (s *Store) TransactWriteItems(ctx context.Context, in *dynamodb.TransactWriteItemsInput, _ ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error) {
	return serve(ctx, s, in, func(in *dynamodb.TransactWriteItemsInput) (*dynamodb.TransactWriteItemsOutput, error) {
		if err := checkTransactRequired(in.TransactItems); err != nil {
			return nil, err
		}
		if len(in.TransactItems) == 0 {
			return nil, validation("1 validation error detected: Value at 'transactItems' failed to satisfy constraint: " +
				"Member must have length greater than or equal to 1")
		}
		if len(in.TransactItems) > maxTransactItems {
			return nil, validation("1 validation error detected: Value at 'transactItems' failed to satisfy constraint: " +
				"Member must have length less than or equal to 100")
		}
		writes := make([]*write, len(in.TransactItems))
		seen := map[string]bool{}
		for i, ti := range in.TransactItems {
			w, err := s.prepareTransactItem(ti)
			if err != nil {
				return nil, err
			}
			id := w.t.name + "\x00" + w.enc
			if seen[id] {
				return nil, validation("Transaction request cannot include multiple operations on one item")
			}
			seen[id] = true
			writes[i] = w
		}
		return &dynamodb.TransactWriteItemsOutput{}, runTransaction(writes)
	})
}

// runTransaction checks every condition and computes every result, then
// commits all of them or none.
func runTransaction(writes []*write) error {
	results := make([]item, len(writes))
	reasons := make([]types.CancellationReason, len(writes))
	failed := false
	for i, w := range writes {
		old := w.t.get(w.enc)
		if !w.holds(old) {
			failed = true
			reasons[i] = types.CancellationReason{Code: aws.String("ConditionalCheckFailed"),
				Message: aws.String(conditionFailedMessage(w.kind))}
			if w.returnOld == types.ReturnValuesOnConditionCheckFailureAllOld && old != nil {
				reasons[i].Item = cloneItem(old)
			}
			continue
		}
		reasons[i] = types.CancellationReason{Code: aws.String("None")}
		next, err := w.result(old)
		if err != nil {
			return err
		}
		results[i] = next
	}
	if failed {
		return cancelled(reasons)
	}
	for i, w := range writes {
		w.commit(results[i])
	}
	return nil
}

// conditionFailedMessage is DynamoDB's reason message, which ends with a
// full stop only for a ConditionCheck.
func conditionFailedMessage(k writeKind) string {
	if k == kindCheck {
		return "The conditional request failed."
	}
	return "The conditional request failed"
}

func cancelled(reasons []types.CancellationReason) error {
	codes := make([]string, len(reasons))
	for i, r := range reasons {
		codes[i] = aws.ToString(r.Code)
	}
	return &types.TransactionCanceledException{
		Message: aws.String("Transaction cancelled, please refer cancellation reasons for specific reasons [" +
			strings.Join(codes, ", ") + "]"),
		CancellationReasons: reasons,
	}
}

// checkTransactRequired mimics the SDK's check of required parameters.
func checkTransactRequired(items []types.TransactWriteItem) error {
	r := required{context: "TransactWriteItemsInput"}
	r.check(items != nil, "TransactItems")
	for i, ti := range items {
		p := "TransactItems[" + strconv.Itoa(i) + "]."
		if c := ti.ConditionCheck; c != nil {
			r.check(c.Key != nil, p+"ConditionCheck.Key")
			r.check(c.TableName != nil, p+"ConditionCheck.TableName")
			r.check(c.ConditionExpression != nil, p+"ConditionCheck.ConditionExpression")
		}
		if c := ti.Put; c != nil {
			r.check(c.Item != nil, p+"Put.Item")
			r.check(c.TableName != nil, p+"Put.TableName")
		}
		if c := ti.Delete; c != nil {
			r.check(c.Key != nil, p+"Delete.Key")
			r.check(c.TableName != nil, p+"Delete.TableName")
		}
		if c := ti.Update; c != nil {
			r.check(c.Key != nil, p+"Update.Key")
			r.check(c.UpdateExpression != nil, p+"Update.UpdateExpression")
			r.check(c.TableName != nil, p+"Update.TableName")
		}
	}
	return r.err()
}

// prepareTransactItem checks one item of a transaction as the single-item
// operation would.
func (s *Store) prepareTransactItem(ti types.TransactWriteItem) (*write, error) {
	n := 0
	for _, set := range []bool{ti.ConditionCheck != nil, ti.Put != nil, ti.Update != nil, ti.Delete != nil} {
		if set {
			n++
		}
	}
	switch {
	case n == 0:
		return nil, validation("Invalid Request: TransactWriteRequest should contain Delete or Put or Update request")
	case n > 1:
		return nil, validation("TransactItems can only contain one of Check, Put, Update or Delete")
	}
	var r writeRequest
	switch {
	case ti.ConditionCheck != nil:
		c := ti.ConditionCheck
		r = writeRequest{kind: kindCheck, table: c.TableName, key: c.Key, returnOld: c.ReturnValuesOnConditionCheckFailure,
			exprs: exprInput{names: c.ExpressionAttributeNames, values: c.ExpressionAttributeValues, condition: c.ConditionExpression}}
	case ti.Put != nil:
		c := ti.Put
		r = writeRequest{kind: kindPut, table: c.TableName, key: c.Item, returnOld: c.ReturnValuesOnConditionCheckFailure,
			exprs: exprInput{names: c.ExpressionAttributeNames, values: c.ExpressionAttributeValues, condition: c.ConditionExpression}}
	case ti.Update != nil:
		c := ti.Update
		r = writeRequest{kind: kindUpdate, table: c.TableName, key: c.Key, returnOld: c.ReturnValuesOnConditionCheckFailure,
			exprs: exprInput{names: c.ExpressionAttributeNames, values: c.ExpressionAttributeValues,
				condition: c.ConditionExpression, update: c.UpdateExpression}}
	default:
		c := ti.Delete
		r = writeRequest{kind: kindDelete, table: c.TableName, key: c.Key, returnOld: c.ReturnValuesOnConditionCheckFailure,
			exprs: exprInput{names: c.ExpressionAttributeNames, values: c.ExpressionAttributeValues, condition: c.ConditionExpression}}
	}
	w, err := s.prepare(r)
	if err != nil {
		return nil, err
	}
	return w, w.parseExprs(r.exprs)
}
