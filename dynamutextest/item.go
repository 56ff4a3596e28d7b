package dynamutextest

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// UpdateItem edits an item, creating it if missing unless the condition
// fails. It supports UpdateExpression (SET with +, -, if_not_exists and
// list_append; REMOVE; ADD; DELETE), ConditionExpression, every
// ReturnValues setting and ReturnValuesOnConditionCheckFailure. A failed
// condition returns a *types.ConditionalCheckFailedException whose Item is
// the current item when ALL_OLD was asked for, nil when there is no item.
func (s *Store) UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, _ ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error) {
	return serve(ctx, s, in, func(in *dynamodb.UpdateItemInput) (*dynamodb.UpdateItemOutput, error) {
		if err := checkParams("UpdateItemInput", []param{{"Key", in.Key != nil}, {"TableName", in.TableName != nil}},
			map[string]bool{"AttributeUpdates": in.AttributeUpdates != nil, "Expected": in.Expected != nil,
				"ConditionalOperator": in.ConditionalOperator != ""}); err != nil {
			return nil, err
		}
		attrs, err := s.writeItem(writeRequest{kind: kindUpdate, table: in.TableName, key: in.Key,
			returnValues: in.ReturnValues, returnOld: in.ReturnValuesOnConditionCheckFailure,
			exprs: exprInput{names: in.ExpressionAttributeNames, values: in.ExpressionAttributeValues,
				condition: in.ConditionExpression, update: in.UpdateExpression}})
		return &dynamodb.UpdateItemOutput{Attributes: attrs}, err
	})
}

// PutItem stores an item, replacing any item with the same key. It
// supports ConditionExpression, ReturnValues NONE and ALL_OLD, and
// ReturnValuesOnConditionCheckFailure.
func (s *Store) PutItem(ctx context.Context, in *dynamodb.PutItemInput, _ ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error) {
	return serve(ctx, s, in, func(in *dynamodb.PutItemInput) (*dynamodb.PutItemOutput, error) {
		if err := checkParams("PutItemInput", []param{{"Item", in.Item != nil}, {"TableName", in.TableName != nil}},
			map[string]bool{"Expected": in.Expected != nil, "ConditionalOperator": in.ConditionalOperator != ""}); err != nil {
			return nil, err
		}
		attrs, err := s.writeItem(writeRequest{kind: kindPut, table: in.TableName, key: in.Item,
			returnValues: in.ReturnValues, returnOld: in.ReturnValuesOnConditionCheckFailure,
			exprs: exprInput{names: in.ExpressionAttributeNames, values: in.ExpressionAttributeValues, condition: in.ConditionExpression}})
		return &dynamodb.PutItemOutput{Attributes: attrs}, err
	})
}

// DeleteItem deletes an item; deleting a missing item succeeds. It supports
// ConditionExpression, ReturnValues NONE and ALL_OLD, and
// ReturnValuesOnConditionCheckFailure.
func (s *Store) DeleteItem(ctx context.Context, in *dynamodb.DeleteItemInput, _ ...func(*dynamodb.Options)) (*dynamodb.DeleteItemOutput, error) {
	return serve(ctx, s, in, func(in *dynamodb.DeleteItemInput) (*dynamodb.DeleteItemOutput, error) {
		if err := checkParams("DeleteItemInput", []param{{"Key", in.Key != nil}, {"TableName", in.TableName != nil}},
			map[string]bool{"Expected": in.Expected != nil, "ConditionalOperator": in.ConditionalOperator != ""}); err != nil {
			return nil, err
		}
		attrs, err := s.writeItem(writeRequest{kind: kindDelete, table: in.TableName, key: in.Key,
			returnValues: in.ReturnValues, returnOld: in.ReturnValuesOnConditionCheckFailure,
			exprs: exprInput{names: in.ExpressionAttributeNames, values: in.ExpressionAttributeValues, condition: in.ConditionExpression}})
		return &dynamodb.DeleteItemOutput{Attributes: attrs}, err
	})
}

// writeItem runs a PutItem, UpdateItem or DeleteItem, checking in
// DynamoDB's order: table, key (or item), ReturnValuesOnConditionCheckFailure,
// ReturnValues, expressions. It returns the reply's Attributes.
func (s *Store) writeItem(r writeRequest) (item, error) {
	w, err := s.prepare(r)
	if err != nil {
		return nil, err
	}
	if err := checkReturnValues(r.kind, r.returnValues); err != nil {
		return nil, err
	}
	if err := w.parseExprs(r.exprs); err != nil {
		return nil, err
	}
	old, next, err := w.run()
	if err != nil {
		return nil, err
	}
	if r.kind == kindUpdate {
		return updateReturn(r.returnValues, w.update, old, next), nil
	}
	return allOld(r.returnValues, old), nil
}

// checkReturnValues validates ReturnValues: UpdateItem allows every
// setting, PutItem and DeleteItem only NONE and ALL_OLD.
func checkReturnValues(k writeKind, rv types.ReturnValue) error {
	switch rv {
	case "", types.ReturnValueNone, types.ReturnValueAllOld:
		return nil
	case types.ReturnValueAllNew, types.ReturnValueUpdatedOld, types.ReturnValueUpdatedNew:
		if k == kindUpdate {
			return nil
		}
	}
	return validation("Return values set to invalid value")
}

// updateReturn picks the Attributes of an UpdateItem reply. Empty results
// are nil, as the SDK decodes DynamoDB's reply then.
func updateReturn(rv types.ReturnValue, u *updateExpr, old, next item) item {
	var out item
	switch rv {
	case types.ReturnValueAllOld:
		out = cloneItem(old)
	case types.ReturnValueAllNew:
		out = cloneItem(next)
	case types.ReturnValueUpdatedOld, types.ReturnValueUpdatedNew:
		src := old
		if rv == types.ReturnValueUpdatedNew {
			src = next
		}
		if u == nil {
			return nil
		}
		out = item{}
		for _, name := range u.updatedNames() {
			if v, ok := src[name]; ok {
				out[name] = cloneValue(v)
			}
		}
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// allOld picks the Attributes of a PutItem or DeleteItem reply: the old
// item, when ReturnValues asks for it and there was one.
func allOld(rv types.ReturnValue, old item) item {
	if rv != types.ReturnValueAllOld || len(old) == 0 {
		return nil
	}
	return cloneItem(old)
}

// GetItem returns a copy of an item, or a nil Item when it does not exist.
// It supports ProjectionExpression with ExpressionAttributeNames; every
// read is strongly consistent, whatever ConsistentRead says.
func (s *Store) GetItem(ctx context.Context, in *dynamodb.GetItemInput, _ ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error) {
	return serve(ctx, s, in, func(in *dynamodb.GetItemInput) (*dynamodb.GetItemOutput, error) {
		if err := checkParams("GetItemInput", []param{{"Key", in.Key != nil}, {"TableName", in.TableName != nil}},
			map[string]bool{"AttributesToGet": in.AttributesToGet != nil}); err != nil {
			return nil, err
		}
		t, err := s.lookup(in.TableName)
		if err != nil {
			return nil, err
		}
		enc, _, err := t.keyFromParam(in.Key)
		if err != nil {
			return nil, err
		}
		proj, err := parseProjectionParam(in.ProjectionExpression, in.ExpressionAttributeNames)
		if err != nil {
			return nil, err
		}
		it := t.get(enc)
		if it == nil {
			return &dynamodb.GetItemOutput{}, nil
		}
		return &dynamodb.GetItemOutput{Item: shaped(it, proj)}, nil
	})
}

// parseProjectionParam parses a read's ProjectionExpression, which may use
// only ExpressionAttributeNames.
func parseProjectionParam(expr *string, names map[string]string) ([]docPath, error) {
	params, err := newExprParams(names, nil, expr != nil)
	if err != nil {
		return nil, err
	}
	proj, err := parseInto("ProjectionExpression", expr, func(s string) ([]docPath, error) {
		return parseProjection(s, params)
	})
	if err != nil {
		return nil, err
	}
	return proj, params.checkUnused()
}
