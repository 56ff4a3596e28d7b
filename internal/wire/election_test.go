package wire

import (
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
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
