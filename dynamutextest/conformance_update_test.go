package dynamutextest_test

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

func TestConformanceUpdateItem(t *testing.T) {
	runConformance(t, []conformanceCase{
		{"ReturnValues", caseReturnValues},
		{"CreatesMissingItem", caseUpdateCreates},
		{"ConditionFailureOnMissingItem", caseConditionFailureMissing},
		{"NumbersCanonical", caseNumbersCanonical},
		{"NumberLimits", caseNumberLimits},
		{"AddAndDelete", caseAddDelete},
		{"SetFunctionsAndArithmetic", caseSetFunctions},
		{"SetReadsOldValues", caseSetReadsOld},
		{"UpdateErrors", caseUpdateErrors},
		{"NestedPaths", caseNestedUpdate},
	})
}

func caseReturnValues(t *testing.T, c api) {
	table := pkTable(t, c)
	k := item{"pk": S("a")}
	base := item{"pk": S("a"), "keep": S("k"), "x": N("1"), "gone": S("g")}
	upd := func(rv types.ReturnValue) item {
		t.Helper()
		put(t, c, table, base)
		got, err := newUpdate(table, k, "SET x = :two, fresh = :s REMOVE gone, nope ADD n :one").
			values(item{":two": N("2"), ":s": S("f"), ":one": N("1")}).returning(rv).send(c)
		mustOK(t, err)
		return got
	}
	wantItem(t, "NONE", upd(types.ReturnValueNone), nil)
	wantItem(t, "ALL_OLD", upd(types.ReturnValueAllOld), base)
	wantItem(t, "UPDATED_OLD", upd(types.ReturnValueUpdatedOld), item{"x": N("1"), "gone": S("g")})
	wantItem(t, "ALL_NEW", upd(types.ReturnValueAllNew),
		item{"pk": S("a"), "keep": S("k"), "x": N("2"), "fresh": S("f"), "n": N("1")})
	wantItem(t, "UPDATED_NEW", upd(types.ReturnValueUpdatedNew), item{"x": N("2"), "fresh": S("f"), "n": N("1")})

	got, err := newUpdate(table, item{"pk": S("new")}, "SET x = :two").values(item{":two": N("2")}).
		returning(types.ReturnValueAllOld).send(c)
	mustOK(t, err)
	wantItem(t, "ALL_OLD of a new item", got, nil)

	_, err = newUpdate(table, k, "SET x = :two").values(item{":two": N("2")}).returning("BOGUS").send(c)
	wantValidation(t, err, "UpdateItem", "Return values set to invalid value")
}

func caseUpdateCreates(t *testing.T, c api) {
	table := pkTable(t, c)
	_, err := newUpdate(table, item{"pk": S("a")}, "").send(c)
	mustOK(t, err)
	wantItem(t, "item after an UpdateItem without expression", get(t, c, table, item{"pk": S("a")}), item{"pk": S("a")})
	_, err = newUpdate(table, item{"pk": S("b")}, "REMOVE x").send(c)
	mustOK(t, err)
	wantItem(t, "item after REMOVE on a missing item", get(t, c, table, item{"pk": S("b")}), item{"pk": S("b")})
	got, err := newUpdate(table, item{"pk": S("c")}, "SET x = :v").cond("attribute_not_exists(pk)").
		values(item{":v": S("1")}).returning(types.ReturnValueAllNew).send(c)
	mustOK(t, err)
	wantItem(t, "ALL_NEW", got, item{"pk": S("c"), "x": S("1")})
}

func caseConditionFailureMissing(t *testing.T, c api) {
	table := pkTable(t, c)
	_, err := newUpdate(table, item{"pk": S("a")}, "SET x = :v").cond("attribute_exists(pk)").
		values(item{":v": S("1")}).allOldOnFailure().send(c)
	wantConditionFailed(t, err, "UpdateItem", nil)
	wantItem(t, "item after the failed update", get(t, c, table, item{"pk": S("a")}), nil)

	put(t, c, table, item{"pk": S("a"), "x": S("0")})
	_, err = newUpdate(table, item{"pk": S("a")}, "SET x = :v").cond("x = :v").values(item{":v": S("1")}).send(c)
	wantConditionFailed(t, err, "UpdateItem", nil) // without ALL_OLD, no item
	_, err = newUpdate(table, item{"pk": S("a")}, "SET x = :v").cond("x = :v").values(item{":v": S("1")}).allOldOnFailure().send(c)
	wantConditionFailed(t, err, "UpdateItem", item{"pk": S("a"), "x": S("0")})
}

// caseNumbersCanonical checks the canonical form of numbers where DynamoDB
// Local agrees with DynamoDB: stored by PutItem, and computed from
// integers. (Local keeps a number set with SET :v, or one computed from
// decimals, as written; the Store canonicalizes those too, as DynamoDB does.)
func caseNumbersCanonical(t *testing.T, c api) {
	table := pkTable(t, c)
	in := item{"pk": S("a"), "a": N("1.50"), "b": N("007"), "c": N("-0"), "d": N("1e2"), "e": N("0.00"),
		"f": N("-.5"), "g": N("+5"), "h": N("1.5e-3"), "i": N("5."), "j": N("00.100"), "s": NS("1.50", "007")}
	put(t, c, table, in)
	want := item{"pk": S("a"), "a": N("1.5"), "b": N("7"), "c": N("0"), "d": N("100"), "e": N("0"),
		"f": N("-0.5"), "g": N("5"), "h": N("0.0015"), "i": N("5"), "j": N("0.1"), "s": NS("1.5", "7")}
	wantItem(t, "stored numbers", get(t, c, table, item{"pk": S("a")}), want)

	got, err := newUpdate(table, item{"pk": S("a")}, "SET b = b - :b, d = d + :d, x = :x + :y ADD g :g").
		values(item{":b": N("10"), ":d": N("-100"), ":x": N("99999999999999999999999999999999999999"), ":y": N("1"), ":g": N("-5")}).
		returning(types.ReturnValueUpdatedNew).send(c)
	mustOK(t, err)
	wantItem(t, "computed numbers", got, item{"b": N("-3"), "d": N("0"), "x": N("100000000000000000000000000000000000000"), "g": N("0")})

	got, err = newUpdate(table, item{"pk": S("a")}, "SET y = :x + :y").values(item{":x": N("0.1"), ":y": N("0.2")}).
		returning(types.ReturnValueUpdatedNew).send(c)
	mustOK(t, err)
	wantItem(t, "0.1 + 0.2", got, item{"y": N("0.3")})
}

func caseNumberLimits(t *testing.T, c api) {
	table := pkTable(t, c)
	for _, n := range []string{"123456789012345678901234567890123456789", "1E+126", "1e-131", "abc", "", "1e", "0x10", " 5", "NaN"} {
		_, err := c.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(table), Item: item{"pk": S("a"), "n": N(n)}})
		wantAPIError(t, err, "PutItem", "ValidationException")
	}
	for _, n := range []string{"12345678901234567890123456789012345678", "9.9999999999999999999999999999999999999E+125",
		"1e-130", "1234567890123456789012345678901234567800000"} {
		_, err := c.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(table), Item: item{"pk": S("a"), "n": N(n)}})
		if err != nil {
			t.Errorf("PutItem of %s: %v", n, err)
		}
	}
	put(t, c, table, item{"pk": S("a"), "n": N("99999999999999999999999999999999999999")})
	_, err := newUpdate(table, item{"pk": S("a")}, "SET n = n + :x").values(item{":x": N("0.1")}).send(c)
	wantValidation(t, err, "UpdateItem", "38")
	_, err = newUpdate(table, item{"pk": S("a")}, "SET n = :x + :y").values(item{":x": N("9e125"), ":y": N("1e125")}).send(c)
	wantValidation(t, err, "UpdateItem", "overflow")
}

func caseAddDelete(t *testing.T, c api) {
	table := pkTable(t, c)
	k := item{"pk": S("a")}
	put(t, c, table, item{"pk": S("a"), "n": N("1"), "ss": SS("x", "y"), "s": S("str")})
	got, err := newUpdate(table, k, "ADD n :n, ss :ss, fresh :one, fset :ns").
		values(item{":n": N("2.5"), ":ss": SS("y", "z"), ":one": N("1"), ":ns": NS("3", "4")}).
		returning(types.ReturnValueAllNew).send(c)
	mustOK(t, err)
	wantItem(t, "after ADD", got, item{"pk": S("a"), "n": N("3.5"), "ss": SS("x", "y", "z"), "s": S("str"),
		"fresh": N("1"), "fset": NS("3", "4")})

	got, err = newUpdate(table, k, "DELETE ss :d, fset :all, nothere :d").values(item{":d": SS("x", "q"), ":all": NS("4", "3")}).
		returning(types.ReturnValueAllNew).send(c)
	mustOK(t, err)
	// A set that loses its last member disappears.
	wantItem(t, "after DELETE", got, item{"pk": S("a"), "n": N("3.5"), "ss": SS("y", "z"), "s": S("str"), "fresh": N("1")})

	_, err = newUpdate(table, k, "ADD s :v").values(item{":v": N("1")}).send(c)
	wantValidation(t, err, "UpdateItem", "incorrect data type")
	_, err = newUpdate(table, k, "ADD n :v").values(item{":v": SS("a")}).send(c)
	wantValidation(t, err, "UpdateItem", "incorrect data type")
	_, err = newUpdate(table, k, "DELETE ss :v").values(item{":v": NS("1")}).send(c)
	wantValidation(t, err, "UpdateItem", "incorrect data type")
	_, err = newUpdate(table, k, "ADD s :v").values(item{":v": S("x")}).send(c)
	wantValidation(t, err, "UpdateItem", "Incorrect operand type", "ADD")
	_, err = newUpdate(table, k, "DELETE ss :v").values(item{":v": S("x")}).send(c)
	wantValidation(t, err, "UpdateItem", "Incorrect operand type", "DELETE")
}

func caseSetFunctions(t *testing.T, c api) {
	table := pkTable(t, c)
	k := item{"pk": S("a")}
	put(t, c, table, item{"pk": S("a"), "n": N("10"), "l": L(N("1"))})
	got, err := newUpdate(table, k, "SET a = if_not_exists(n, :zero) - :three, b = if_not_exists(nope, :zero) + :three, "+
		"l = list_append(l, :tail), m = list_append(:head, if_not_exists(nol, :empty)), c = (n)").
		values(item{":zero": N("0"), ":three": N("3"), ":tail": L(S("x")), ":head": L(BOOL(true)), ":empty": L()}).
		returning(types.ReturnValueUpdatedNew).send(c)
	mustOK(t, err)
	wantItem(t, "UPDATED_NEW", got, item{"a": N("7"), "b": N("3"), "l": L(N("1"), S("x")), "m": L(BOOL(true)), "c": N("10")})
}

func caseSetReadsOld(t *testing.T, c api) {
	table := pkTable(t, c)
	k := item{"pk": S("a")}
	put(t, c, table, item{"pk": S("a"), "x": N("1"), "y": N("2")})
	got, err := newUpdate(table, k, "SET x = :v, y = x").values(item{":v": N("10")}).returning(types.ReturnValueAllNew).send(c)
	mustOK(t, err)
	wantItem(t, "ALL_NEW", got, item{"pk": S("a"), "x": N("10"), "y": N("1")})
	got, err = newUpdate(table, k, "SET y = x, x = y").returning(types.ReturnValueAllNew).send(c)
	mustOK(t, err)
	wantItem(t, "swapped", got, item{"pk": S("a"), "x": N("1"), "y": N("10")})
}

func caseUpdateErrors(t *testing.T, c api) {
	table := pkTable(t, c)
	k := item{"pk": S("a")}
	put(t, c, table, item{"pk": S("a"), "x": N("1"), "s": S("str")})
	cases := []struct {
		expr  string
		vals  item
		parts []string
	}{
		{"SET z = nope + :v", item{":v": N("1")}, []string{"attribute that does not exist"}},
		{"SET z = nope", nil, []string{"attribute that does not exist"}},
		{"SET z = s + :v", item{":v": N("1")}, []string{"incorrect data type"}},
		{"SET z = :v + :w", item{":v": N("1"), ":w": S("1")}, []string{"Incorrect operand type", "+"}},
		{"SET z = list_append(:v, x)", item{":v": L()}, []string{"incorrect data type"}},
		{"SET pk = :v", item{":v": S("b")}, []string{"Cannot update attribute pk", "part of the key"}},
		{"REMOVE pk", nil, []string{"Cannot update attribute pk"}},
		{"SET x = :v REMOVE x", item{":v": N("1")}, []string{"overlap"}},
		{"SET x = :v, x = :v", item{":v": N("1")}, []string{"overlap"}},
		{"SET x = :v SET s = :v", item{":v": N("1")}, []string{`"SET" section can only be used once`}},
		{"SET z = size(s)", nil, []string{"not allowed in an update expression", "size"}},
		{"SET z = nofunc(s)", nil, []string{"Invalid function name", "nofunc"}},
		{"SET z = if_not_exists(:v, x)", item{":v": N("1")}, []string{"requires a document path", "if_not_exists"}},
		{"SET z = if_not_exists(x, x)", nil, []string{"distinct", "if_not_exists"}},
		{"SET z = :v + :v + :v", item{":v": N("1")}, []string{"Syntax error"}},
		{"SET z = ((:v))", item{":v": N("1")}, []string{"redundant parentheses"}},
		{"SET z = ((:v + :v))", item{":v": N("1")}, []string{"redundant parentheses"}},
		{"SET z = if_not_exists(x, list_append(:l, :l))", item{":l": L()}, []string{"not allowed to be used this way", "list_append"}},
		{"SET z = list_append(list_append(:l, :l), :l)", item{":l": L()}, []string{"not allowed to be used this way", "list_append"}},
		// The default of if_not_exists is read even when x exists.
		{"SET z = if_not_exists(x, nope)", nil, []string{"attribute that does not exist"}},
		{"SET", nil, []string{"Syntax error"}},
		{"SET x = :v,", item{":v": N("1")}, []string{"Syntax error"}},
		{"SET status = :v", item{":v": N("1")}, []string{"reserved keyword", "status"}},
		{"SET #n = :v", item{":v": N("1")}, []string{"attribute name", "not defined", "#n"}},
		{"SET x = :nope", nil, []string{"attribute value", "not defined", ":nope"}},
		{"SET x = :v", item{":v": N("1"), ":w": N("2")}, []string{"unused", ":w"}},
		{"SET m.a = :v", item{":v": N("1")}, []string{"document path provided in the update expression is invalid"}},
		{"SET s.a = :v", item{":v": N("1")}, []string{"document path provided in the update expression is invalid"}},
	}
	for _, tc := range cases {
		_, err := newUpdate(table, k, tc.expr).values(tc.vals).send(c)
		if err == nil {
			t.Errorf("%q succeeded", tc.expr)
			continue
		}
		wantValidation(t, err, "UpdateItem", tc.parts...)
	}
	_, err := newUpdate(table, k, "SET #a = :v").names("#a", "x", "#b", "y").values(item{":v": N("1")}).send(c)
	wantValidation(t, err, "UpdateItem", "ExpressionAttributeNames unused", "#b")
	_, err = newUpdate(table, k, "").values(item{":v": N("1")}).send(c)
	wantValidation(t, err, "UpdateItem", "ExpressionAttributeValues can only be specified when using expressions")
	wantItem(t, "item after the failed updates", get(t, c, table, k), item{"pk": S("a"), "x": N("1"), "s": S("str")})
}

func caseNestedUpdate(t *testing.T, c api) {
	table := pkTable(t, c)
	k := item{"pk": S("a")}
	put(t, c, table, item{"pk": S("a"), "l": L(N("1"), N("2"), N("3"), N("4")), "m": M(item{"a": M(item{"b": N("1")})})})
	_, err := newUpdate(table, k, "SET m.a.c = :v, l[9] = :v, m.#x = :v REMOVE l[0], l[2], m.a.b, m.nope, l[20]").
		names("#x", "dotted.name").values(item{":v": S("new")}).send(c)
	mustOK(t, err)
	want := item{"pk": S("a"), "l": L(N("2"), N("4"), S("new")), "m": M(item{"a": M(item{"c": S("new")}), "dotted.name": S("new")})}
	wantItem(t, "after nested update", get(t, c, table, k), want)
	_, err = newUpdate(table, k, "ADD m.a.st :s").values(item{":s": SS("q")}).send(c)
	mustOK(t, err)
	want["m"].(*types.AttributeValueMemberM).Value["a"].(*types.AttributeValueMemberM).Value["st"] = SS("q")
	wantItem(t, "after nested ADD", get(t, c, table, k), want)
	_, err = newUpdate(table, k, "REMOVE m.x.y").send(c)
	wantValidation(t, err, "UpdateItem", "document path provided in the update expression is invalid")
	_, err = newUpdate(table, k, "SET m.a = :v, m = :v").values(item{":v": N("1")}).send(c)
	wantValidation(t, err, "UpdateItem", "overlap")
}
