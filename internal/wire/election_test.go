package wire

import (
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// A Proclaim is a renewal that also sets the data and is conditioned on
// the token: it classifies as one, keeps Replace's REMOVE clause after its
// SET, and never touches the token.
func TestProclaimIsARenewalWithData(t *testing.T) {
	it := Item{Table: "locks", PartitionKey: "key", Key: ElectionKeyPrefix + "jobs"}
	in := Proclaim(ProclaimArgs{ReplaceArgs: ReplaceArgs{Item: it, Current: []string{"v1"}, Next: "v2",
		Expires: time.Unix(100, 0), Stamp: Stamp{Sent: 1}}, Token: 7, Data: []byte("x")})
	if op := Classify(in); op != OpRenew {
		t.Errorf("Proclaim classifies as %q, want %q", op, OpRenew)
	}
	expr, cond := aws.ToString(in.UpdateExpression), aws.ToString(in.ConditionExpression)
	set, remove, ok := strings.Cut(expr, " REMOVE ")
	if !ok || !strings.Contains(set, "#d = :d") || remove != "#dl" || strings.Contains(expr, tokenClause) {
		t.Errorf("update %q: want the data set before REMOVE, and no token change", expr)
	}
	if cond != "(#v = :cur) AND #t = :t" || in.ExpressionAttributeNames["#t"] != AttrToken {
		t.Errorf("condition %q, names %v: want the version and the token", cond, in.ExpressionAttributeNames)
	}
}

// A Proclaim of a record held under a session lease moves its lock
// version, not its version, sets the data and no TTL, and is conditioned
// on the lock version, the Session and the token: it classifies as a
// renewal, as the per-lock Proclaim does.
func TestLeasedProclaimMovesTheLockVersion(t *testing.T) {
	it := Item{Table: "locks", PartitionKey: "key", Key: ElectionKeyPrefix + "jobs"}
	in := LeasedProclaim(LeasedProclaimArgs{Item: it, Session: sessKey, Current: []string{"v1", "v1b"}, Next: "v2",
		SentMS: 1, Token: 7, Data: []byte("x")})
	if op := Classify(in); op != OpRenew {
		t.Errorf("LeasedProclaim classifies as %q, want %q", op, OpRenew)
	}
	expr, cond := aws.ToString(in.UpdateExpression), aws.ToString(in.ConditionExpression)
	set, remove, _ := strings.Cut(expr, " REMOVE ")
	for _, want := range []string{leasedNextClause, "#d = :d", "#s = " + ValSent} {
		if !strings.Contains(set, want) {
			t.Errorf("update %q lacks %q", expr, want)
		}
	}
	if strings.Contains(set, "#e = ") || strings.Contains(set, nextClause+",") || strings.Contains(expr, tokenClause) ||
		strings.Contains(set, "#ss = ") || !strings.Contains(remove, "#v") || !strings.Contains(remove, "#e") {
		t.Errorf("update %q: want no TTL, version, Session or token set, and version and TTL removed", expr)
	}
	if want := "attribute_not_exists(#v) AND (#lv = :cur OR #lv = :curx) AND #ss = :ss AND #t = :t"; cond != want {
		t.Errorf("condition %q, want %q", cond, want)
	}
	names, values := in.ExpressionAttributeNames, in.ExpressionAttributeValues
	if names["#lv"] != AttrLockVersion || names["#ss"] != AttrSession || names["#t"] != AttrToken || names["#d"] != AttrData {
		t.Errorf("names %v", names)
	}
	for p, want := range map[string]string{ValNext: "v2", ValCurrent: "v1", ValCurrent + "x": "v1b", ":ss": sessKey} {
		if got, ok := values[p].(*types.AttributeValueMemberS); !ok || got.Value != want {
			t.Errorf("value %s = %v, want %q", p, values[p], want)
		}
	}
	if _, ok := values[":e"]; ok {
		t.Errorf("values carry an expiry: %v", values)
	}
}
