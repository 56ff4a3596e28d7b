package dynamutex

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"time"

	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/smithy-go/middleware"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/dynamutex/dynamutex/internal/wallclock"
	"github.com/dynamutex/dynamutex/internal/wire"
)

// clockCheck holds a Session's declared clock bound (WithClockBound) and
// tests it against the Date header of DynamoDB's replies. A nil *clockCheck
// is a Session without a bound: it never stamps deadlines nor takes over by
// clock.
type clockCheck struct {
	bound time.Duration
	lease time.Duration // how long replies must agree before trust returns
	s     *Session      // for the log and the Observer

	mu        sync.Mutex
	untrusted bool
	lastBad   time.Time // monotonic: the last reply that disagreed
}

// active returns the bound while the clock is trusted.
func (c *clockCheck) active() (time.Duration, bool) {
	if c == nil {
		return 0, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.bound, !c.untrusted
}

// observe checks the reply to a request sent at sent (monotonic), given its
// metadata on success or its error. Replies without HTTP, or without a
// Date, say nothing.
func (c *clockCheck) observe(sent time.Time, md middleware.Metadata, err error) {
	if c == nil {
		return
	}
	date, ok := replyDate(md, err)
	if !ok {
		return
	}
	received := time.Now()
	skew := wallclock.Now().Sub(date)
	c.judge(skew, received.Sub(sent), received)
}

// judge applies the rule for one reply. Date has whole seconds, truncated,
// and was stamped somewhere within the round trip, so only a skew beyond
// bound + 1 s + rtt proves the clock wrong: less could be rounding and
// transit.
func (c *clockCheck) judge(skew, rtt time.Duration, now time.Time) {
	bad := skew.Abs() > c.bound+time.Second+rtt
	c.mu.Lock()
	var kind EventKind
	switch {
	case bad:
		c.lastBad = now
		if !c.untrusted {
			c.untrusted = true
			kind = EventClockUntrusted
		}
	case c.untrusted && now.Sub(c.lastBad) >= c.lease:
		c.untrusted = false
		kind = EventClockTrusted
	}
	c.mu.Unlock()
	if kind == 0 {
		return
	}
	ev := Event{Kind: kind, Skew: skew}
	if kind == EventClockUntrusted {
		ev.Err = fmt.Errorf("dynamutex: this clock is %v off DynamoDB's, beyond the declared bound of %v "+
			"plus 1s for the Date header's rounding plus the %v round trip; taking over by observation only",
			skew.Round(time.Millisecond), c.bound, rtt.Round(time.Millisecond))
		c.s.log.Warn("dynamutex: wall clock outside its declared bound; clock-based takeover off",
			slog.Duration("skew", skew), slog.Duration("bound", c.bound), slog.Duration("round_trip", rtt))
	} else {
		c.s.log.Info("dynamutex: wall clock back within its declared bound; clock-based takeover on",
			slog.Duration("skew", skew), slog.Duration("bound", c.bound))
	}
	c.s.emit(ev)
}

// replyDate reads the Date header of a reply: from the raw response the SDK
// keeps in a success's metadata, or from the response inside an error.
func replyDate(md middleware.Metadata, err error) (time.Time, bool) {
	var resp *smithyhttp.Response
	if err != nil {
		var re *smithyhttp.ResponseError
		if !errors.As(err, &re) {
			return time.Time{}, false
		}
		resp = re.Response
	} else {
		resp, _ = awsmiddleware.GetRawResponse(md).(*smithyhttp.Response)
	}
	if resp == nil || resp.Response == nil {
		return time.Time{}, false
	}
	d, perr := http.ParseTime(resp.Header.Get("Date"))
	return d, perr == nil
}

// stampNow is the clock part of one acquire or renewal: the writer's wall
// clock at send and, while the bound is trusted, the deadline and the
// takeover threshold (wire.Stamp). It is taken after the caller noted its
// monotonic send time, so the deadline never starts earlier than the lease
// it stands for.
func (c *clockCheck) stampNow(lease time.Duration) wire.Stamp {
	now := wallclock.Now()
	st := wire.Stamp{Sent: uint64(now.UnixMilli())}
	if b, ok := c.active(); ok {
		// Rounded up and down respectively, so that rounding to whole
		// milliseconds only ever delays a takeover.
		st.Deadline = ceilMillis(now.Add(lease + b))
		st.Before = uint64(now.Add(-b).UnixMilli())
	}
	return st
}

func ceilMillis(t time.Time) uint64 {
	ms := t.UnixMilli()
	if t.Sub(time.UnixMilli(ms)) > 0 {
		ms++
	}
	return uint64(ms)
}

// takeableByClock reports whether rec's deadline has passed by this
// Session's trusted clock less its bound, as the acquire condition would
// judge it now.
func (c *clockCheck) takeableByClock(rec record) bool {
	b, ok := c.active()
	// In whole milliseconds, rounded as the condition rounds them, so that
	// this never says yes a moment before the write would.
	return ok && !rec.deadline.IsZero() && rec.deadline.UnixMilli() < wallclock.Now().Add(-b).UnixMilli()
}

// untilClockTakeover is how long until rec becomes takeable by clock, or -1
// if it never will by this Session's clock.
func (c *clockCheck) untilClockTakeover(rec record) time.Duration {
	b, ok := c.active()
	if !ok || rec.deadline.IsZero() {
		return -1
	}
	return max(rec.deadline.Add(b+time.Millisecond).Sub(wallclock.Now()), 0)
}
