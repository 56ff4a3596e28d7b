package dynamutextest_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

func TestConformanceTransactWriteItems(t *testing.T) {
	runConformance(t, []conformanceCase{
		{"AllKindsAcrossTables", caseTransactSuccess},
		{"CancellationReasons", caseTransactCancelled},
		{"SameItemTwice", caseTransactSameItem},
		{"Validation", caseTransactValidation},
	})
}

func checkItem(table, pk, cond string, vals item) types.TransactWriteItem {
	return types.TransactWriteItem{ConditionCheck: &types.ConditionCheck{TableName: aws.String(table), Key: item{"pk": S(pk)},
		ConditionExpression: aws.String(cond), ExpressionAttributeValues: vals,
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld}}
}

func putItem(table string, it item) types.TransactWriteItem {
	return types.TransactWriteItem{Put: &types.Put{TableName: aws.String(table), Item: it}}
}

func updateItem(table, pk, expr string, vals item) types.TransactWriteItem {
	return types.TransactWriteItem{Update: &types.Update{TableName: aws.String(table), Key: item{"pk": S(pk)},
		UpdateExpression: aws.String(expr), ExpressionAttributeValues: vals}}
}

func deleteItem(table, pk string) types.TransactWriteItem {
	return types.TransactWriteItem{Delete: &types.Delete{TableName: aws.String(table), Key: item{"pk": S(pk)}}}
}

func transact(c api, items ...types.TransactWriteItem) error {
	_, err := c.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: items})
	return err
}

func caseTransactSuccess(t *testing.T, c api) {
	t1, t2 := pkTable(t, c), pkTable(t, c)
	put(t, c, t1, item{"pk": S("a"), "v": N("1")})
	put(t, c, t1, item{"pk": S("b"), "v": N("1")})
	put(t, c, t2, item{"pk": S("d")})
	err := transact(c,
		checkItem(t1, "a", "v = :one", item{":one": N("1")}),
		putItem(t2, item{"pk": S("c"), "v": N("3")}),
		updateItem(t1, "b", "SET v = v + :one", item{":one": N("1")}),
		deleteItem(t2, "d"),
		deleteItem(t1, "never-existed"))
	mustOK(t, err)
	wantItem(t, "checked item", get(t, c, t1, item{"pk": S("a")}), item{"pk": S("a"), "v": N("1")})
	wantItem(t, "updated item", get(t, c, t1, item{"pk": S("b")}), item{"pk": S("b"), "v": N("2")})
	wantItem(t, "put item", get(t, c, t2, item{"pk": S("c")}), item{"pk": S("c"), "v": N("3")})
	wantItem(t, "deleted item", get(t, c, t2, item{"pk": S("d")}), nil)
}

func caseTransactCancelled(t *testing.T, c api) {
	table := pkTable(t, c)
	a := item{"pk": S("a"), "v": N("1")}
	put(t, c, table, a)
	put(t, c, table, item{"pk": S("b"), "v": N("1")})
	failingPut := putItem(table, item{"pk": S("b"), "v": N("9")})
	failingPut.Put.ConditionExpression = aws.String("attribute_not_exists(pk)")
	err := transact(c,
		checkItem(table, "a", "v = :two", item{":two": N("2")}), // fails, asks for ALL_OLD
		putItem(table, item{"pk": S("new")}),                    // fine
		failingPut,                                              // fails, no ALL_OLD
		updateItem(table, "a2", "SET v = :one", item{":one": N("1")}),
		checkItem(table, "missing", "attribute_exists(pk)", nil)) // fails on a missing item
	wantAPIError(t, err, "TransactWriteItems", "TransactionCanceledException")
	var tce *types.TransactionCanceledException
	if !errors.As(err, &tce) {
		t.Fatalf("%v is not a *types.TransactionCanceledException", err)
	}
	wantMsg := "Transaction cancelled, please refer cancellation reasons for specific reasons " +
		"[ConditionalCheckFailed, None, ConditionalCheckFailed, None, ConditionalCheckFailed]"
	if got := aws.ToString(tce.Message); got != wantMsg {
		t.Errorf("message %q, want %q", got, wantMsg)
	}
	wantCodes := []string{"ConditionalCheckFailed", "None", "ConditionalCheckFailed", "None", "ConditionalCheckFailed"}
	wantItems := []item{a, nil, nil, nil, nil}
	if len(tce.CancellationReasons) != len(wantCodes) {
		t.Fatalf("%d cancellation reasons, want %d", len(tce.CancellationReasons), len(wantCodes))
	}
	for i, r := range tce.CancellationReasons {
		if got := aws.ToString(r.Code); got != wantCodes[i] {
			t.Errorf("reason %d: code %q, want %q", i, got, wantCodes[i])
		}
		msg := aws.ToString(r.Message)
		if wantCodes[i] == "None" && r.Message != nil {
			t.Errorf("reason %d: message %q, want none", i, msg)
		}
		if wantCodes[i] != "None" && !strings.HasPrefix(msg, "The conditional request failed") {
			t.Errorf("reason %d: message %q", i, msg)
		}
		if wantItems[i] == nil && len(r.Item) == 0 {
			continue
		}
		wantItem(t, fmt.Sprintf("reason %d item", i), r.Item, wantItems[i])
	}
	wantItem(t, "item new after the cancelled transaction", get(t, c, table, item{"pk": S("new")}), nil)
	wantItem(t, "item a2 after the cancelled transaction", get(t, c, table, item{"pk": S("a2")}), nil)
	wantItem(t, "item b after the cancelled transaction", get(t, c, table, item{"pk": S("b")}), item{"pk": S("b"), "v": N("1")})
}

func caseTransactSameItem(t *testing.T, c api) {
	table := pkTable(t, c)
	err := transact(c, putItem(table, item{"pk": S("d")}), deleteItem(table, "d"))
	wantValidation(t, err, "TransactWriteItems", "multiple operations on one item")
	err = transact(c, checkItem(table, "a", "attribute_not_exists(pk)", nil), updateItem(table, "a", "SET v = :one", item{":one": N("1")}))
	wantValidation(t, err, "TransactWriteItems", "multiple operations on one item")
	wantItem(t, "item d", get(t, c, table, item{"pk": S("d")}), nil)
	// The same key in two tables is two items.
	other := pkTable(t, c)
	mustOK(t, transact(c, putItem(table, item{"pk": S("d")}), putItem(other, item{"pk": S("d")})))
}

func caseTransactValidation(t *testing.T, c api) {
	table := pkTable(t, c)
	put(t, c, table, item{"pk": S("a"), "v": N("1")})
	put(t, c, table, item{"pk": S("b"), "v": N("1")})
	newPut := putItem(table, item{"pk": S("g")})
	for name, items := range map[string][]types.TransactWriteItem{
		"syntax":       {updateItem(table, "a", "SET v = v +", nil), newPut},
		"runtime type": {updateItem(table, "a", "ADD v :s", item{":s": SS("x")}), newPut},
		"missing attr": {updateItem(table, "a", "SET v = nope + :s", item{":s": N("1")}), newPut},
		// An update that cannot apply fails the request even when another
		// item's condition fails too.
		"with a failed condition": {checkItem(table, "b", "v = :s", item{":s": N("9")}), updateItem(table, "a", "ADD v :s", item{":s": SS("x")})},
		"unused value":            {checkItem(table, "a", "attribute_exists(pk)", item{":s": N("9")})},
		"bad key":                 {deleteItem(table, "")},
		"too big":                 {putItem(table, item{"pk": S("h"), "x": S(strings.Repeat("x", 409600))})},
		"two operations": {{Put: &types.Put{TableName: aws.String(table), Item: item{"pk": S("e")}},
			Delete: &types.Delete{TableName: aws.String(table), Key: item{"pk": S("f")}}}},
		"no operation": {{}},
	} {
		err := transact(c, items...)
		if err == nil {
			t.Errorf("%s: succeeded", name)
			continue
		}
		wantAPIError(t, err, "TransactWriteItems", "ValidationException")
	}
	var many []types.TransactWriteItem
	for i := range 101 {
		many = append(many, putItem(table, item{"pk": S(fmt.Sprint("m", i))}))
	}
	wantAPIError(t, transact(c, many...), "TransactWriteItems", "ValidationException")
	wantItem(t, "item g", get(t, c, table, item{"pk": S("g")}), nil)
	wantItem(t, "item a", get(t, c, table, item{"pk": S("a")}), item{"pk": S("a"), "v": N("1")})
	mustOK(t, transact(c, many[:100]...))
}
