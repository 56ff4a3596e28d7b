package dynamutex

import (
	"errors"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go"
)

func TestDecodeRecord(t *testing.T) {
	good := func() map[string]types.AttributeValue {
		return map[string]types.AttributeValue{
			attrOwner: &types.AttributeValueMemberS{Value: "o"}, attrVersion: &types.AttributeValueMemberS{Value: "v"},
			attrToken: &types.AttributeValueMemberN{Value: "18446744073709551615"}, attrLease: &types.AttributeValueMemberN{Value: "1500"},
			attrReleased: &types.AttributeValueMemberBOOL{Value: true}, attrData: &types.AttributeValueMemberB{Value: []byte("d")},
		}
	}
	r, err := decodeRecord("k", good())
	if err != nil {
		t.Fatal(err)
	}
	if r.owner != "o" || r.version != "v" || r.token != 1<<64-1 || r.lease.Milliseconds() != 1500 || !r.released || string(r.data) != "d" {
		t.Fatalf("decoded %+v", r)
	}
	// The clock stamp counts under the version that wrote it, and under no other.
	stamped := good()
	stamped[attrSent] = &types.AttributeValueMemberN{Value: "1796150000000"}
	stamped[attrDeadline] = &types.AttributeValueMemberN{Value: "1796150020001"}
	stamped[attrStamped] = &types.AttributeValueMemberS{Value: "v"}
	if r, err := decodeRecord("k", stamped); err != nil || r.sent.UnixMilli() != 1796150000000 || r.deadline.UnixMilli() != 1796150020001 {
		t.Errorf("stamped record decoded as %+v, %v", r, err)
	}
	stamped[attrStamped] = &types.AttributeValueMemberS{Value: "an earlier version"}
	if r, err := decodeRecord("k", stamped); err != nil || !r.sent.IsZero() || !r.deadline.IsZero() {
		t.Errorf("record with another version's stamp decoded as %+v, %v; want no stamp", r, err)
	}
	bad := map[string]func(map[string]types.AttributeValue){
		"nil item":      func(m map[string]types.AttributeValue) { clear(m) },
		"version empty": func(m map[string]types.AttributeValue) { m[attrVersion] = &types.AttributeValueMemberS{} },
		"version list":  func(m map[string]types.AttributeValue) { m[attrVersion] = &types.AttributeValueMemberL{} },
		"token float":   func(m map[string]types.AttributeValue) { m[attrToken] = &types.AttributeValueMemberN{Value: "1.5"} },
		"token overflow": func(m map[string]types.AttributeValue) {
			m[attrToken] = &types.AttributeValueMemberN{Value: "18446744073709551616"}
		},
		"token null":    func(m map[string]types.AttributeValue) { m[attrToken] = &types.AttributeValueMemberNULL{Value: true} },
		"lease zero":    func(m map[string]types.AttributeValue) { m[attrLease] = &types.AttributeValueMemberN{Value: "0"} },
		"released S":    func(m map[string]types.AttributeValue) { m[attrReleased] = &types.AttributeValueMemberS{Value: "true"} },
		"released none": func(m map[string]types.AttributeValue) { delete(m, attrReleased) },
		"data M":        func(m map[string]types.AttributeValue) { m[attrData] = &types.AttributeValueMemberM{} },
		"owner SS":      func(m map[string]types.AttributeValue) { m[attrOwner] = &types.AttributeValueMemberSS{} },
		"sent S":        func(m map[string]types.AttributeValue) { m[attrSent] = &types.AttributeValueMemberS{Value: "1"} },
		"deadline neg":  func(m map[string]types.AttributeValue) { m[attrDeadline] = &types.AttributeValueMemberN{Value: "-1"} },
		"deadline far": func(m map[string]types.AttributeValue) {
			m[attrDeadline] = &types.AttributeValueMemberN{Value: "253402300800000"}
		},
		"stamped N": func(m map[string]types.AttributeValue) { m[attrStamped] = &types.AttributeValueMemberN{Value: "1"} },
	}
	for name, mutate := range bad {
		item := good()
		mutate(item)
		_, err := decodeRecord("k", item)
		var re *RecordError
		if !errors.Is(err, ErrCorruptRecord) || !errors.As(err, &re) || re.Key != "k" || re.Attribute == "" {
			t.Errorf("%s: got %v, want a *RecordError naming an attribute", name, err)
		}
	}
}

func TestClassify(t *testing.T) {
	cases := []struct {
		err  error
		want errorKind
	}{
		{&smithy.GenericAPIError{Code: "ThrottlingException", Fault: smithy.FaultClient}, kindRefused},
		{&types.ProvisionedThroughputExceededException{}, kindRefused},
		{&types.TransactionConflictException{}, kindRefused},
		{&smithy.GenericAPIError{Code: "ValidationException", Fault: smithy.FaultClient}, kindFatal},
		{&types.ResourceNotFoundException{}, kindFatal},
		{&types.InternalServerError{}, kindUnknown},
		{errors.New("connection reset"), kindUnknown},
	}
	for _, c := range cases {
		if got := classify(c.err); got != c.want {
			t.Errorf("classify(%v) = %d, want %d", c.err, got, c.want)
		}
	}
}
