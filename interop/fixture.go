package interop

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// Masked stands in for a value that changes from run to run (a record
// version number, an owner name with a process id, a TTL timestamp) in a
// fixture. The attribute's name and DynamoDB type are kept.
const Masked = "<masked>"

// ItemJSON renders an item in DynamoDB's own JSON form ({"name":{"S":"v"}}),
// replacing the values of the attributes named in mask with Masked. Keys come
// out sorted, so the text is stable for a fixture.
func ItemJSON(item map[string]types.AttributeValue, mask ...string) ([]byte, error) {
	masked := map[string]bool{}
	for _, m := range mask {
		masked[m] = true
	}
	out := make(map[string]map[string]string, len(item))
	for name, av := range item {
		typ, val, err := scalar(av)
		if err != nil {
			return nil, fmt.Errorf("attribute %s: %w", name, err)
		}
		if masked[name] {
			val = Masked
		}
		out[name] = map[string]string{typ: val}
	}
	// Without HTML escaping, Masked reads as itself in the fixture files.
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	err := enc.Encode(out)
	return buf.Bytes(), err
}

// scalar gives a scalar attribute's DynamoDB type and its value as text; the
// lock clients write no other kind.
func scalar(av types.AttributeValue) (typ, val string, err error) {
	switch v := av.(type) {
	case *types.AttributeValueMemberS:
		return "S", v.Value, nil
	case *types.AttributeValueMemberN:
		return "N", v.Value, nil
	case *types.AttributeValueMemberB:
		return "B", base64.StdEncoding.EncodeToString(v.Value), nil
	case *types.AttributeValueMemberBOOL:
		return "BOOL", fmt.Sprint(v.Value), nil
	default:
		return "", "", fmt.Errorf("unexpected attribute type %T", av)
	}
}
