package dynamutexotel

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"

	"github.com/dynamutex/dynamutex"
)

// ErrNilMeter is returned by New when it is given no Meter.
var ErrNilMeter = errors.New("dynamutexotel: nil meter")

// An Observer records a Session's lock events on OpenTelemetry
// instruments. Pass it to dynamutex.NewSession with dynamutex.WithObserver.
// It is safe for concurrent use, and its Observe returns quickly: it only
// adds to instruments, and takes one short lock to keep the instants of
// the locks held.
type Observer struct {
	in    instruments
	cfg   config
	holds holds
}

var _ dynamutex.Observer = (*Observer)(nil)

// New creates the instruments on meter (see the package README for their
// names, units and attributes) and returns an Observer that records on
// them. A nil meter is ErrNilMeter; an instrument the meter refuses is an
// error naming it.
func New(meter metric.Meter, opts ...Option) (*Observer, error) {
	if meter == nil {
		return nil, ErrNilMeter
	}
	o := &Observer{}
	for _, opt := range opts {
		opt(&o.cfg)
	}
	in, err := newInstruments(meter)
	if err != nil {
		return nil, fmt.Errorf("dynamutexotel: creating instruments: %w", err)
	}
	o.in = in
	return o, nil
}

// Observe records ev. The Session calls it; it is not for callers.
func (o *Observer) Observe(ev dynamutex.Event) {
	ctx := context.Background()
	switch ev.Kind {
	case dynamutex.EventAcquired:
		o.acquired(ctx, ev)
	case dynamutex.EventReleased:
		o.ended(ctx, ev, HoldEndReleased)
	case dynamutex.EventLost:
		o.in.lost.Add(ctx, 1, o.lockAttrs(ev))
		o.ended(ctx, ev, HoldEndLost)
	case dynamutex.EventInDanger:
		o.in.inDanger.Add(ctx, 1, o.lockAttrs(ev))
		o.ended(ctx, ev, HoldEndInDanger)
	case dynamutex.EventClaimed:
		o.in.claims.Add(ctx, 1, o.lockAttrs(ev))
	case dynamutex.EventRenewalFailed:
		o.in.renewalFailures.Add(ctx, 1, o.lockAttrs(ev))
	case dynamutex.EventClockTrusted, dynamutex.EventClockUntrusted:
		trusted := attribute.Bool(AttrTrusted, ev.Kind == dynamutex.EventClockTrusted)
		o.in.clockChanges.Add(ctx, 1, metric.WithAttributes(trusted))
	}
}

func (o *Observer) acquired(ctx context.Context, ev dynamutex.Event) {
	how := o.lockAttrs(ev, attribute.String(AttrAcquiredHow, ev.How.String()))
	o.in.acquisitions.Add(ctx, 1, how)
	o.in.wait.Record(ctx, ev.Wait.Seconds(), how)
	held := o.lockAttrs(ev)
	o.holds.start(holdOf(ev), time.Now(), func() { o.in.held.Add(ctx, 1, held) })
}

// ended ends the hold of ev's lock, if it had not ended already.
func (o *Observer) ended(ctx context.Context, ev dynamutex.Event, end string) {
	held := o.lockAttrs(ev)
	since, ok := o.holds.end(holdOf(ev), func() { o.in.held.Add(ctx, -1, held) })
	if !ok {
		return
	}
	o.in.hold.Record(ctx, time.Since(since).Seconds(), o.lockAttrs(ev, attribute.String(AttrHoldEnd, end)))
}

func holdOf(ev dynamutex.Event) holdID {
	return holdID{key: ev.Key, sortKey: ev.SortKey, token: ev.Token}
}

// lockAttrs are the attributes of a per-lock measurement: extra, and the
// key and sort key with WithKeyAttribute.
func (o *Observer) lockAttrs(ev dynamutex.Event, extra ...attribute.KeyValue) metric.MeasurementOption {
	if o.cfg.keyAttribute {
		extra = append(extra, attribute.String(AttrKey, ev.Key))
		if ev.SortKey != "" {
			extra = append(extra, attribute.String(AttrSortKey, ev.SortKey))
		}
	}
	return metric.WithAttributes(extra...)
}
