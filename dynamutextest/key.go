package dynamutextest

import (
	"strconv"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/dynamutex/dynamutex/internal/wire"
)

// DynamoDB's limits on key values, in bytes.
const (
	maxHashKeyBytes  = 2048
	maxRangeKeyBytes = 1024
)

const msgKeySchema = "The provided key element does not match the schema"

// keyFromParam reads a request's Key parameter, which must hold exactly the
// table's key attributes. It returns the encoded key and a canonical copy of
// the key attributes.
func (t *table) keyFromParam(key item) (string, item, error) {
	want := 1
	if t.rng.name != "" {
		want = 2
	}
	if len(key) != want {
		return "", nil, validation(msgKeySchema)
	}
	for k := range key {
		if k != t.hash.name && k != t.rng.name {
			return "", nil, validation(msgKeySchema)
		}
	}
	return t.keyOf(key, msgKeySchema)
}

// keyFromItem reads the key attributes of an item to be written.
func (t *table) keyFromItem(it item) (string, item, error) {
	return t.keyOf(it, "")
}

// keyOf extracts and checks the key attributes of m. missing is the message
// for an absent key attribute; "" means DynamoDB's message for PutItem.
func (t *table) keyOf(m item, missing string) (string, item, error) {
	attrs := []keyAttr{t.hash}
	if t.rng.name != "" {
		attrs = append(attrs, t.rng)
	}
	enc := ""
	key := item{}
	for i, a := range attrs {
		v, ok := m[a.name]
		if !ok {
			if missing != "" {
				return "", nil, validation("%s", missing)
			}
			return "", nil, validation("One or more parameter values were invalid: Missing the key %s in the item", a.name)
		}
		c, err := importValue(v)
		if err != nil {
			return "", nil, err
		}
		if err := checkKeyValue(a, c, i == 0); err != nil {
			return "", nil, err
		}
		sk, _ := scalarKey(c)
		// Length-prefixed, so that no two keys encode alike.
		enc += strconv.Itoa(len(sk)) + ":" + sk
		key[a.name] = c
	}
	return enc, key, nil
}

func checkKeyValue(a keyAttr, v types.AttributeValue, hash bool) error {
	if wire.TypeName(v) != string(a.typ) {
		return validation("One or more parameter values were invalid: Type mismatch for key %s expected: %s actual: %s",
			a.name, a.typ, wire.TypeName(v))
	}
	size := valueSize(v)
	switch v := v.(type) {
	case *types.AttributeValueMemberS:
		if v.Value == "" {
			return validation("One or more parameter values are not valid. The AttributeValue for a key attribute "+
				"cannot contain an empty string value. Key: %s", a.name)
		}
		size = len(v.Value)
	case *types.AttributeValueMemberB:
		if len(v.Value) == 0 {
			return validation("One or more parameter values are not valid. The AttributeValue for a key attribute "+
				"cannot contain an empty binary value. Key: %s", a.name)
		}
	}
	if hash && size > maxHashKeyBytes || !hash && size > maxRangeKeyBytes {
		return validation("Hash primary key values must be under 2048 bytes, and range primary key values must be under 1024 bytes")
	}
	return nil
}

// keyAttrs returns the key attributes of a stored item, for
// LastEvaluatedKey.
func (t *table) keyAttrs(it item) item {
	k := item{t.hash.name: cloneValue(it[t.hash.name])}
	if t.rng.name != "" {
		k[t.rng.name] = cloneValue(it[t.rng.name])
	}
	return k
}

// isKeyAttr reports whether name is one of the table's key attributes,
// which an update may not change.
func (t *table) isKeyAttr(name string) bool {
	return name == t.hash.name || name == t.rng.name && name != ""
}
