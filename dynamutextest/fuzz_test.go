package dynamutextest

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// FuzzExpression feeds arbitrary text to every expression parser and runs
// whatever parses against a sample item. Malformed input must come back as
// an error, never a panic or a hang. Seeds are in testdata/fuzz.
func FuzzExpression(f *testing.F) {
	for _, seed := range []string{
		"attribute_not_exists(#pk) OR #r = :true OR #v = :old",
		"SET #o = :o, #t = if_not_exists(#t, :n) + :n REMOVE #d",
		"a.b[1].c, #a, l[0]",
		"NOT (size(l) BETWEEN :n AND :n2) AND contains(ss, :s) OR n IN (:n, :n2)",
		"SET l = list_append(if_not_exists(l, :l), :l) ADD ns :ns DELETE ss :ss",
		"((a = :n))", "l[99999999999999999999] = :n", "#", ":", "a[", "(((((", "NOT NOT NOT",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, src string) {
		sample := item{
			"n": &types.AttributeValueMemberN{Value: "5"}, "s": &types.AttributeValueMemberS{Value: "héllo"},
			"l":  &types.AttributeValueMemberL{Value: []types.AttributeValue{&types.AttributeValueMemberN{Value: "1"}}},
			"m":  &types.AttributeValueMemberM{Value: item{"b": &types.AttributeValueMemberL{}}},
			"ss": &types.AttributeValueMemberSS{Value: []string{"a"}}, "ns": &types.AttributeValueMemberNS{Value: []string{"1"}},
		}
		params := func() *exprParams {
			p, err := newExprParams(map[string]string{"#a": "a", "#pk": "key", "#r": "r", "#v": "v", "#o": "o", "#t": "t", "#d": "d"},
				item{
					":n": &types.AttributeValueMemberN{Value: "1"}, ":n2": &types.AttributeValueMemberN{Value: "9"},
					":s": &types.AttributeValueMemberS{Value: "a"}, ":true": &types.AttributeValueMemberBOOL{Value: true},
					":old": &types.AttributeValueMemberS{Value: "v"}, ":o": &types.AttributeValueMemberS{Value: "o"},
					":l": &types.AttributeValueMemberL{}, ":ns": &types.AttributeValueMemberNS{Value: []string{"2"}},
					":ss": &types.AttributeValueMemberSS{Value: []string{"a"}},
				}, true)
			if err != nil {
				t.Fatal(err)
			}
			return p
		}
		if c, err := parseCondition(src, params()); err == nil {
			evalCond(c, sample)
			evalCond(c, nil)
		}
		if u, err := parseUpdate(src, params()); err == nil {
			_, _ = applyUpdate(u, sample, item{"key": &types.AttributeValueMemberS{Value: "k"}})
			_, _ = applyUpdate(u, nil, item{"key": &types.AttributeValueMemberS{Value: "k"}})
		}
		if p, err := parseProjection(src, params()); err == nil {
			project(sample, p)
		}
	})
}

// FuzzNumber checks that any string either parses as a DynamoDB number
// whose canonical form parses back to itself, or is refused.
func FuzzNumber(f *testing.F) {
	for _, seed := range []string{"1.50", "-0", "1e-130", "9.9999999999999999999999999999999999999E+125", "1e999999999999", ".", "+.5e-3"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := parseDecimal(s)
		if err != nil {
			return
		}
		c := d.String()
		again, err := parseDecimal(c)
		if err != nil || again.String() != c {
			t.Fatalf("%q canonicalizes to %q, which gives %q, %v", s, c, again.String(), err)
		}
	})
}
