package dynamutex

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/cenkalti/backoff/v4"
)

var tableName = regexp.MustCompile(`^[a-zA-Z0-9_.-]{3,255}$`)

func validateTableName(table string) error {
	if !tableName.MatchString(table) {
		return optionError("table", "table name %q must be 3 to 255 of a-z, A-Z, 0-9, '_', '-', '.'", table)
	}
	return nil
}

// CreateTable creates an on-demand lock table with a string partition key
// (WithPartitionKey, default "key") and, with WithSortKey, a string sort key;
// waits until it is active; and enables TTL on ExpiresAttribute so DynamoDB
// deletes idle records. WithFormat makes the table that format's client
// expects instead: FormatPython's keys "lock_key" and "sort_key" and TTL on
// expiry_time; FormatJava's key "key" and no TTL. If the table exists with
// the same key schema, it
// only makes sure TTL is enabled, so it is safe to call at every start; an
// existing table keeps its capacity mode. A table whose TTL is already on
// another attribute (one shared with another lock client, whose clean-up
// depends on it) keeps it: a table has one TTL attribute, and dynamutex's
// idle records are then never deleted by TTL, which costs storage, not
// correctness.
func CreateTable(ctx context.Context, client DynamoDBAPI, table string, opts ...TableOption) error {
	if client == nil {
		return optionError("client", "the DynamoDBAPI client is nil")
	}
	if err := validateTableName(table); err != nil {
		return err
	}
	var keys keyNames
	for _, o := range opts {
		if o == nil {
			return optionError("TableOption", "nil TableOption in the list")
		}
		o.applyTable(&keys)
	}
	keys.resolve()
	if err := keys.validate(); err != nil {
		return err
	}
	in := &dynamodb.CreateTableInput{
		TableName:   aws.String(table),
		BillingMode: types.BillingModePayPerRequest,
		AttributeDefinitions: []types.AttributeDefinition{
			{AttributeName: aws.String(keys.partition), AttributeType: types.ScalarAttributeTypeS},
		},
		KeySchema: []types.KeySchemaElement{
			{AttributeName: aws.String(keys.partition), KeyType: types.KeyTypeHash},
		},
	}
	if keys.sort != "" {
		in.AttributeDefinitions = append(in.AttributeDefinitions,
			types.AttributeDefinition{AttributeName: aws.String(keys.sort), AttributeType: types.ScalarAttributeTypeS})
		in.KeySchema = append(in.KeySchema,
			types.KeySchemaElement{AttributeName: aws.String(keys.sort), KeyType: types.KeyTypeRange})
	}
	_, err := client.CreateTable(ctx, in)
	var inUse *types.ResourceInUseException
	if err != nil && !errors.As(err, &inUse) {
		return fmt.Errorf("dynamutex: create table %q: %w", table, err)
	}
	if err := waitActive(ctx, client, table, keys); err != nil {
		return err
	}
	attr := keys.format.TTLAttribute()
	if attr == "" {
		return nil // the Java client's tables have no TTL
	}
	return enableTTL(ctx, client, table, attr)
}

func waitActive(ctx context.Context, client DynamoDBAPI, table string, keys keyNames) error {
	bo := backoff.NewExponentialBackOff(
		backoff.WithInitialInterval(50*time.Millisecond),
		backoff.WithMaxInterval(5*time.Second),
		backoff.WithMaxElapsedTime(0),
	)
	for {
		out, err := client.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(table)})
		if err != nil {
			return fmt.Errorf("dynamutex: describe table %q: %w", table, err)
		}
		if err := matchSchema(table, out.Table, keys); err != nil {
			return err
		}
		if out.Table.TableStatus == types.TableStatusActive {
			return nil
		}
		if err := sleepUntil(ctx, bo.NextBackOff(), nil); err != nil {
			return fmt.Errorf("dynamutex: waiting for table %q to become active: %w", table, err)
		}
	}
}

func enableTTL(ctx context.Context, client DynamoDBAPI, table, attr string) error {
	d, err := client.DescribeTimeToLive(ctx, &dynamodb.DescribeTimeToLiveInput{TableName: aws.String(table)})
	if err != nil {
		return fmt.Errorf("dynamutex: describe TTL of table %q: %w", table, err)
	}
	if t := d.TimeToLiveDescription; t != nil && aws.ToString(t.AttributeName) != "" &&
		(t.TimeToLiveStatus == types.TimeToLiveStatusEnabled || t.TimeToLiveStatus == types.TimeToLiveStatusEnabling) {
		return nil // on attr, or on another attribute that some other client's clean-up needs
	}
	_, err = client.UpdateTimeToLive(ctx, &dynamodb.UpdateTimeToLiveInput{
		TableName: aws.String(table),
		TimeToLiveSpecification: &types.TimeToLiveSpecification{
			AttributeName: aws.String(attr),
			Enabled:       aws.Bool(true),
		},
	})
	if err != nil {
		return fmt.Errorf("dynamutex: enable TTL on %q.%s: %w", table, attr, err)
	}
	return nil
}

// checkTable makes sure the table exists with the key schema the Session
// will write, so that a typo fails at start-up rather than at the first Lock.
// Like Lock, it rides out throttling, server errors and timeouts with the
// Session's backoff until ctx ends: a fleet of cold starts at once meets
// exactly those. Each attempt is bounded like an acquire attempt.
func checkTable(ctx context.Context, client DynamoDBAPI, table string, cfg *config) error {
	bo := cfg.newBackoff()
	tries := 0
	for {
		actx, cancel := context.WithTimeout(ctx, cfg.attemptTimeout())
		out, err := client.DescribeTable(actx, &dynamodb.DescribeTableInput{TableName: aws.String(table)})
		cancel()
		if err == nil {
			return matchSchema(table, out.Table, cfg.keys)
		}
		var nf *types.ResourceNotFoundException
		if errors.As(err, &nf) {
			return fmt.Errorf("%w: %q does not exist; create it once with dynamutex.CreateTable(ctx, client, %q) "+
				"(or the AWS console/CLI: on-demand, string partition key %q)", ErrTableNotFound, table, table, cfg.keys.partition)
		}
		err = fmt.Errorf("dynamutex: describe table %q: %w", table, err)
		if ctx.Err() != nil {
			return fmt.Errorf("%w (and then: %w)", err, context.Cause(ctx))
		}
		if classify(err) == kindFatal {
			return err
		}
		d := bo.NextBackOff()
		if d == backoff.Stop {
			return err
		}
		// Said once at Warn, so that a wrong endpoint under a context that
		// never ends does not retry in silence.
		level := slog.LevelDebug
		if tries++; tries == 1 {
			level = slog.LevelWarn
		}
		cfg.logger.Log(ctx, level, "dynamutex: describe table failed; retrying until the context ends",
			slog.String("table", table), slog.Any("error", err))
		if cerr := sleepUntil(ctx, d, nil); cerr != nil {
			return fmt.Errorf("%w (and then: %w)", err, cerr)
		}
	}
}

func matchSchema(table string, d *types.TableDescription, keys keyNames) error {
	if d == nil {
		return fmt.Errorf("dynamutex: describe table %q returned no description", table)
	}
	var hash, rng string
	for _, k := range d.KeySchema {
		switch k.KeyType {
		case types.KeyTypeHash:
			hash = aws.ToString(k.AttributeName)
		case types.KeyTypeRange:
			rng = aws.ToString(k.AttributeName)
		}
	}
	if hash != keys.partition || rng != keys.sort {
		return fmt.Errorf("%w: table %q has partition key %q and sort key %q; the Session expects %q and %q "+
			"(see WithPartitionKey and WithSortKey)", ErrTableMismatch, table, hash, rng, keys.partition, keys.sort)
	}
	for _, a := range d.AttributeDefinitions {
		name := aws.ToString(a.AttributeName)
		if (name == hash || name == rng) && a.AttributeType != types.ScalarAttributeTypeS {
			return fmt.Errorf("%w: key attribute %q of table %q has type %s; dynamutex needs S (string)",
				ErrTableMismatch, name, table, a.AttributeType)
		}
	}
	return nil
}
