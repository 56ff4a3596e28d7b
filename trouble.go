package dynamutex

import (
	"log/slog"
	"sync"
	"time"
)

// renewalTrouble keeps a Session's Warn lines about late and failed
// renewals to one per heartbeat period. When DynamoDB slows down, every
// held lock renews late at once: a Session holding 1,000 locks would
// otherwise log 1,000 Warn lines a period, and an operator needs to hear
// that renewals run late, with how many and how late, not each one. The
// first trouble of a quiet period is logged at once, with its lock; the
// rest of that period is counted and logged as one summary when the period
// is over. Every event is still logged at Debug with its lock, and sent to
// the Observer.
type renewalTrouble struct {
	log    *slog.Logger
	mu     sync.Mutex
	period time.Duration
	warned time.Time // when the last Warn was logged
	// Counted since the last Warn, for the next summary.
	late, failed int
	worst        time.Duration // the longest time between two confirmed renewals of a lock
	lastErr      error
}

// note records one late renewal (err nil, since the time since the lock's
// previous confirmed renewal) or one failed attempt (err set), and logs it at
// Warn if no Warn was logged in the last period. attrs describe the lock.
func (t *renewalTrouble) note(msg string, attrs []any, since time.Duration, err error) {
	t.log.Debug(msg, attrs...)
	t.mu.Lock()
	now := time.Now()
	quiet := t.warned.IsZero() || now.Sub(t.warned) >= t.period
	if quiet && t.late == 0 && t.failed == 0 {
		t.warned = now
		t.mu.Unlock()
		t.log.Warn(msg+"; further renewal trouble this period is summed up in one line", attrs...)
		return
	}
	if err != nil {
		t.failed, t.lastErr = t.failed+1, err
	} else {
		t.late++
		t.worst = max(t.worst, since)
	}
	t.mu.Unlock()
	t.flush(now)
}

// flush logs the summary of the trouble counted since the last Warn, once a
// period has passed since it. The heartbeat loop calls it as it wakes, so a
// summary is not held back until the next trouble.
func (t *renewalTrouble) flush(now time.Time) {
	t.mu.Lock()
	if (t.late == 0 && t.failed == 0) || now.Sub(t.warned) < t.period {
		t.mu.Unlock()
		return
	}
	since := now.Sub(t.warned)
	late, failed, worst, lastErr := t.late, t.failed, t.worst, t.lastErr
	t.warned, t.late, t.failed, t.worst, t.lastErr = now, 0, 0, 0, nil
	t.mu.Unlock()
	attrs := []any{slog.Duration("over", since.Round(time.Millisecond)), slog.Int("late", late),
		slog.Int("failed_attempts", failed)}
	if late > 0 {
		attrs = append(attrs, slog.Duration("worst_since_previous", worst))
	}
	if lastErr != nil {
		attrs = append(attrs, slog.Any("last_error", lastErr))
	}
	t.log.Warn("dynamutex: renewals running late", attrs...)
}
