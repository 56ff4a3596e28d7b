package dynamutextest_test

import (
	"errors"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/dynamutex/dynamutex"
)

// Guarded writes, Inspect and List through the library, on both backends.

func TestConformanceGuardAndInspect(t *testing.T) {
	runConformance(t, []conformanceCase{
		{"GuardedWrite", caseLibraryGuardedWrite},
		{"InspectAndList", caseLibraryInspectList},
	})
}

func putDoc(table, body string) types.TransactWriteItem {
	return types.TransactWriteItem{Put: &types.Put{
		TableName: aws.String(table),
		Item:      item{"key": S("doc"), "body": S(body)},
	}}
}

func caseLibraryGuardedWrite(t *testing.T, c api) {
	table := tableName(t, c)
	data := tableName(t, c)
	s := librarySession(t, c, table, dynamutex.WithOwner("holder"))
	mustOK(t, dynamutex.CreateTable(ctx, c, data))
	m := s.NewMutex("job")
	lctx, err := m.Lock(ctx)
	mustOK(t, err)
	l := leaseOf(t, lctx)

	mustOK(t, l.GuardedWrite(ctx, putDoc(data, "v1")))
	wantItem(t, "guarded write", get(t, c, data, item{"key": S("doc")}), item{"key": S("doc"), "body": S("v1")})

	create := putDoc(data, "v2")
	create.Put.ConditionExpression = aws.String("attribute_not_exists(#k)")
	create.Put.ExpressionAttributeNames = map[string]string{"#k": "key"}
	create.Put.ReturnValuesOnConditionCheckFailure = types.ReturnValuesOnConditionCheckFailureAllOld
	err = l.GuardedWrite(ctx, create)
	var ce *dynamutex.ConditionError
	if !errors.As(err, &ce) || errors.Is(err, dynamutex.ErrLockLost) || ce.Index != 0 {
		t.Fatalf("GuardedWrite with a failing condition = %v, want a *ConditionError for item 0", err)
	}
	wantItem(t, "the item the condition found", ce.Item, item{"key": S("doc"), "body": S("v1")})

	mustOK(t, m.Unlock(ctx))
	err = l.GuardedWrite(ctx, putDoc(data, "v3"))
	var le *dynamutex.LostError
	if !errors.As(err, &le) || le.Reason != "record released" || le.Owner != "holder" {
		t.Fatalf("GuardedWrite after Unlock = %v, want a *LostError for the released record", err)
	}
	wantItem(t, "after the refused write", get(t, c, data, item{"key": S("doc")}), item{"key": S("doc"), "body": S("v1")})
}

func caseLibraryInspectList(t *testing.T, c api) {
	table := tableName(t, c)
	s := librarySession(t, c, table, dynamutex.WithOwner("lister"))
	held := s.NewMutex("held", dynamutex.WithData([]byte("x")))
	lctx, err := held.Lock(ctx)
	mustOK(t, err)
	free := s.NewMutex("free")
	_, err = free.Lock(ctx)
	mustOK(t, err)
	mustOK(t, free.Unlock(ctx))
	put(t, c, table, item{"key": S("alien"), "colour": S("green")})

	info, err := s.Inspect(ctx, "held")
	mustOK(t, err)
	if info.Owner != "lister" || info.Token != leaseOf(t, lctx).Token() || string(info.Data) != "x" ||
		info.Lease != testLease || info.Released {
		t.Errorf("Inspect = %+v", info)
	}
	if _, err := s.Inspect(ctx, "never"); !errors.Is(err, dynamutex.ErrNoRecord) {
		t.Errorf("Inspect of a missing key = %v, want ErrNoRecord", err)
	}
	if _, err := s.Inspect(ctx, "alien"); !errors.Is(err, dynamutex.ErrCorruptRecord) {
		t.Errorf("Inspect of a foreign item = %v, want ErrCorruptRecord", err)
	}

	seen := map[string]string{}
	for info, err := range s.List(ctx) {
		mustOK(t, err)
		switch {
		case info.Err != nil:
			seen[info.Key] = "corrupt"
		case info.Released:
			seen[info.Key] = "released"
		default:
			seen[info.Key] = "held"
		}
	}
	want := map[string]string{"held": "held", "free": "released", "alien": "corrupt"}
	if len(seen) != len(want) {
		t.Errorf("List gave %v, want %v", seen, want)
	}
	for k, v := range want {
		if seen[k] != v {
			t.Errorf("List: %s is %q, want %q", k, seen[k], v)
		}
	}
	mustOK(t, held.Unlock(ctx))
}
