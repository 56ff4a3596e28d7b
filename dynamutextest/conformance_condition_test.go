package dynamutextest_test

import (
	"testing"
)

func TestConformanceConditions(t *testing.T) {
	runConformance(t, []conformanceCase{
		{"Evaluation", caseConditionEvaluation},
		{"StaticErrors", caseConditionErrors},
		{"ReservedWords", caseReservedWords},
	})
}

// conditionItem has one attribute of every type.
func conditionItem() item {
	return item{
		"pk": S("a"), "n": N("5"), "s": S("héllo"), "e": S("a😀b"), "b": B("xyz"), "t": BOOL(true), "nul": NULL(),
		"ss": SS("a", "b"), "ns": NS("1", "2"), "l": L(N("1"), S("x")), "m": M(item{"q": N("1"), "in": M(item{"r": S("deep")})}),
	}
}

// conditionCases are evaluated against conditionItem on every backend.
var conditionCases = []struct {
	expr string
	vals item
	want bool
}{
	{"n = :v", item{":v": N("5.0")}, true},
	{"n = :v", item{":v": S("5")}, false}, // different types: false, not an error
	{"n <> :v", item{":v": S("5")}, true},
	{"nope <> :v", item{":v": S("5")}, true}, // a missing attribute differs from anything
	{"nope = :v", item{":v": S("5")}, false},
	{"NOT nope = :v", item{":v": S("5")}, true},
	{"n < :v", item{":v": S("6")}, false},
	{"n < :v", item{":v": N("50")}, true},
	{"n < :v", item{":v": N("5.0000000001")}, true},
	{"n >= :v", item{":v": N("5.000")}, true},
	{"n <= :v", item{":v": N("-5")}, false},
	{"s < :v", item{":v": S("i")}, true},
	{"s > :v", item{":v": S("hello")}, true}, // é sorts after l as UTF-8 bytes
	{"b > :v", item{":v": B("xyy")}, true},
	{"s < :v", item{":v": B("a")}, false},
	{"t < n", nil, false},
	{"t = :v", item{":v": BOOL(true)}, true},
	{"nul = :v", item{":v": NULL()}, true},
	{"ss = :v", item{":v": SS("b", "a")}, true},
	{"ns = :v", item{":v": NS("2.0", "1")}, true},
	{"l = :v", item{":v": L(N("1.0"), S("x"))}, true},
	{"m = :v", item{":v": M(item{"q": N("1"), "in": M(item{"r": S("deep")})})}, true},
	{"m = :v", item{":v": M(item{"q": N("1")})}, false},
	{"n BETWEEN :a AND :b", item{":a": N("1"), ":b": N("5")}, true},
	{"n between :a and :b", item{":a": N("6"), ":b": N("9")}, false},
	{"n BETWEEN s AND :b", item{":b": N("7")}, false},
	{"n IN (:a, :b)", item{":a": N("1"), ":b": N("5")}, true},
	{"n IN (:a, :b)", item{":a": N("1"), ":b": S("5")}, false},
	{"begins_with(s, :p)", item{":p": S("hé")}, true},
	{"begins_with(s, :p)", item{":p": S("")}, true},
	{"begins_with(n, :p)", item{":p": S("5")}, false},
	{"begins_with(b, :p)", item{":p": B("xy")}, true},
	{"begins_with(:v, :p)", item{":v": S("abc"), ":p": S("a")}, true},
	{"contains(s, :p)", item{":p": S("ll")}, true},
	{"contains(s, :p)", item{":p": N("1")}, false},
	{"contains(ss, :p)", item{":p": S("a")}, true},
	{"contains(ss, :p)", item{":p": N("1")}, false},
	{"contains(ns, :p)", item{":p": N("2.00")}, true},
	{"contains(l, :p)", item{":p": S("x")}, true},
	{"contains(l, :p)", item{":p": L(N("1"))}, false},
	{"contains(b, :p)", item{":p": B("yz")}, true},
	{"contains(m, :p)", item{":p": S("q")}, false},
	{"size(s) = :v", item{":v": N("5")}, true},
	{"size(e) = :v", item{":v": N("4")}, true}, // UTF-16 code units
	{"size(b) = :v", item{":v": N("3")}, true},
	{"size(ss) = :v", item{":v": N("2")}, true},
	{"size(l) = :v", item{":v": N("2")}, true},
	{"size(m) = :v", item{":v": N("2")}, true},
	{"size(n) = :v", item{":v": N("1")}, false}, // numbers have no size
	{"size(nope) <> :v", item{":v": N("1")}, true},
	{"size(:v) = :w", item{":v": S("abc"), ":w": N("3")}, true},
	{"size(s) BETWEEN :a AND :b", item{":a": N("1"), ":b": N("9")}, true},
	{"size(s) > n", nil, false},
	{"attribute_type(n, :t)", item{":t": S("N")}, true},
	{"attribute_type(n, :t)", item{":t": S("S")}, false},
	{"attribute_type(nul, :t)", item{":t": S("NULL")}, true},
	{"attribute_exists(n) AND attribute_not_exists(zz)", nil, true},
	{"attribute_exists (n)", nil, true},
	{"NOT n = :v", item{":v": N("5")}, false},
	{"NOT NOT n = :v", item{":v": N("5")}, true},
	{"not n = :v or n = :v", item{":v": N("5")}, true},
	{"n = :v OR n = :w AND n = :w", item{":v": N("5"), ":w": N("4")}, true}, // AND binds tighter
	{"(n = :v OR n = :w) AND n = :w", item{":v": N("5"), ":w": N("4")}, false},
	{"((n = :v) AND n = :v)", item{":v": N("5")}, true},
	{"(n) = :v", item{":v": N("5")}, true},
	{"n=:v\tAND\nn = (:v)", item{":v": N("5")}, true},
	{"m.q = :v", item{":v": N("1")}, true},
	{"l[0] = :v", item{":v": N("1")}, true},
	{"l [1] = :v", item{":v": S("x")}, true},
	{"l[9] = :v", item{":v": N("1")}, false},
	{"n[0] = :v", item{":v": N("1")}, false},
	{"attribute_not_exists(m.x)", nil, true},
	{"x9 = :v", item{":v": N("5")}, false},
	{"N = :v", item{":v": N("5")}, false}, // names are case-sensitive
}

func caseConditionEvaluation(t *testing.T, c api) {
	table := pkTable(t, c)
	put(t, c, table, conditionItem())
	ck := checker{t: t, c: c, table: table, key: item{"pk": S("a")}}
	for _, tc := range conditionCases {
		if got := ck.holds(tc.expr, tc.vals); got != tc.want {
			t.Errorf("%q with %s = %v, want %v", tc.expr, show(tc.vals), got, tc.want)
		}
	}
	named := []struct {
		expr  string
		names []string
		vals  item
		want  bool
	}{
		{"m.#in.r = :v", []string{"#in", "in"}, item{":v": S("deep")}, true},
		{"#d = :v", []string{"#d", "m.q"}, item{":v": N("1")}, false}, // a name with a dot is one attribute
		{"#a.#b = :v", []string{"#a", "m", "#b", "q"}, item{":v": N("1")}, true},
	}
	for _, tc := range named {
		if got := ck.holds(tc.expr, tc.vals, tc.names...); got != tc.want {
			t.Errorf("%q with %v and %s = %v, want %v", tc.expr, tc.names, show(tc.vals), got, tc.want)
		}
	}
}

func caseConditionErrors(t *testing.T, c api) {
	table := pkTable(t, c)
	k := item{"pk": S("a")}
	put(t, c, table, conditionItem())
	cases := []struct {
		expr  string
		vals  item
		parts []string
	}{
		{"n = :v", item{":v": N("5"), ":w": N("4")}, []string{"ExpressionAttributeValues unused", ":w"}},
		{"n = :x", item{":v": N("5")}, []string{"not defined", ":x"}},
		{"t < :v", item{":v": BOOL(true)}, []string{"Incorrect operand type", "<", "BOOL"}},
		{"n > :v", item{":v": M(item{})}, []string{"Incorrect operand type", ">"}},
		{"n BETWEEN :a AND :b", item{":a": N("6"), ":b": N("1")}, []string{"BETWEEN", "upper bound"}},
		{"n BETWEEN :a AND :b", item{":a": S("1"), ":b": N("9")}, []string{"BETWEEN", "same data type"}},
		{"n BETWEEN :a AND :b", item{":a": BOOL(false), ":b": BOOL(true)}, []string{"Incorrect operand type", "BETWEEN"}},
		{"n in (:a, n)", item{":a": N("1")}, []string{"distinct", "IN"}},
		{"n = n", nil, []string{"distinct"}},
		{"begins_with(s, s)", nil, []string{"distinct"}},
		{"begins_with(s, :p)", item{":p": N("1")}, []string{"Incorrect operand type", "begins_with"}},
		{"begins_with(s, size(s))", nil, []string{"Incorrect operand type", "begins_with"}},
		{"attribute_type(n, :t)", item{":t": S("X")}, []string{"Invalid attribute type name", "X"}},
		{"attribute_type(n, :t)", item{":t": N("1")}, []string{"Incorrect operand type", "attribute_type"}},
		{"attribute_exists(:v)", item{":v": N("5")}, []string{"requires a document path", "attribute_exists"}},
		{"ATTRIBUTE_EXISTS(n)", nil, []string{"Invalid function name", "ATTRIBUTE_EXISTS"}},
		{"foo(s)", nil, []string{"Invalid function name", "foo"}},
		{"begins_with(s)", nil, []string{"Incorrect number of operands", "begins_with"}},
		{"attribute_exists(n) = :v", item{":v": N("3")}, []string{"not allowed to be used this way", "attribute_exists"}},
		{"size(n)", nil, []string{"not allowed to be used this way", "size"}},
		{"size(:v) = :v", item{":v": N("0")}, []string{"Incorrect operand type", "size"}},
		{"((n = :v))", item{":v": N("5")}, []string{"redundant parentheses"}},
		{"n = :v AND", item{":v": N("5")}, []string{"Syntax error", "<EOF>"}},
		{"n", nil, []string{"Syntax error"}},
		{"n == :v", item{":v": N("5")}, []string{"Syntax error"}},
		{"n != :v", item{":v": N("5")}, []string{"Syntax error", "!"}},
		{"n = :v)", item{":v": N("5")}, []string{"Syntax error", ")"}},
		{"n IN ()", nil, []string{"Syntax error"}},
		{"n IN :v", item{":v": N("5")}, []string{"Syntax error"}},
		{"n = :v + :v", item{":v": N("5")}, []string{"Syntax error", "+"}},
		{"_x = :v", item{":v": N("5")}, []string{"Syntax error"}},
		{"9x = :v", item{":v": N("5")}, []string{"Syntax error"}},
		{"l[-1] = :v", item{":v": N("5")}, []string{"Syntax error"}},
		{"l[00] = :v", item{":v": N("5")}, []string{"Syntax error"}},
		{"set = :v", item{":v": N("5")}, []string{"Syntax error"}},
		{"", nil, []string{"can not be empty"}},
		{"n = :v", item{":v": SS()}, []string{"ExpressionAttributeValues contains invalid value", ":v"}},
		{"n = :v", item{":v": N("abc")}, []string{"ExpressionAttributeValues contains invalid value", ":v"}},
		{"n = :v-1", item{":v-1": N("5")}, []string{"ExpressionAttributeValues contains invalid key"}},
	}
	for _, tc := range cases {
		_, err := newUpdate(table, k, "REMOVE scratch").cond(tc.expr).values(tc.vals).send(c)
		if err == nil {
			t.Errorf("%q succeeded", tc.expr)
			continue
		}
		wantValidation(t, err, "UpdateItem", tc.parts...)
	}
}

func caseReservedWords(t *testing.T, c api) {
	table := pkTable(t, c)
	k := item{"pk": S("a")}
	for _, w := range []string{"status", "STATUS", "missing", "data", "name", "value", "count", "owner", "token", "ttl", "key", "new"} {
		_, err := newUpdate(table, k, "REMOVE scratch").cond("attribute_exists(" + w + ")").send(c)
		wantValidation(t, err, "UpdateItem", "reserved keyword", w)
	}
	// Not reserved: the library's plain attribute names and the function
	// names.
	for _, w := range []string{"version", "lease_ms", "released", "expires_at", "size", "contains", "begins_with", "if_not_exists"} {
		_, err := newUpdate(table, k, "REMOVE scratch").cond("attribute_not_exists(" + w + ")").send(c)
		mustOK(t, err)
	}
}
