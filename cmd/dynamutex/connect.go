package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/dynamutex/dynamutex"
)

// setupTimeout bounds loading the AWS configuration and the DescribeTable
// request of NewSession, so that a black-holed endpoint ends in a message
// rather than a hang. Waiting for the lock is not included. A DescribeTable
// that fails is not retried beyond the SDK's own retries (see onceTable).
const setupTimeout = 30 * time.Second

// connect builds the client and opens a Session on the table. A missing
// table becomes a usage error that gives the command to create it, because
// the library's own message is written for Go programmers.
func (a *app) connect(ctx context.Context, c *common, opts ...dynamutex.Option) (*dynamutex.Session, error) {
	ctx, cancel := context.WithTimeout(ctx, setupTimeout)
	defer cancel()
	client, err := newClient(ctx, c)
	if err != nil {
		return nil, err
	}
	opts = append(opts, dynamutex.WithLogger(a.logger(c)))
	for _, k := range c.tableOptions() {
		opts = append(opts, k)
	}
	sctx, stop := context.WithCancel(ctx)
	defer stop()
	once := &onceTable{DynamoDBAPI: client, stop: stop}
	sess, err := dynamutex.NewSession(sctx, once, c.table, opts...)
	switch {
	case errors.Is(err, dynamutex.ErrTableNotFound):
		return nil, &exitError{code: exitUsage, msg: fmt.Sprintf(
			"table %q does not exist. Create it once with:\n  %s", c.table, c.createTableHint())}
	case err != nil && once.failure() != nil:
		// Without the "(and then: context canceled)" that stopping the
		// retries adds to the library's message.
		return nil, fmt.Errorf("dynamutex: describe table %q: %w", c.table, once.failure())
	}
	return sess, err
}

// logger is where the library logs its lifecycle events. A one-shot tool
// reports what matters itself (busy, lost, in danger, release failed), so
// the library's log is shown only with --verbose, and then in full.
func (a *app) logger(c *common) *slog.Logger {
	if !c.verbose {
		return slog.New(slog.DiscardHandler)
	}
	return slog.New(slog.NewTextHandler(a.stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// progress prints a line on stderr with --verbose.
func (a *app) progress(c *common, format string, args ...any) {
	if c.verbose {
		fmt.Fprintf(a.stderr, "dynamutex: "+format+"\n", args...)
	}
}

// createTableHint is the create-table command line for the table and the
// connection options given on the command line; those from the environment
// will be there again when the user runs it.
func (c *common) createTableHint() string {
	parts := []string{"dynamutex create-table --table " + shellQuote(c.table)}
	for _, o := range []struct{ name, value string }{
		{"endpoint", c.endpoint}, {"region", c.region}, {"profile", c.profile},
		{"format", c.format.String()}, {"partition-key", c.partitionKey}, {"sort-key", c.sortKey},
	} {
		if src, ok := c.given[o.name]; ok && src == "" {
			parts = append(parts, "--"+o.name+" "+shellQuote(o.value))
		}
	}
	return strings.Join(parts, " ")
}

// shellQuote quotes s for a POSIX shell when it needs it, so that hints can
// be pasted as they are.
func shellQuote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-/:=@,+") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
