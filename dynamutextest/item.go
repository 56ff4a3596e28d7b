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
	return call(ctx, s, "UpdateItem", func() (*dynamodb.UpdateItemOutput, error) {
		if in == nil {
			in = &dynamodb.UpdateItemInput{}
		}
		r := required{context: "UpdateItemInput"}
		r.check(in.Key != nil, "Key")
		r.check(in.TableName != nil, "TableName")
		if err := r.err(); err != nil {
			return nil, err
		}
		if err := legacyParams(map[string]bool{"AttributeUpdates": in.AttributeUpdates != nil,
			"Expected": in.Expected != nil, "ConditionalOperator": in.ConditionalOperator != ""}); err != nil {
			return nil, err
		}
		w, err := s.prepareKeyed(in.TableName, in.Key, in.ReturnValuesOnConditionCheckFailure, kindUpdate)
		if err != nil {
			return nil, err
		}
		switch in.ReturnValues {
		case "", types.ReturnValueNone, types.ReturnValueAllOld, types.ReturnValueAllNew,
			types.ReturnValueUpdatedOld, types.ReturnValueUpdatedNew:
		default:
			return nil, validation("Return values set to invalid value")
		}
		if err := w.parseExprs(exprInput{names: in.ExpressionAttributeNames, values: in.ExpressionAttributeValues,
			condition: in.ConditionExpression, update: in.UpdateExpression}); err != nil {
			return nil, err
		}
		old, next, err := w.run()
		if err != nil {
			return nil, err
		}
		return &dynamodb.UpdateItemOutput{Attributes: updateReturn(in.ReturnValues, w.update, old, next)}, nil
	})
}

// prepareKeyed starts a write addressed by a Key parameter (an update, a
// delete or a condition check): table, key and
// ReturnValuesOnConditionCheckFailure.
func (s *Store) prepareKeyed(table *string, key item, returnOld types.ReturnValuesOnConditionCheckFailure, kind writeKind) (*write, error) {
	t, err := s.lookup(table)
	if err != nil {
		return nil, err
	}
	w := &write{t: t, kind: kind, returnOld: returnOld}
	if w.enc, w.key, err = t.keyFromParam(key); err != nil {
		return nil, err
	}
	return w, checkReturnOld(returnOld)
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

// PutItem stores an item, replacing any item with the same key. It
// supports ConditionExpression, ReturnValues NONE and ALL_OLD, and
// ReturnValuesOnConditionCheckFailure.
func (s *Store) PutItem(ctx context.Context, in *dynamodb.PutItemInput, _ ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error) {
	return call(ctx, s, "PutItem", func() (*dynamodb.PutItemOutput, error) {
		if in == nil {
			in = &dynamodb.PutItemInput{}
		}
		r := required{context: "PutItemInput"}
		r.check(in.Item != nil, "Item")
		r.check(in.TableName != nil, "TableName")
		if err := r.err(); err != nil {
			return nil, err
		}
		if err := legacyParams(map[string]bool{"Expected": in.Expected != nil,
			"ConditionalOperator": in.ConditionalOperator != ""}); err != nil {
			return nil, err
		}
		w, err := s.preparePut(in.TableName, in.Item, in.ReturnValuesOnConditionCheckFailure)
		if err != nil {
			return nil, err
		}
		old, err := w.runAllOld(in.ReturnValues, exprInput{names: in.ExpressionAttributeNames,
			values: in.ExpressionAttributeValues, condition: in.ConditionExpression})
		if err != nil {
			return nil, err
		}
		return &dynamodb.PutItemOutput{Attributes: old}, nil
	})
}

// preparePut starts a put write: table, validated item and its key.
func (s *Store) preparePut(table *string, it item, returnOld types.ReturnValuesOnConditionCheckFailure) (*write, error) {
	t, err := s.lookup(table)
	if err != nil {
		return nil, err
	}
	w := &write{t: t, kind: kindPut, returnOld: returnOld}
	if w.item, err = importItem(it); err != nil {
		return nil, err
	}
	if w.enc, w.key, err = t.keyFromItem(w.item); err != nil {
		return nil, err
	}
	for name, v := range w.key {
		w.item[name] = v // canonical key values, so that N keys read back alike
	}
	if err := checkItemSize(w.item, msgItemTooBig); err != nil {
		return nil, err
	}
	return w, checkReturnOld(returnOld)
}

// DeleteItem deletes an item; deleting a missing item succeeds. It supports
// ConditionExpression, ReturnValues NONE and ALL_OLD, and
// ReturnValuesOnConditionCheckFailure.
func (s *Store) DeleteItem(ctx context.Context, in *dynamodb.DeleteItemInput, _ ...func(*dynamodb.Options)) (*dynamodb.DeleteItemOutput, error) {
	return call(ctx, s, "DeleteItem", func() (*dynamodb.DeleteItemOutput, error) {
		if in == nil {
			in = &dynamodb.DeleteItemInput{}
		}
		r := required{context: "DeleteItemInput"}
		r.check(in.Key != nil, "Key")
		r.check(in.TableName != nil, "TableName")
		if err := r.err(); err != nil {
			return nil, err
		}
		if err := legacyParams(map[string]bool{"Expected": in.Expected != nil,
			"ConditionalOperator": in.ConditionalOperator != ""}); err != nil {
			return nil, err
		}
		w, err := s.prepareKeyed(in.TableName, in.Key, in.ReturnValuesOnConditionCheckFailure, kindDelete)
		if err != nil {
			return nil, err
		}
		old, err := w.runAllOld(in.ReturnValues, exprInput{names: in.ExpressionAttributeNames,
			values: in.ExpressionAttributeValues, condition: in.ConditionExpression})
		if err != nil {
			return nil, err
		}
		return &dynamodb.DeleteItemOutput{Attributes: old}, nil
	})
}

// runAllOld finishes a PutItem or DeleteItem: it checks rv, parses the
// condition and runs the write, and returns the old item if rv asks for it.
func (w *write) runAllOld(rv types.ReturnValue, ex exprInput) (item, error) {
	if err := checkReturnAllOld(rv); err != nil {
		return nil, err
	}
	if err := w.parseExprs(ex); err != nil {
		return nil, err
	}
	old, _, err := w.run()
	if err != nil {
		return nil, err
	}
	return allOld(rv, old), nil
}

// checkReturnAllOld validates ReturnValues of PutItem and DeleteItem, which
// allow only NONE and ALL_OLD.
func checkReturnAllOld(rv types.ReturnValue) error {
	switch rv {
	case "", types.ReturnValueNone, types.ReturnValueAllOld:
		return nil
	}
	return validation("Return values set to invalid value")
}

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
	return call(ctx, s, "GetItem", func() (*dynamodb.GetItemOutput, error) {
		if in == nil {
			in = &dynamodb.GetItemInput{}
		}
		r := required{context: "GetItemInput"}
		r.check(in.Key != nil, "Key")
		r.check(in.TableName != nil, "TableName")
		if err := r.err(); err != nil {
			return nil, err
		}
		if err := legacyParams(map[string]bool{"AttributesToGet": in.AttributesToGet != nil}); err != nil {
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
		if proj != nil {
			return &dynamodb.GetItemOutput{Item: project(it, proj)}, nil
		}
		return &dynamodb.GetItemOutput{Item: cloneItem(it)}, nil
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
