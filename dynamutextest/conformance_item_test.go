package dynamutextest_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

func TestConformanceItems(t *testing.T) {
	runConformance(t, []conformanceCase{
		{"PutItemConditionAndReturnValues", casePutItem},
		{"DeleteItem", caseDeleteItem},
		{"GetItemMissingAndProjection", caseGetItem},
		{"KeySchemaErrors", caseKeyErrors},
		{"SortKeyTable", caseSortKeyTable},
		{"ItemSizeLimit", caseItemSize},
		{"InvalidValues", caseInvalidValues},
		{"MissingTable", caseMissingTable},
		{"CancelledContext", caseCancelledContext},
	})
}

func casePutItem(t *testing.T, c api) {
	table := pkTable(t, c)
	first := item{"pk": S("a"), "v": N("1")}
	out, err := c.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(table), Item: first,
		ReturnValues: types.ReturnValueAllOld, ConditionExpression: aws.String("attribute_not_exists(pk)")})
	mustOK(t, err)
	wantItem(t, "ALL_OLD of a new item", out.Attributes, nil)

	_, err = c.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(table), Item: item{"pk": S("a")},
		ConditionExpression:                 aws.String("attribute_not_exists(pk)"),
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld})
	wantConditionFailed(t, err, "PutItem", first)

	second := item{"pk": S("a"), "w": SS("x")}
	out, err = c.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(table), Item: second,
		ReturnValues: types.ReturnValueAllOld, ConditionExpression: aws.String("#v = :one"),
		ExpressionAttributeNames: map[string]string{"#v": "v"}, ExpressionAttributeValues: item{":one": N("1")}})
	mustOK(t, err)
	wantItem(t, "ALL_OLD", out.Attributes, first)
	wantItem(t, "replaced item", get(t, c, table, item{"pk": S("a")}), second)

	for _, rv := range []types.ReturnValue{types.ReturnValueAllNew, types.ReturnValueUpdatedOld} {
		_, err = c.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(table), Item: second, ReturnValues: rv})
		wantValidation(t, err, "PutItem", "Return values set to invalid value")
	}
}

func caseDeleteItem(t *testing.T, c api) {
	table := pkTable(t, c)
	it := item{"pk": S("a"), "v": N("2")}
	put(t, c, table, it)
	_, err := c.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: aws.String(table), Key: item{"pk": S("a")},
		ConditionExpression: aws.String("v = :v"), ExpressionAttributeValues: item{":v": N("3")},
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld})
	wantConditionFailed(t, err, "DeleteItem", it)
	out, err := c.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: aws.String(table), Key: item{"pk": S("a")},
		ReturnValues: types.ReturnValueAllOld})
	mustOK(t, err)
	wantItem(t, "ALL_OLD", out.Attributes, it)
	wantItem(t, "deleted item", get(t, c, table, item{"pk": S("a")}), nil)
	out, err = c.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: aws.String(table), Key: item{"pk": S("a")},
		ReturnValues: types.ReturnValueAllOld})
	mustOK(t, err)
	wantItem(t, "ALL_OLD of a missing item", out.Attributes, nil)
	_, err = c.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: aws.String(table), Key: item{"pk": S("a")},
		ReturnValues: types.ReturnValueAllNew})
	wantValidation(t, err, "DeleteItem", "Return values set to invalid value")
}

func caseGetItem(t *testing.T, c api) {
	table := pkTable(t, c)
	out, err := c.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(table), Key: item{"pk": S("zz")}})
	mustOK(t, err)
	if out.Item != nil {
		t.Errorf("GetItem of a missing item returned %s, want a nil Item", show(out.Item))
	}
	put(t, c, table, item{"pk": S("p"), "a": N("1"), "b": S("x"), "c": L(N("1"), N("2"), N("3")), "m": M(item{"x": N("1"), "y": N("2")})})
	proj := func(expr string, names ...string) (item, error) {
		in := &dynamodb.GetItemInput{TableName: aws.String(table), Key: item{"pk": S("p")}, ProjectionExpression: aws.String(expr)}
		if len(names) > 0 {
			in.ExpressionAttributeNames = map[string]string{names[0]: names[1]}
		}
		out, err := c.GetItem(ctx, in)
		if err != nil {
			return nil, err
		}
		return out.Item, nil
	}
	for _, tc := range []struct {
		expr  string
		names []string
		want  item
	}{
		{"a", nil, item{"a": N("1")}},
		{"a, b, pk", nil, item{"a": N("1"), "b": S("x"), "pk": S("p")}},
		{"#x", []string{"#x", "b"}, item{"b": S("x")}},
		{"c[2], c[0]", nil, item{"c": L(N("1"), N("3"))}},
		{"m.y", nil, item{"m": M(item{"y": N("2")})}},
		{"nope", nil, item{}},
	} {
		got, err := proj(tc.expr, tc.names...)
		mustOK(t, err)
		if got == nil {
			t.Errorf("projection %q of an existing item gave a nil Item", tc.expr)
		}
		wantItem(t, "projection "+tc.expr, got, tc.want)
	}
	_, err = proj("a, a")
	wantValidation(t, err, "GetItem", "overlap")
	_, err = proj("m.y, m")
	wantValidation(t, err, "GetItem", "overlap")
	_, err = proj("status")
	wantValidation(t, err, "GetItem", "reserved keyword")
	_, err = proj("")
	wantValidation(t, err, "GetItem", "can not be empty")
	_, err = proj("a", "#unused", "b")
	wantValidation(t, err, "GetItem", "unused", "#unused")
}

func caseKeyErrors(t *testing.T, c api) {
	table := pkTable(t, c)
	for _, key := range []item{{}, {"pk": N("1")}, {"pk": S("a"), "x": S("b")}, {"other": S("a")}, {"pk": S("")}, {"pk": B("a")}} {
		_, err := c.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(table), Key: key})
		wantAPIError(t, err, "GetItem", "ValidationException")
		_, err = newUpdate(table, key, "SET x = :v").values(item{":v": N("1")}).send(c)
		wantAPIError(t, err, "UpdateItem", "ValidationException")
		_, err = c.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: aws.String(table), Key: key})
		wantAPIError(t, err, "DeleteItem", "ValidationException")
	}
	for _, it := range []item{{"x": S("1")}, {"pk": N("1")}, {"pk": S("")}, {"pk": S(strings.Repeat("x", 2049))}} {
		_, err := c.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(table), Item: it})
		wantAPIError(t, err, "PutItem", "ValidationException")
	}
	put(t, c, table, item{"pk": S(strings.Repeat("x", 2048))})
}

func caseSortKeyTable(t *testing.T, c api) {
	table := createTable(t, c, keyDef{"pk", types.ScalarAttributeTypeS}, keyDef{"sk", types.ScalarAttributeTypeN})
	put(t, c, table, item{"pk": S("a"), "sk": N("1.0"), "v": S("first")})
	put(t, c, table, item{"pk": S("a"), "sk": N("1"), "v": S("second")}) // the same key as 1.0
	put(t, c, table, item{"pk": S("a"), "sk": N("2"), "v": S("other")})
	wantItem(t, "item a/1", get(t, c, table, item{"pk": S("a"), "sk": N("1.00")}), item{"pk": S("a"), "sk": N("1"), "v": S("second")})
	got, err := newUpdate(table, item{"pk": S("b"), "sk": N("-7")}, "SET v = :v").values(item{":v": S("new")}).
		returning(types.ReturnValueAllNew).send(c)
	mustOK(t, err)
	wantItem(t, "created item", got, item{"pk": S("b"), "sk": N("-7"), "v": S("new")})
	_, err = c.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(table), Key: item{"pk": S("a")}})
	wantAPIError(t, err, "GetItem", "ValidationException")
	_, err = c.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(table), Key: item{"pk": S("a"), "sk": S("1")}})
	wantAPIError(t, err, "GetItem", "ValidationException")
	_, err = newUpdate(table, item{"pk": S("a"), "sk": N("1")}, "SET sk = :v").values(item{":v": N("3")}).send(c)
	wantValidation(t, err, "UpdateItem", "Cannot update attribute sk")
	out, err := c.Scan(ctx, &dynamodb.ScanInput{TableName: aws.String(table), Select: types.SelectCount})
	mustOK(t, err)
	if out.Count != 3 {
		t.Errorf("Count = %d, want 3", out.Count)
	}
}

func caseItemSize(t *testing.T, c api) {
	table := pkTable(t, c)
	// 400 KB is 409600 bytes: "pk" + "a" + "x" + the value.
	_, err := c.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(table),
		Item: item{"pk": S("a"), "x": S(strings.Repeat("x", 409600-4))}})
	mustOK(t, err)
	_, err = c.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(table),
		Item: item{"pk": S("a"), "x": S(strings.Repeat("x", 409600-3))}})
	wantValidation(t, err, "PutItem", "Item size has exceeded the maximum allowed size")
	_, err = newUpdate(table, item{"pk": S("a")}, "SET y = :v").values(item{":v": S(strings.Repeat("y", 2000))}).send(c)
	wantValidation(t, err, "UpdateItem", "Item size to update has exceeded the maximum allowed size")
}

func caseInvalidValues(t *testing.T, c api) {
	table := pkTable(t, c)
	for _, v := range []types.AttributeValue{SS(), NS(), SS("a", "a"), NS("1.5", "1.50"), &types.AttributeValueMemberNULL{Value: false},
		L(N("x")), M(item{"y": N("1e999")})} {
		_, err := c.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(table), Item: item{"pk": S("a"), "x": v}})
		wantAPIError(t, err, "PutItem", "ValidationException")
	}
	// Empty strings and binaries are fine outside keys.
	put(t, c, table, item{"pk": S("a"), "s": S(""), "b": B(""), "l": L(), "m": M(item{})})
	wantItem(t, "empty values", get(t, c, table, item{"pk": S("a")}), item{"pk": S("a"), "s": S(""), "b": B(""), "l": L(), "m": M(item{})})
}

func caseMissingTable(t *testing.T, c api) {
	missing := aws.String("dtt_no_such_table")
	k := item{"pk": S("a")}
	var errs []error
	_, err := c.GetItem(ctx, &dynamodb.GetItemInput{TableName: missing, Key: k})
	errs = append(errs, err)
	_, err = c.PutItem(ctx, &dynamodb.PutItemInput{TableName: missing, Item: k})
	errs = append(errs, err)
	_, err = c.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: missing, Key: k})
	errs = append(errs, err)
	_, err = c.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: missing, Key: k})
	errs = append(errs, err)
	_, err = c.Scan(ctx, &dynamodb.ScanInput{TableName: missing})
	errs = append(errs, err)
	_, err = c.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: missing})
	errs = append(errs, err)
	_, err = c.DescribeTimeToLive(ctx, &dynamodb.DescribeTimeToLiveInput{TableName: missing})
	errs = append(errs, err)
	_, err = c.DeleteTable(ctx, &dynamodb.DeleteTableInput{TableName: missing})
	errs = append(errs, err)
	_, err = c.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{
		{Put: &types.Put{TableName: missing, Item: k}}}})
	errs = append(errs, err)
	ops := []string{"GetItem", "PutItem", "UpdateItem", "DeleteItem", "Scan", "DescribeTable", "DescribeTimeToLive",
		"DeleteTable", "TransactWriteItems"}
	for i, err := range errs {
		var nf *types.ResourceNotFoundException
		if !errors.As(err, &nf) {
			t.Errorf("%s on a missing table: %v, want *types.ResourceNotFoundException", ops[i], err)
			continue
		}
		wantAPIError(t, err, ops[i], "ResourceNotFoundException")
	}
}

func caseCancelledContext(t *testing.T, c api) {
	table := pkTable(t, c)
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	_, err := c.PutItem(cctx, &dynamodb.PutItemInput{TableName: aws.String(table), Item: item{"pk": S("a")}})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("PutItem with a cancelled context: %v, want context.Canceled", err)
	}
	var oe interface{ Operation() string }
	if !errors.As(err, &oe) || oe.Operation() != "PutItem" {
		t.Errorf("error %v does not name the operation", err)
	}
	_, err = c.UpdateItem(cctx, &dynamodb.UpdateItemInput{TableName: aws.String(table), Key: item{"pk": S("b")}})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("UpdateItem with a cancelled context: %v, want context.Canceled", err)
	}
	wantItem(t, "item a", get(t, c, table, item{"pk": S("a")}), nil)
	wantItem(t, "item b", get(t, c, table, item{"pk": S("b")}), nil)
}
