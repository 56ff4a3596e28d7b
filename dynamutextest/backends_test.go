package dynamutextest_test

import (
	"context"
	"fmt"
	"regexp"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/dynamutex/dynamutex"
	"github.com/dynamutex/dynamutex/dynamutextest"
	"github.com/dynamutex/dynamutex/internal/localdb"
)

var _ dynamutex.DynamoDBAPI = (*dynamutextest.Store)(nil)

// api is what the conformance cases call: the library's interface plus the
// item and table operations that tests use to set up and inspect data.
// Both *dynamutextest.Store and *dynamodb.Client implement it.
type api interface {
	dynamutex.DynamoDBAPI
	PutItem(ctx context.Context, in *dynamodb.PutItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error)
	DeleteItem(ctx context.Context, in *dynamodb.DeleteItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.DeleteItemOutput, error)
	DeleteTable(ctx context.Context, in *dynamodb.DeleteTableInput, optFns ...func(*dynamodb.Options)) (*dynamodb.DeleteTableOutput, error)
}

var (
	_ api = (*dynamutextest.Store)(nil)
	_ api = (*dynamodb.Client)(nil)
)

// backend is one implementation the conformance cases run against.
type backend struct {
	name   string
	client func(t *testing.T) api
}

// backends are the in-memory Store and, when the tests have DynamoDB Local
// (AWS_ENDPOINT_URL_DYNAMODB; a dynamodblocal build fails without it),
// DynamoDB Local too. Every case asserts explicit results, so a behaviour both get
// wrong in the same way still fails. make test and CI run the suite on both.
func backends(t *testing.T) []backend {
	t.Helper()
	bs := []backend{{"memory", func(*testing.T) api { return dynamutextest.New() }}}
	if ep := localdb.Optional(t); ep != "" {
		bs = append(bs, backend{"local", func(*testing.T) api { return localBackend(ep) }})
	}
	return bs
}

// conformanceCase is one behaviour checked on every backend.
type conformanceCase struct {
	name string
	run  func(t *testing.T, c api)
}

// runConformance runs each case on each backend, in parallel: every case
// has its own table.
func runConformance(t *testing.T, cases []conformanceCase) {
	for _, cc := range cases {
		t.Run(cc.name, func(t *testing.T) {
			t.Parallel()
			for _, b := range backends(t) {
				t.Run(b.name, func(t *testing.T) {
					cc.run(t, b.client(t))
				})
			}
		})
	}
}

var (
	localOnce   sync.Once
	localClient *dynamodb.Client
)

// localBackend returns the tests' one client for DynamoDB Local at ep.
func localBackend(ep string) api {
	localOnce.Do(func() {
		localClient = localdb.Client(ep, localdb.Transport(), localdb.NoRetries)
	})
	return localClient
}

// keyDef is a key attribute of a test table.
type keyDef struct {
	name string
	typ  types.ScalarAttributeType
}

var (
	tableSeq    atomic.Int64
	unsafeChars = regexp.MustCompile(`[^a-zA-Z0-9_.-]`)
)

// createTable creates an on-demand table named after the test, with the
// partition key hash and optionally a sort key, and deletes it when the
// test ends.
func createTable(t *testing.T, c api, hash keyDef, sort ...keyDef) string {
	t.Helper()
	name := tableName(t, c)
	in := &dynamodb.CreateTableInput{
		TableName:            aws.String(name),
		BillingMode:          types.BillingModePayPerRequest,
		AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String(hash.name), AttributeType: hash.typ}},
		KeySchema:            []types.KeySchemaElement{{AttributeName: aws.String(hash.name), KeyType: types.KeyTypeHash}},
	}
	for _, k := range sort {
		in.AttributeDefinitions = append(in.AttributeDefinitions, types.AttributeDefinition{AttributeName: aws.String(k.name), AttributeType: k.typ})
		in.KeySchema = append(in.KeySchema, types.KeySchemaElement{AttributeName: aws.String(k.name), KeyType: types.KeyTypeRange})
	}
	if _, err := c.CreateTable(context.Background(), in); err != nil {
		t.Fatalf("create table %s: %v", name, err)
	}
	return name
}

// tableName returns a table name unique to this test and run, and deletes
// the table, if the test creates it, when the test ends.
func tableName(t *testing.T, c api) string {
	name := unsafeChars.ReplaceAllString(t.Name(), "_")
	if len(name) > 180 {
		name = name[len(name)-180:]
	}
	name = fmt.Sprintf("dtt_%s_%d_%d", name, time.Now().UnixNano()%1e9, tableSeq.Add(1))
	t.Cleanup(func() { deleteTable(c, name) })
	return name
}

// provisionedCreate is held while a provisioned table is created, and
// shared by table deletions: DynamoDB Local 3.x fails a CreateTable with
// ProvisionedThroughput with InternalFailure (HTTP 500) when a DeleteTable
// runs at the same time, nearly every time.
var provisionedCreate sync.RWMutex

func deleteTable(c api, name string) {
	provisionedCreate.RLock()
	defer provisionedCreate.RUnlock()
	_, _ = c.DeleteTable(context.Background(), &dynamodb.DeleteTableInput{TableName: aws.String(name)})
}

// pkTable creates a table with the string partition key "pk" only.
func pkTable(t *testing.T, c api) string {
	t.Helper()
	return createTable(t, c, keyDef{"pk", types.ScalarAttributeTypeS})
}
