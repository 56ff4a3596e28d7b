// Package dynamutextest provides an in-memory DynamoDB for unit tests of
// code that uses dynamutex, or that talks to DynamoDB through the
// dynamutex.DynamoDBAPI interface, without Java, Docker or a network.
//
//	store := dynamutextest.New()
//	err := dynamutex.CreateTable(ctx, store, "locks")
//	s, err := dynamutex.NewSession(ctx, store, "locks")
//
// A Store implements dynamutex.DynamoDBAPI (UpdateItem, GetItem, Scan,
// TransactWriteItems, CreateTable, DescribeTable, UpdateTimeToLive,
// DescribeTimeToLive) and, for tests that set up or inspect data, PutItem,
// DeleteItem and DeleteTable. Its conformance suite runs the same cases
// against the Store and against DynamoDB Local, so that the two agree on
// what the suite checks.
//
// # What is emulated
//
//   - Tables with a partition key and an optional sort key of type S, N or B,
//     on-demand or provisioned. Tables are ACTIVE at once.
//   - Items of every attribute type, checked as DynamoDB checks them: key
//     schema, empty sets, duplicate set members, the 400 KB item limit (with
//     an approximate size, see below) and numbers of up to 38 digits.
//     Numbers are exact decimals and come back in DynamoDB's canonical
//     form ("1.50" as "1.5", "007" as "7", "-0" as "0").
//   - Condition, filter, update and projection expressions with their full
//     grammar: comparisons, BETWEEN, IN, AND, OR, NOT, parentheses, the
//     functions attribute_exists, attribute_not_exists, attribute_type,
//     begins_with, contains and size; SET with +, -, if_not_exists and
//     list_append; REMOVE; ADD; DELETE; nested paths (a.b, a[0]);
//     placeholders, including the refusal of unused or undefined ones and of
//     reserved words used as plain attribute names.
//   - ReturnValues, ReturnValuesOnConditionCheckFailure, Scan pagination
//     (Limit, ExclusiveStartKey, LastEvaluatedKey, the 1 MB page), Select
//     COUNT and parallel scans.
//   - TransactWriteItems, all or nothing, with DynamoDB's cancellation
//     reasons.
//   - Errors of the SDK's own types (*types.ConditionalCheckFailedException,
//     *types.TransactionCanceledException, *types.ResourceNotFoundException,
//     *types.ResourceInUseException, and for invalid requests a
//     *smithy.GenericAPIError with code ValidationException), wrapped in a
//     *smithy.OperationError as the SDK's client wraps them. Like the SDK,
//     the Store leaves the Fault of a ValidationException unset
//     (smithy.FaultUnknown). Messages follow DynamoDB's but may differ in
//     wording; error codes do not. A request missing a required parameter
//     fails with the SDK's client-side smithy.InvalidParamsError.
//   - A context that is already done fails the request with its error before
//     anything is read or written.
//
// # What is not
//
//   - No throughput limits, throttling or transaction conflicts: every
//     request succeeds or fails on its own merits.
//   - No eventual consistency: every read sees every earlier write, whatever
//     ConsistentRead says.
//   - TTL deletes nothing by itself. ExpireTTL deletes expired items when the
//     test calls it, with the clock given by WithClock.
//   - No Query, BatchGetItem, BatchWriteItem, TransactGetItems, PartiQL,
//     secondary indexes, streams, backups or global tables: those methods do
//     not exist, and indexes and streams in CreateTable are refused.
//   - The legacy parameters (AttributeUpdates, Expected, AttributesToGet,
//     ScanFilter, ConditionalOperator) are refused; use expressions.
//   - Scan returns items in a fixed order of their keys, not in DynamoDB's
//     hash order.
//   - Item sizes are approximate for numbers and nested lists and maps, so
//     an item within a few bytes of 400 KB may be accepted or refused
//     differently.
//   - TransactWriteItems ignores ClientRequestToken: a repeated request runs
//     again instead of being recognised.
//   - For ReturnValues UPDATED_OLD and UPDATED_NEW, an update of a nested
//     path returns its whole top-level attribute, as DynamoDB Local does.
//
// A Store is safe for concurrent use, starts no goroutines and never
// sleeps, so it works inside testing/synctest bubbles, where it lets a test
// run a lock's whole lease in fake time.
package dynamutextest
