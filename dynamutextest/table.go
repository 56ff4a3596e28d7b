package dynamutextest

import (
	"context"
	"regexp"
	"slices"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// table is one table: its schema, its TTL setting and its items.
type table struct {
	name       string
	hash, rng  keyAttr // rng.name is "" without a sort key
	billing    types.BillingMode
	throughput *types.ProvisionedThroughput
	created    time.Time
	protected  bool // DeletionProtectionEnabled

	ttlAttr    string
	ttlEnabled bool

	items map[string]item // by encoded primary key
	// order holds the encoded keys sorted, so that Scan pages follow one
	// stable order and ExclusiveStartKey can resume after a deleted item.
	order []string
}

// keyAttr is a key attribute's name and type.
type keyAttr struct {
	name string
	typ  types.ScalarAttributeType
}

var tableNameRE = regexp.MustCompile(`^[a-zA-Z0-9_.-]{3,255}$`)

func checkTableName(name string) error {
	if !tableNameRE.MatchString(name) {
		return validation("Invalid table/index name.  Table/index names must be between 3 and 255 characters long, " +
			"and may contain only the characters a-z, A-Z, 0-9, '_', '-', and '.'")
	}
	return nil
}

// CreateTable creates a table with a partition key and an optional sort
// key of type S, N or B. The table is ACTIVE at once. It returns a
// *types.ResourceInUseException if the table exists. Secondary indexes and
// streams are refused as unsupported; tags, encryption and table class are
// accepted and ignored.
func (s *Store) CreateTable(ctx context.Context, in *dynamodb.CreateTableInput, _ ...func(*dynamodb.Options)) (*dynamodb.CreateTableOutput, error) {
	return serve(ctx, s, in, func(in *dynamodb.CreateTableInput) (*dynamodb.CreateTableOutput, error) {
		if err := checkParams("CreateTableInput", []param{{"TableName", in.TableName != nil}}, nil); err != nil {
			return nil, err
		}
		t, err := newTable(in, s.clock())
		if err != nil {
			return nil, err
		}
		if s.tables[t.name] != nil {
			return nil, tableInUse(t.name)
		}
		s.tables[t.name] = t
		return &dynamodb.CreateTableOutput{TableDescription: t.describe(types.TableStatusActive)}, nil
	})
}

// newTable checks a CreateTable request the way DynamoDB does.
func newTable(in *dynamodb.CreateTableInput, now time.Time) (*table, error) {
	if err := checkTableName(*in.TableName); err != nil {
		return nil, err
	}
	switch {
	case len(in.GlobalSecondaryIndexes) > 0:
		return nil, unsupported("global secondary indexes")
	case len(in.LocalSecondaryIndexes) > 0:
		return nil, unsupported("local secondary indexes")
	case in.StreamSpecification != nil && aws.ToBool(in.StreamSpecification.StreamEnabled):
		return nil, unsupported("DynamoDB Streams")
	}
	t := &table{name: *in.TableName, created: now, items: map[string]item{},
		protected: aws.ToBool(in.DeletionProtectionEnabled)}
	if err := t.setKeySchema(in.KeySchema, in.AttributeDefinitions); err != nil {
		return nil, err
	}
	if err := t.setBilling(in.BillingMode, in.ProvisionedThroughput); err != nil {
		return nil, err
	}
	return t, nil
}

func (t *table) setKeySchema(schema []types.KeySchemaElement, defs []types.AttributeDefinition) error {
	switch {
	case len(schema) == 0:
		return validation("No defined key schema.  A key schema containing at least a hash key must be defined for all tables")
	case len(schema) > 2:
		return validation("Too many key schema elements. A key schema can have at most a hash key and a range key")
	case schema[0].KeyType != types.KeyTypeHash:
		return validation("Invalid key order. Hash Key must be specified first in key schema, Range Key must be specifed second")
	case len(schema) == 2 && schema[1].KeyType == types.KeyTypeHash:
		return validation("Too many hash keys specified.  All Dynamo DB tables must have exactly one hash key")
	case len(schema) == 2 && schema[1].KeyType != types.KeyTypeRange:
		return validation("Invalid KeyType %q; it must be HASH or RANGE", schema[1].KeyType)
	case len(schema) == 2 && aws.ToString(schema[0].AttributeName) == aws.ToString(schema[1].AttributeName):
		return validation("Two keys can not have the same name")
	}
	typeOf := map[string]types.ScalarAttributeType{}
	for _, d := range defs {
		name := aws.ToString(d.AttributeName)
		if _, dup := typeOf[name]; dup {
			return validation("Cannot have two attributes with the same name")
		}
		switch d.AttributeType {
		case types.ScalarAttributeTypeS, types.ScalarAttributeTypeN, types.ScalarAttributeTypeB:
		default:
			return validation("1 validation error detected: Value '%s' at 'attributeDefinitions.member.attributeType' "+
				"failed to satisfy constraint: Member must satisfy enum value set: [B, N, S]", d.AttributeType)
		}
		typeOf[name] = d.AttributeType
	}
	for i, k := range schema {
		name := aws.ToString(k.AttributeName)
		typ, ok := typeOf[name]
		if !ok {
			which := [2]string{"Hash", "Range"}[i]
			return validation("%s Key not specified in Attribute Definitions.  Type unknown.", which)
		}
		if name == "" {
			return validation("Empty key attribute name")
		}
		if i == 0 {
			t.hash = keyAttr{name, typ}
		} else {
			t.rng = keyAttr{name, typ}
		}
	}
	if len(defs) != len(schema) {
		return validation("One or more parameter values were invalid: Number of attributes in KeySchema does not exactly " +
			"match number of attributes defined in AttributeDefinitions")
	}
	return nil
}

func (t *table) setBilling(mode types.BillingMode, pt *types.ProvisionedThroughput) error {
	switch mode {
	case types.BillingModePayPerRequest:
		if pt != nil {
			return validation("One or more parameter values were invalid: Neither ReadCapacityUnits nor WriteCapacityUnits " +
				"can be specified when BillingMode is PAY_PER_REQUEST")
		}
	case "", types.BillingModeProvisioned:
		if pt == nil {
			return validation("No provisioned throughput specified for the table")
		}
		if aws.ToInt64(pt.ReadCapacityUnits) < 1 || aws.ToInt64(pt.WriteCapacityUnits) < 1 {
			return validation("One or more parameter values were invalid: ReadCapacityUnits and WriteCapacityUnits must both be at least 1")
		}
		mode = types.BillingModeProvisioned
		pt = &types.ProvisionedThroughput{ReadCapacityUnits: pt.ReadCapacityUnits, WriteCapacityUnits: pt.WriteCapacityUnits}
	default:
		return validation("1 validation error detected: Value '%s' at 'billingMode' failed to satisfy constraint: "+
			"Member must satisfy enum value set: [PROVISIONED, PAY_PER_REQUEST]", mode)
	}
	t.billing, t.throughput = mode, pt
	return nil
}

// namedTable checks that a request of type input names its table, then
// finds the table.
func (s *Store) namedTable(input string, name *string) (*table, error) {
	if err := checkParams(input, []param{{"TableName", name != nil}}, nil); err != nil {
		return nil, err
	}
	return s.lookup(name)
}

// DescribeTable describes a table: its key schema, attribute definitions,
// status (always ACTIVE), billing mode, item count and size. Unlike
// DynamoDB, which refreshes ItemCount about every six hours, the count is
// always current.
func (s *Store) DescribeTable(ctx context.Context, in *dynamodb.DescribeTableInput, _ ...func(*dynamodb.Options)) (*dynamodb.DescribeTableOutput, error) {
	return serve(ctx, s, in, func(in *dynamodb.DescribeTableInput) (*dynamodb.DescribeTableOutput, error) {
		t, err := s.namedTable("DescribeTableInput", in.TableName)
		if err != nil {
			return nil, err
		}
		return &dynamodb.DescribeTableOutput{Table: t.describe(types.TableStatusActive)}, nil
	})
}

// DeleteTable deletes a table and its items at once. It fails with a
// ValidationException when the table was created with deletion protection.
func (s *Store) DeleteTable(ctx context.Context, in *dynamodb.DeleteTableInput, _ ...func(*dynamodb.Options)) (*dynamodb.DeleteTableOutput, error) {
	return serve(ctx, s, in, func(in *dynamodb.DeleteTableInput) (*dynamodb.DeleteTableOutput, error) {
		t, err := s.namedTable("DeleteTableInput", in.TableName)
		if err != nil {
			return nil, err
		}
		if t.protected {
			return nil, validation("Resource cannot be deleted as it is currently protected against deletion. Disable deletion protection first.")
		}
		delete(s.tables, t.name)
		return &dynamodb.DeleteTableOutput{TableDescription: t.describe(types.TableStatusDeleting)}, nil
	})
}

func (t *table) describe(status types.TableStatus) *types.TableDescription {
	d := &types.TableDescription{
		TableName:                 aws.String(t.name),
		TableArn:                  aws.String("arn:aws:dynamodb:dynamutextest:000000000000:table/" + t.name),
		TableId:                   aws.String(strconv.FormatInt(t.created.UnixNano(), 36) + "-" + t.name),
		TableStatus:               status,
		CreationDateTime:          aws.Time(t.created),
		ItemCount:                 aws.Int64(int64(len(t.items))),
		TableSizeBytes:            aws.Int64(t.sizeBytes()),
		DeletionProtectionEnabled: aws.Bool(t.protected),
		KeySchema:                 []types.KeySchemaElement{{AttributeName: aws.String(t.hash.name), KeyType: types.KeyTypeHash}},
		AttributeDefinitions:      []types.AttributeDefinition{{AttributeName: aws.String(t.hash.name), AttributeType: t.hash.typ}},
		ProvisionedThroughput: &types.ProvisionedThroughputDescription{
			NumberOfDecreasesToday: aws.Int64(0), ReadCapacityUnits: aws.Int64(0), WriteCapacityUnits: aws.Int64(0),
		},
	}
	if t.rng.name != "" {
		d.KeySchema = append(d.KeySchema, types.KeySchemaElement{AttributeName: aws.String(t.rng.name), KeyType: types.KeyTypeRange})
		d.AttributeDefinitions = append(d.AttributeDefinitions, types.AttributeDefinition{AttributeName: aws.String(t.rng.name), AttributeType: t.rng.typ})
	}
	if t.billing == types.BillingModePayPerRequest {
		d.BillingModeSummary = &types.BillingModeSummary{BillingMode: types.BillingModePayPerRequest,
			LastUpdateToPayPerRequestDateTime: aws.Time(t.created)}
	} else {
		d.ProvisionedThroughput.ReadCapacityUnits = aws.Int64(aws.ToInt64(t.throughput.ReadCapacityUnits))
		d.ProvisionedThroughput.WriteCapacityUnits = aws.Int64(aws.ToInt64(t.throughput.WriteCapacityUnits))
	}
	return d
}

func (t *table) sizeBytes() int64 {
	var n int64
	for _, it := range t.items {
		n += int64(itemSize(it))
	}
	return n
}

// get returns the stored item (not a copy) or nil.
func (t *table) get(key string) item { return t.items[key] }

// put stores it, which the table now owns, under key.
func (t *table) put(key string, it item) {
	if _, ok := t.items[key]; !ok {
		i, _ := slices.BinarySearch(t.order, key)
		t.order = slices.Insert(t.order, i, key)
	}
	t.items[key] = it
}

func (t *table) remove(key string) {
	if _, ok := t.items[key]; !ok {
		return
	}
	delete(t.items, key)
	if i, found := slices.BinarySearch(t.order, key); found {
		t.order = slices.Delete(t.order, i, i+1)
	}
}
