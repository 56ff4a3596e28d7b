package dynamutextest

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// maxBatchGetKeys is how many keys DynamoDB's BatchGetItem reads at most.
const maxBatchGetKeys = 100

// BatchGetItem reads the items named in RequestItems, as GetItem does
// for each (every read is strongly consistent, whatever ConsistentRead
// says, and ProjectionExpression works the same), and lists the items
// found under their table in Responses, in no promised order. Keys that
// name no item are left out. It refuses more than 100 keys, and a key
// listed twice, as DynamoDB does. UnprocessedKeys is empty unless
// LeaveUnprocessed asked for some.
func (s *Store) BatchGetItem(ctx context.Context, in *dynamodb.BatchGetItemInput, _ ...func(*dynamodb.Options)) (*dynamodb.BatchGetItemOutput, error) {
	return serve(ctx, s, in, func(in *dynamodb.BatchGetItemInput) (*dynamodb.BatchGetItemOutput, error) {
		if len(in.RequestItems) == 0 {
			return nil, validation("1 validation error detected: Value at 'requestItems' failed to satisfy constraint: Member must have length greater than or equal to 1")
		}
		n := 0
		for _, ka := range in.RequestItems {
			n += len(ka.Keys)
		}
		if n > maxBatchGetKeys {
			return nil, validation("Too many items requested for the BatchGetItem call")
		}
		out := &dynamodb.BatchGetItemOutput{Responses: map[string][]map[string]types.AttributeValue{}}
		for name, ka := range in.RequestItems {
			if err := s.batchTable(name, ka, out); err != nil {
				return nil, err
			}
		}
		return out, nil
	})
}

// batchTable reads the keys of one table of a BatchGetItem into out.
// Called with s.mu held.
func (s *Store) batchTable(name string, ka types.KeysAndAttributes, out *dynamodb.BatchGetItemOutput) error {
	if len(ka.Keys) == 0 {
		return validation("1 validation error detected: Value at 'requestItems.%s.member.keys' failed to satisfy constraint: Member must have length greater than or equal to 1", name)
	}
	t, err := s.lookup(&name)
	if err != nil {
		return err
	}
	proj, err := parseProjectionParam(ka.ProjectionExpression, ka.ExpressionAttributeNames)
	if err != nil {
		return err
	}
	seen := map[string]bool{}
	for _, key := range ka.Keys {
		enc, _, err := t.keyFromParam(key)
		if err != nil {
			return err
		}
		if seen[enc] {
			return validation("Provided list of item keys contains duplicates")
		}
		seen[enc] = true
		if s.unprocessed > 0 {
			s.unprocessed--
			left := out.UnprocessedKeys
			if left == nil {
				left = map[string]types.KeysAndAttributes{}
				out.UnprocessedKeys = left
			}
			u := left[name]
			u.Keys = append(u.Keys, cloneItem(key))
			u.ConsistentRead, u.ProjectionExpression, u.ExpressionAttributeNames = ka.ConsistentRead, ka.ProjectionExpression, ka.ExpressionAttributeNames
			left[name] = u
			continue
		}
		it := t.get(enc)
		if it == nil {
			continue
		}
		out.Responses[name] = append(out.Responses[name], shaped(it, proj))
	}
	return nil
}

// LeaveUnprocessed makes the next BatchGetItems leave their first n keys
// in all unprocessed, as DynamoDB does when a batch exceeds its limits for
// the moment: a test of a caller's retry.
func (s *Store) LeaveUnprocessed(n int) {
	s.mu.Lock()
	s.unprocessed = n
	s.mu.Unlock()
}
