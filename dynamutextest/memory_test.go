package dynamutextest_test

import (
	"errors"
	"fmt"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go"

	"github.com/dynamutex/dynamutex/dynamutextest"
)

// These tests cover what only the in-memory Store has (ExpireTTL, the
// clock) or what DynamoDB Local does differently from DynamoDB.

func TestExpireTTL(t *testing.T) {
	now := time.Unix(1000, 0)
	var mu sync.Mutex
	s := dynamutextest.New(dynamutextest.WithClock(func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		return now
	}))
	table := pkTable(t, s)
	untouched := pkTable(t, s) // TTL never enabled
	for _, it := range []item{
		{"pk": S("past"), "exp": N("999")},
		{"pk": S("now"), "exp": N("1000")},
		{"pk": S("fraction"), "exp": N("1000.5")},
		{"pk": S("future"), "exp": N("1001")},
		{"pk": S("none")},
		{"pk": S("string"), "exp": S("5")},
		{"pk": S("other"), "other": N("1")},
	} {
		put(t, s, table, it)
		put(t, s, untouched, it)
	}
	if n := s.ExpireTTL(); n != 0 {
		t.Errorf("ExpireTTL before TTL was enabled deleted %d items", n)
	}
	_, err := s.UpdateTimeToLive(ctx, &dynamodb.UpdateTimeToLiveInput{TableName: aws.String(table),
		TimeToLiveSpecification: &types.TimeToLiveSpecification{AttributeName: aws.String("exp"), Enabled: aws.Bool(true)}})
	mustOK(t, err)
	// Nothing disappears on its own, however late it is.
	wantItem(t, "expired item before ExpireTTL", get(t, s, table, item{"pk": S("past")}), item{"pk": S("past"), "exp": N("999")})

	if n := s.ExpireTTL(); n != 2 {
		t.Errorf("ExpireTTL deleted %d items, want 2 (past, now)", n)
	}
	for _, k := range []string{"past", "now"} {
		wantItem(t, k, get(t, s, table, item{"pk": S(k)}), nil)
	}
	for _, k := range []string{"fraction", "future", "none", "string", "other"} {
		if get(t, s, table, item{"pk": S(k)}) == nil {
			t.Errorf("item %s was deleted", k)
		}
	}
	mu.Lock()
	now = now.Add(2 * time.Second)
	mu.Unlock()
	if n := s.ExpireTTL(); n != 2 {
		t.Errorf("ExpireTTL 2 s later deleted %d items, want 2 (fraction, future)", n)
	}
	out, err := s.Scan(ctx, &dynamodb.ScanInput{TableName: aws.String(untouched), Select: types.SelectCount})
	mustOK(t, err)
	if out.Count != 7 {
		t.Errorf("table without TTL has %d items, want 7", out.Count)
	}
}

// Many goroutines increment one counter with compare-and-swap writes; the
// Store must serialize them so that no increment is lost. Run with -race.
func TestConcurrentConditionalIncrements(t *testing.T) {
	s := dynamutextest.New()
	table := pkTable(t, s)
	put(t, s, table, item{"pk": S("c"), "n": N("0")})
	const workers, each = 16, 50
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for range each {
				for {
					// No t.Fatal off the test goroutine: report and stop.
					out, err := s.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(table), Key: item{"pk": S("c")}})
					if err != nil {
						t.Error(err)
						return
					}
					cur := out.Item["n"].(*types.AttributeValueMemberN).Value
					n, _ := strconv.Atoi(cur)
					_, err = newUpdate(table, item{"pk": S("c")}, "SET n = :new").cond("n = :old").
						values(item{":old": N(cur), ":new": N(strconv.Itoa(n + 1))}).send(s)
					var ccf *types.ConditionalCheckFailedException
					if errors.As(err, &ccf) {
						continue // another worker got there first: read again
					}
					if err != nil {
						t.Error(err)
						return
					}
					break
				}
			}
		})
	}
	wg.Wait()
	wantItem(t, "counter", get(t, s, table, item{"pk": S("c")}), item{"pk": S("c"), "n": N(strconv.Itoa(workers * each))})
}

// The Store copies values in and out: a caller changing its maps or slices
// after a request, or changing what a read returned, changes nothing stored.
func TestDeepCopies(t *testing.T) {
	s := dynamutextest.New()
	table := pkTable(t, s)
	in := item{"pk": S("a"), "b": B("bytes"), "l": L(S("x")), "m": M(item{"k": S("v")}), "ss": SS("s")}
	put(t, s, table, in)
	in["b"].(*types.AttributeValueMemberB).Value[0] = 'X'
	in["l"].(*types.AttributeValueMemberL).Value[0] = S("changed")
	in["m"].(*types.AttributeValueMemberM).Value["k"] = S("changed")
	in["ss"].(*types.AttributeValueMemberSS).Value[0] = "changed"
	in["new"] = S("added")

	out := get(t, s, table, item{"pk": S("a")})
	want := item{"pk": S("a"), "b": B("bytes"), "l": L(S("x")), "m": M(item{"k": S("v")}), "ss": SS("s")}
	wantItem(t, "stored item after changing the input", out, want)
	out["b"].(*types.AttributeValueMemberB).Value[0] = 'Y'
	out["m"].(*types.AttributeValueMemberM).Value["k"] = S("changed")
	delete(out, "l")
	wantItem(t, "stored item after changing a read", get(t, s, table, item{"pk": S("a")}), want)

	vals := item{":l": L(S("y"))}
	_, err := newUpdate(table, item{"pk": S("a")}, "SET l2 = :l").values(vals).send(s)
	mustOK(t, err)
	vals[":l"].(*types.AttributeValueMemberL).Value[0] = S("changed")
	wantItem(t, "l2", item{"l2": get(t, s, table, item{"pk": S("a")})["l2"]}, item{"l2": L(S("y"))})
}

// DynamoDB Local stores a number set with SET :v as written, and keeps the
// scale of computed decimals ("0.0"); DynamoDB, and this Store, return the
// canonical form everywhere.
func TestNumbersCanonicalEverywhere(t *testing.T) {
	s := dynamutextest.New()
	table := pkTable(t, s)
	got, err := newUpdate(table, item{"pk": S("a")}, "SET a = :a, b = :b, c = :c, l = :l, d = :x - :x, e = :y + :z").
		values(item{":a": N("1.50"), ":b": N("-0"), ":c": N("1e30"), ":l": L(N("007"), M(item{"n": N("2.0")})),
			":x": N("0.3"), ":y": N("1.250"), ":z": N("1.250")}).returning(types.ReturnValueAllNew).send(s)
	mustOK(t, err)
	wantItem(t, "ALL_NEW", got, item{"pk": S("a"), "a": N("1.5"), "b": N("0"), "c": N("1000000000000000000000000000000"),
		"l": L(N("7"), M(item{"n": N("2")})), "d": N("0"), "e": N("2.5")})
}

// Requests without a required parameter fail the way the SDK fails them,
// before they would be sent: with a smithy.InvalidParamsError, not an API
// error.
func TestRequiredParameters(t *testing.T) {
	s := dynamutextest.New()
	_, err := s.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String("tbl")})
	var inv smithy.InvalidParamsError
	if !errors.As(err, &inv) {
		t.Errorf("GetItem without Key: %v, want a smithy.InvalidParamsError", err)
	}
	_, err = s.UpdateItem(ctx, nil)
	if !errors.As(err, &inv) {
		t.Errorf("UpdateItem(nil): %v, want a smithy.InvalidParamsError", err)
	}
	_, err = s.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{
		{ConditionCheck: &types.ConditionCheck{TableName: aws.String("tbl"), Key: item{"pk": S("a")}}}}})
	if !errors.As(err, &inv) {
		t.Errorf("ConditionCheck without ConditionExpression: %v, want a smithy.InvalidParamsError", err)
	}
}

// Features the Store does not emulate fail loudly, naming themselves.
func TestUnsupportedFeatures(t *testing.T) {
	s := dynamutextest.New()
	table := pkTable(t, s)
	_, err := s.Scan(ctx, &dynamodb.ScanInput{TableName: aws.String(table), IndexName: aws.String("gsi")})
	wantValidation(t, err, "Scan", "dynamutextest does not support", "IndexName")
	_, err = s.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: aws.String(table), Key: item{"pk": S("a")},
		AttributeUpdates: map[string]types.AttributeValueUpdate{"x": {Value: S("1")}}})
	wantValidation(t, err, "UpdateItem", "dynamutextest does not support", "AttributeUpdates")
	_, err = s.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(table), Key: item{"pk": S("a")}, AttributesToGet: []string{"x"}})
	wantValidation(t, err, "GetItem", "dynamutextest does not support", "AttributesToGet")
	_, err = s.CreateTable(ctx, &dynamodb.CreateTableInput{TableName: aws.String("with_gsi"), BillingMode: types.BillingModePayPerRequest,
		AttributeDefinitions:   []types.AttributeDefinition{{AttributeName: aws.String("pk"), AttributeType: types.ScalarAttributeTypeS}},
		KeySchema:              []types.KeySchemaElement{{AttributeName: aws.String("pk"), KeyType: types.KeyTypeHash}},
		GlobalSecondaryIndexes: []types.GlobalSecondaryIndex{{IndexName: aws.String("g")}}})
	wantValidation(t, err, "CreateTable", "dynamutextest does not support", "global secondary indexes")
}

// A large table pages in 1 MB pages without a Limit, like DynamoDB.
func TestScanPagesByMegabyte(t *testing.T) {
	s := dynamutextest.New()
	table := pkTable(t, s)
	for i := range 30 {
		put(t, s, table, item{"pk": S(fmt.Sprintf("k%02d", i)), "pad": B(string(make([]byte, 100_000)))})
	}
	seen := scanAll(t, s, &dynamodb.ScanInput{TableName: aws.String(table)})
	if len(seen) != 30 {
		t.Errorf("read %d items, want 30", len(seen))
	}
	out, err := s.Scan(ctx, &dynamodb.ScanInput{TableName: aws.String(table)})
	mustOK(t, err)
	if out.Count >= 30 || out.LastEvaluatedKey == nil {
		t.Errorf("first page: %d items, LastEvaluatedKey %v; want a page under 1 MB", out.Count, out.LastEvaluatedKey)
	}
}
