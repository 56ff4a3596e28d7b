package dynamutextest

import (
	"context"
	"maps"
	"math/big"
	"slices"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// UpdateTimeToLive enables or disables TTL on a table. As in DynamoDB,
// enabling it twice, disabling it when disabled, or naming another attribute
// while it is enabled is a ValidationException. The Store never deletes
// expired items by itself: see ExpireTTL.
func (s *Store) UpdateTimeToLive(ctx context.Context, in *dynamodb.UpdateTimeToLiveInput, _ ...func(*dynamodb.Options)) (*dynamodb.UpdateTimeToLiveOutput, error) {
	return serve(ctx, s, in, func(in *dynamodb.UpdateTimeToLiveInput) (*dynamodb.UpdateTimeToLiveOutput, error) {
		spec := in.TimeToLiveSpecification
		need := []param{{"TableName", in.TableName != nil}, {"TimeToLiveSpecification", spec != nil}}
		if spec != nil {
			need = append(need, param{"TimeToLiveSpecification.Enabled", spec.Enabled != nil},
				param{"TimeToLiveSpecification.AttributeName", spec.AttributeName != nil})
		}
		if err := checkParams("UpdateTimeToLiveInput", need, nil); err != nil {
			return nil, err
		}
		t, err := s.lookup(in.TableName)
		if err != nil {
			return nil, err
		}
		name, enable := *in.TimeToLiveSpecification.AttributeName, *in.TimeToLiveSpecification.Enabled
		switch {
		case name == "":
			return nil, validation("TimeToLiveSpecification.AttributeName must not be empty")
		case t.ttlEnabled && name != t.ttlAttr:
			return nil, validation("TimeToLive is active on a different AttributeName")
		case t.ttlEnabled && enable:
			return nil, validation("TimeToLive is already enabled")
		case !t.ttlEnabled && !enable:
			return nil, validation("TimeToLive is already disabled")
		}
		t.ttlEnabled = enable
		t.ttlAttr = name
		if !enable {
			t.ttlAttr = ""
		}
		return &dynamodb.UpdateTimeToLiveOutput{TimeToLiveSpecification: &types.TimeToLiveSpecification{
			AttributeName: aws.String(name), Enabled: aws.Bool(enable)}}, nil
	})
}

// DescribeTimeToLive reports TTL as DISABLED (with no attribute name) until
// UpdateTimeToLive enables it, then ENABLED with the attribute name. The
// transitional ENABLING and DISABLING states of DynamoDB are skipped.
func (s *Store) DescribeTimeToLive(ctx context.Context, in *dynamodb.DescribeTimeToLiveInput, _ ...func(*dynamodb.Options)) (*dynamodb.DescribeTimeToLiveOutput, error) {
	return serve(ctx, s, in, func(in *dynamodb.DescribeTimeToLiveInput) (*dynamodb.DescribeTimeToLiveOutput, error) {
		t, err := s.namedTable("DescribeTimeToLiveInput", in.TableName)
		if err != nil {
			return nil, err
		}
		d := &types.TimeToLiveDescription{TimeToLiveStatus: types.TimeToLiveStatusDisabled}
		if t.ttlEnabled {
			d.TimeToLiveStatus = types.TimeToLiveStatusEnabled
			d.AttributeName = aws.String(t.ttlAttr)
		}
		return &dynamodb.DescribeTimeToLiveOutput{TimeToLiveDescription: d}, nil
	})
}

// ExpireTTL deletes, in every table with TTL enabled, each item whose TTL
// attribute is a number of epoch seconds at or before the Store's clock (see
// WithClock), and returns how many it deleted. Items whose TTL attribute is
// missing or not a number are kept, as in DynamoDB.
//
// DynamoDB deletes expired items lazily, typically within a few days, and
// reads return them until then. This Store never deletes on its own: a test
// decides when TTL runs by calling ExpireTTL, so it can check both what
// happens before the deletion and after it.
func (s *Store) ExpireTTL() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := decimal{coef: big.NewInt(s.clock().Unix())}
	n := 0
	for _, name := range slices.Sorted(maps.Keys(s.tables)) {
		t := s.tables[name]
		if !t.ttlEnabled {
			continue
		}
		for _, enc := range slices.Clone(t.order) {
			v, ok := t.items[enc][t.ttlAttr].(*types.AttributeValueMemberN)
			if ok && mustDecimal(v.Value).cmp(now) <= 0 {
				t.remove(enc)
				n++
			}
		}
	}
	return n
}
