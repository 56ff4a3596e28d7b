package dynamutextest_test

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

func TestConformanceTables(t *testing.T) {
	runConformance(t, []conformanceCase{
		{"DescribeTable", caseDescribeTable},
		{"ProvisionedTable", caseProvisionedTable},
		{"CreateTableErrors", caseCreateTableErrors},
		{"TimeToLive", caseTimeToLive},
		{"DeleteTable", caseDeleteTable},
	})
}

func caseDescribeTable(t *testing.T, c api) {
	table := createTable(t, c, keyDef{"pk", types.ScalarAttributeTypeS}, keyDef{"sk", types.ScalarAttributeTypeB})
	put(t, c, table, item{"pk": S("a"), "sk": B("1")})
	put(t, c, table, item{"pk": S("a"), "sk": B("2")})
	out, err := c.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(table)})
	mustOK(t, err)
	d := out.Table
	if aws.ToString(d.TableName) != table || d.TableStatus != types.TableStatusActive {
		t.Errorf("name %q, status %q", aws.ToString(d.TableName), d.TableStatus)
	}
	if got := fmt.Sprint(keySchema(d)); got != "[pk HASH sk RANGE]" {
		t.Errorf("key schema %s", got)
	}
	if got := fmt.Sprint(attrDefs(d)); got != "[pk S sk B]" {
		t.Errorf("attribute definitions %s", got)
	}
	if d.BillingModeSummary == nil || d.BillingModeSummary.BillingMode != types.BillingModePayPerRequest {
		t.Errorf("billing mode summary %+v, want PAY_PER_REQUEST", d.BillingModeSummary)
	}
	if aws.ToInt64(d.ItemCount) != 2 {
		t.Errorf("ItemCount %d, want 2", aws.ToInt64(d.ItemCount))
	}
	if d.CreationDateTime == nil || time.Since(*d.CreationDateTime) > time.Hour {
		t.Errorf("CreationDateTime %v", d.CreationDateTime)
	}
	_, err = c.CreateTable(ctx, &dynamodb.CreateTableInput{TableName: aws.String(table), BillingMode: types.BillingModePayPerRequest,
		AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String("pk"), AttributeType: types.ScalarAttributeTypeS}},
		KeySchema:            []types.KeySchemaElement{{AttributeName: aws.String("pk"), KeyType: types.KeyTypeHash}}})
	var inUse *types.ResourceInUseException
	if !errors.As(err, &inUse) {
		t.Errorf("creating an existing table: %v, want *types.ResourceInUseException", err)
	} else {
		wantAPIError(t, err, "CreateTable", "ResourceInUseException")
	}
}

func keySchema(d *types.TableDescription) []string {
	var out []string
	for _, k := range d.KeySchema {
		out = append(out, aws.ToString(k.AttributeName), string(k.KeyType))
	}
	return out
}

func attrDefs(d *types.TableDescription) []string {
	var out []string
	for _, a := range d.AttributeDefinitions {
		out = append(out, aws.ToString(a.AttributeName), string(a.AttributeType))
	}
	return out
}

func caseProvisionedTable(t *testing.T, c api) {
	name := tableName(t, c)
	provisionedCreate.Lock()
	_, err := c.CreateTable(ctx, &dynamodb.CreateTableInput{TableName: aws.String(name),
		AttributeDefinitions:  []types.AttributeDefinition{{AttributeName: aws.String("id"), AttributeType: types.ScalarAttributeTypeN}},
		KeySchema:             []types.KeySchemaElement{{AttributeName: aws.String("id"), KeyType: types.KeyTypeHash}},
		ProvisionedThroughput: &types.ProvisionedThroughput{ReadCapacityUnits: aws.Int64(3), WriteCapacityUnits: aws.Int64(4)}})
	provisionedCreate.Unlock()
	mustOK(t, err)
	out, err := c.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(name)})
	mustOK(t, err)
	pt := out.Table.ProvisionedThroughput
	if out.Table.BillingModeSummary != nil && out.Table.BillingModeSummary.BillingMode == types.BillingModePayPerRequest {
		t.Errorf("billing mode summary %+v", out.Table.BillingModeSummary)
	}
	if pt == nil || aws.ToInt64(pt.ReadCapacityUnits) != 3 || aws.ToInt64(pt.WriteCapacityUnits) != 4 {
		t.Errorf("provisioned throughput %+v, want 3 and 4", pt)
	}
	put(t, c, name, item{"id": N("1.0")})
	wantItem(t, "item", get(t, c, name, item{"id": N("1")}), item{"id": N("1")})
}

func caseCreateTableErrors(t *testing.T, c api) {
	def := func(n string, typ types.ScalarAttributeType) types.AttributeDefinition {
		return types.AttributeDefinition{AttributeName: aws.String(n), AttributeType: typ}
	}
	hash := types.KeySchemaElement{AttributeName: aws.String("pk"), KeyType: types.KeyTypeHash}
	rng := types.KeySchemaElement{AttributeName: aws.String("sk"), KeyType: types.KeyTypeRange}
	for name, in := range map[string]*dynamodb.CreateTableInput{
		"no throughput":       {AttributeDefinitions: []types.AttributeDefinition{def("pk", "S")}, KeySchema: []types.KeySchemaElement{hash}},
		"extra definition":    {AttributeDefinitions: []types.AttributeDefinition{def("pk", "S"), def("x", "S")}, KeySchema: []types.KeySchemaElement{hash}},
		"missing definition":  {AttributeDefinitions: []types.AttributeDefinition{def("x", "S")}, KeySchema: []types.KeySchemaElement{hash}},
		"range first":         {AttributeDefinitions: []types.AttributeDefinition{def("pk", "S"), def("sk", "S")}, KeySchema: []types.KeySchemaElement{rng, hash}},
		"bool key":            {AttributeDefinitions: []types.AttributeDefinition{def("pk", "BOOL")}, KeySchema: []types.KeySchemaElement{hash}},
		"no key schema":       {AttributeDefinitions: []types.AttributeDefinition{def("pk", "S")}},
		"duplicate attribute": {AttributeDefinitions: []types.AttributeDefinition{def("pk", "S"), def("pk", "N")}, KeySchema: []types.KeySchemaElement{hash}},
	} {
		if in.BillingMode == "" && name != "no throughput" {
			in.BillingMode = types.BillingModePayPerRequest
		}
		in.TableName = aws.String(fmt.Sprintf("dtt_bad_%d_%d", time.Now().UnixNano()%1e9, tableSeq.Add(1)))
		_, err := c.CreateTable(ctx, in)
		if err == nil {
			t.Errorf("%s: table created", name)
			deleteTable(c, *in.TableName)
			continue
		}
		wantAPIError(t, err, "CreateTable", "ValidationException")
	}
	for _, bad := range []string{"x", "bad!name", ""} {
		_, err := c.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(bad)})
		wantValidation(t, err, "DescribeTable", "Invalid table/index name")
	}
}

func caseTimeToLive(t *testing.T, c api) {
	table := pkTable(t, c)
	describe := func() (types.TimeToLiveStatus, string) {
		t.Helper()
		out, err := c.DescribeTimeToLive(ctx, &dynamodb.DescribeTimeToLiveInput{TableName: aws.String(table)})
		mustOK(t, err)
		return out.TimeToLiveDescription.TimeToLiveStatus, aws.ToString(out.TimeToLiveDescription.AttributeName)
	}
	set := func(attr string, on bool) error {
		out, err := c.UpdateTimeToLive(ctx, &dynamodb.UpdateTimeToLiveInput{TableName: aws.String(table),
			TimeToLiveSpecification: &types.TimeToLiveSpecification{AttributeName: aws.String(attr), Enabled: aws.Bool(on)}})
		if err == nil && (aws.ToString(out.TimeToLiveSpecification.AttributeName) != attr || aws.ToBool(out.TimeToLiveSpecification.Enabled) != on) {
			t.Errorf("UpdateTimeToLive echoed %+v", out.TimeToLiveSpecification)
		}
		return err
	}
	if st, attr := describe(); st != types.TimeToLiveStatusDisabled || attr != "" {
		t.Errorf("new table: TTL %s on %q, want DISABLED", st, attr)
	}
	mustOK(t, set("exp", true))
	if st, attr := describe(); st != types.TimeToLiveStatusEnabled || attr != "exp" {
		t.Errorf("after enabling: TTL %s on %q, want ENABLED on exp", st, attr)
	}
	wantValidation(t, set("exp", true), "UpdateTimeToLive", "already enabled")
	wantValidation(t, set("other", true), "UpdateTimeToLive", "different AttributeName")
	mustOK(t, set("exp", false))
	if st, attr := describe(); st != types.TimeToLiveStatusDisabled || attr != "" {
		t.Errorf("after disabling: TTL %s on %q, want DISABLED", st, attr)
	}
	wantValidation(t, set("exp", false), "UpdateTimeToLive", "already disabled")
}

func caseDeleteTable(t *testing.T, c api) {
	name := tableName(t, c)
	_, err := c.CreateTable(ctx, &dynamodb.CreateTableInput{TableName: aws.String(name), BillingMode: types.BillingModePayPerRequest,
		AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String("pk"), AttributeType: types.ScalarAttributeTypeS}},
		KeySchema:            []types.KeySchemaElement{{AttributeName: aws.String("pk"), KeyType: types.KeyTypeHash}}})
	mustOK(t, err)
	put(t, c, name, item{"pk": S("a")})
	provisionedCreate.RLock()
	out, err := c.DeleteTable(ctx, &dynamodb.DeleteTableInput{TableName: aws.String(name)})
	provisionedCreate.RUnlock()
	mustOK(t, err)
	if aws.ToString(out.TableDescription.TableName) != name {
		t.Errorf("deleted %q", aws.ToString(out.TableDescription.TableName))
	}
	_, err = c.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(name)})
	wantAPIError(t, err, "DescribeTable", "ResourceNotFoundException")
}
