package dynamutex_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/aws/smithy-go"

	"github.com/dynamutex/dynamutex"
	"github.com/dynamutex/dynamutex/dynamutextest"
)

// throttle makes db refuse DescribeTable with ThrottlingException while
// the count it returns is above zero, as DynamoDB does when thousands of
// cold starts arrive at once.
func throttle(db *tap) *atomic.Int64 {
	var remaining atomic.Int64
	db.setFault(func(op, _ string, _ any) fault {
		if op == "DescribeTable" && remaining.Add(-1) >= 0 {
			return fault{status: 400, errCode: "ThrottlingException"}
		}
		return fault{}
	})
	return &remaining
}

// NewSession rides out throttling with the Session's backoff, as Lock does,
// until its context ends; a missing table still fails at the first reply.
func TestNewSessionRetriesTransientErrors(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx := context.Background()
		store := dynamutextest.New()
		if err := dynamutex.CreateTable(ctx, store, "locks"); err != nil {
			t.Fatal(err)
		}
		db := newTap(store)
		remaining := throttle(db)
		describes := func() int { return db.count("DescribeTable") }

		remaining.Store(5)
		var logs bytes.Buffer
		logger := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelWarn}))
		s, err := dynamutex.NewSession(ctx, db, "locks", dynamutex.WithLogger(logger))
		if err != nil {
			t.Fatalf("NewSession through 5 throttled replies: %v", err)
		}
		if n := describes(); n != 6 {
			t.Errorf("NewSession made %d DescribeTable requests, want 6", n)
		}
		if n := strings.Count(logs.String(), "level=WARN"); n != 1 {
			t.Errorf("%d Warn lines for 5 retries, want 1:\n%s", n, logs.String())
		}
		if err := s.Close(ctx); err != nil {
			t.Fatal(err)
		}

		before := describes()
		remaining.Store(1 << 40)
		tctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		start := time.Now()
		_, err = dynamutex.NewSession(tctx, db, "locks")
		var api smithy.APIError
		if !errors.As(err, &api) || api.ErrorCode() != "ThrottlingException" || !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("NewSession throttled until its deadline = %v, want the throttling error and the deadline", err)
		}
		if took := time.Since(start); took != 10*time.Second {
			t.Errorf("gave up after %v, want at its 10s deadline", took)
		}
		if n := describes() - before; n < 10 {
			t.Errorf("only %d requests in 10 s of throttling", n)
		}

		before = describes()
		remaining.Store(0)
		_, err = dynamutex.NewSession(ctx, db, "missing")
		if n := describes() - before; !errors.Is(err, dynamutex.ErrTableNotFound) || n != 1 {
			t.Errorf("NewSession of a missing table = %v after %d requests, want ErrTableNotFound after 1", err, n)
		}
	})
}
