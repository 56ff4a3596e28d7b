package dynamutextest

import (
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// writeKind is what a write does to its item.
type writeKind int

const (
	kindPut writeKind = iota
	kindUpdate
	kindDelete
	kindCheck // a transaction's ConditionCheck: writes nothing
)

// write is one prepared write on one item: everything DynamoDB checks
// before it reads the item has been checked. PutItem, UpdateItem,
// DeleteItem and each item of TransactWriteItems run as a write.
type write struct {
	t         *table
	kind      writeKind
	enc       string // encoded primary key
	key       item   // canonical key attributes
	item      item   // the new item, for kindPut
	update    *updateExpr
	cond      cond // nil: unconditional
	returnOld types.ReturnValuesOnConditionCheckFailure
}

// writeRequest is a single-item write as its request states it: a
// PutItem, UpdateItem or DeleteItem, or one item of TransactWriteItems.
type writeRequest struct {
	kind         writeKind
	table        *string
	key          item              // the Key parameter, or the Item of a put
	returnValues types.ReturnValue // ReturnValues; "" in a transaction, which has none
	returnOld    types.ReturnValuesOnConditionCheckFailure
	exprs        exprInput
}

// prepare starts the write r: it checks the table, the key (for a put, the
// item and its key) and ReturnValuesOnConditionCheckFailure, in that order.
func (s *Store) prepare(r writeRequest) (*write, error) {
	t, err := s.lookup(r.table)
	if err != nil {
		return nil, err
	}
	w := &write{t: t, kind: r.kind, returnOld: r.returnOld}
	if r.kind == kindPut {
		err = w.setItem(r.key)
	} else {
		w.enc, w.key, err = t.keyFromParam(r.key)
	}
	if err != nil {
		return nil, err
	}
	return w, checkReturnOld(r.returnOld)
}

// setItem validates the item of a put and takes its key from it.
func (w *write) setItem(it item) error {
	var err error
	if w.item, err = importItem(it); err != nil {
		return err
	}
	if w.enc, w.key, err = w.t.keyFromItem(w.item); err != nil {
		return err
	}
	for name, v := range w.key {
		w.item[name] = v // canonical key values, so that N keys read back alike
	}
	return checkItemSize(w.item, msgItemTooBig)
}

// exprInput are the expression parameters of a write.
type exprInput struct {
	names     map[string]string
	values    item
	condition *string
	update    *string
}

// parseExprs parses a write's expressions and refuses placeholders they do
// not use.
func (w *write) parseExprs(in exprInput) error {
	params, err := newExprParams(in.names, in.values, in.condition != nil || in.update != nil)
	if err != nil {
		return err
	}
	if w.update, err = parseInto("UpdateExpression", in.update, func(s string) (*updateExpr, error) {
		return parseUpdate(s, params)
	}); err != nil {
		return err
	}
	if w.cond, err = parseInto("ConditionExpression", in.condition, func(s string) (cond, error) {
		return parseCondition(s, params)
	}); err != nil {
		return err
	}
	if err := params.checkUnused(); err != nil {
		return err
	}
	if w.update != nil {
		for _, p := range w.update.targets() {
			if w.t.isKeyAttr(p[0].name) {
				return validation("One or more parameter values were invalid: Cannot update attribute %s. "+
					"This attribute is part of the key", p[0].name)
			}
		}
		// A value too large for any item fails before the condition is
		// read, as in DynamoDB.
		for _, v := range params.values {
			if valueSize(v) > maxItemSize {
				return validation(msgUpdateItemTooBig)
			}
		}
	}
	return nil
}

// checkReturnOld validates ReturnValuesOnConditionCheckFailure.
func checkReturnOld(r types.ReturnValuesOnConditionCheckFailure) error {
	switch r {
	case "", types.ReturnValuesOnConditionCheckFailureNone, types.ReturnValuesOnConditionCheckFailureAllOld:
		return nil
	}
	return validation("1 validation error detected: Value '%s' at 'returnValuesOnConditionCheckFailure' failed to "+
		"satisfy constraint: Member must satisfy enum value set: [ALL_OLD, NONE]", r)
}

// holds reports whether the write's condition holds for old, the current
// item or nil.
func (w *write) holds(old item) bool {
	return w.cond == nil || evalCond(w.cond, old)
}

// result computes the item after the write: nil for a delete, old for a
// condition check. It may fail only for reasons that depend on the item,
// such as adding a number to a string.
func (w *write) result(old item) (item, error) {
	switch w.kind {
	case kindPut:
		return w.item, nil
	case kindDelete:
		return nil, nil
	case kindCheck:
		return old, nil
	}
	next, err := applyUpdate(w.update, old, w.key)
	if err != nil {
		return nil, err
	}
	if err := checkItemSize(next, msgUpdateItemTooBig); err != nil {
		return nil, err
	}
	return next, nil
}

// commit stores the result of the write.
func (w *write) commit(next item) {
	switch w.kind {
	case kindCheck:
	case kindDelete:
		w.t.remove(w.enc)
	default:
		w.t.put(w.enc, next)
	}
}

// run performs a single write: condition, result, commit. It returns the
// old item and the new one.
func (w *write) run() (old, next item, err error) {
	old = w.t.get(w.enc)
	if !w.holds(old) {
		return nil, nil, conditionFailed(old, w.returnOld)
	}
	next, err = w.result(old)
	if err != nil {
		return nil, nil, err
	}
	w.commit(next)
	return old, next, nil
}

// legacyParams refuses the pre-expression parameters, which this Store does
// not implement, naming the first one present.
func legacyParams(params map[string]bool) error {
	for _, name := range []string{"AttributeUpdates", "Expected", "ConditionalOperator", "AttributesToGet", "ScanFilter"} {
		if params[name] {
			return unsupported("the legacy parameter " + name + "; use expressions instead")
		}
	}
	return nil
}
