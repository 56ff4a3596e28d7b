package dynamutexotel

import (
	"errors"

	"go.opentelemetry.io/otel/metric"
)

// The default bucket boundaries, in seconds. OpenTelemetry's own defaults
// (0 to 10000) suit milliseconds, not seconds. A wait is a few
// milliseconds uncontended and a lease (20 s by default) after a crash;
// a hold can last as long as the work. A View overrides them.
var (
	waitBuckets = []float64{0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 30, 60, 120, 300}
	holdBuckets = []float64{0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60, 300, 600, 1800, 3600, 7200, 21600, 86400}
)

// instruments are the Observer's instruments, created once.
type instruments struct {
	acquisitions    metric.Int64Counter
	wait            metric.Float64Histogram
	hold            metric.Float64Histogram
	held            metric.Int64UpDownCounter
	lost            metric.Int64Counter
	inDanger        metric.Int64Counter
	claims          metric.Int64Counter
	renewalFailures metric.Int64Counter
	clockChanges    metric.Int64Counter
}

// newInstruments creates the instruments on meter. It gathers the errors
// rather than stopping at the first: a meter refuses only what it cannot
// take, and the caller should see all of it.
func newInstruments(meter metric.Meter) (instruments, error) {
	var in instruments
	var errs []error
	counter := func(name, unit, desc string) metric.Int64Counter {
		c, err := meter.Int64Counter(name, metric.WithUnit(unit), metric.WithDescription(desc))
		errs = append(errs, err)
		return c
	}
	histogram := func(name, desc string, buckets []float64) metric.Float64Histogram {
		h, err := meter.Float64Histogram(name, metric.WithUnit("s"), metric.WithDescription(desc),
			metric.WithExplicitBucketBoundaries(buckets...))
		errs = append(errs, err)
		return h
	}
	in.acquisitions = counter(MetricAcquisitions, "{acquisition}", "Locks taken, by how they came.")
	in.wait = histogram(MetricWaitDuration, "Time from a Lock or TryLock call to the grant.", waitBuckets)
	in.hold = histogram(MetricHoldDuration, "Time from a grant until the lock was released, lost or in danger.", holdBuckets)
	held, err := meter.Int64UpDownCounter(MetricHeld, metric.WithUnit("{lock}"),
		metric.WithDescription("Locks held now: granted and not yet released, lost or in danger."))
	errs = append(errs, err)
	in.held = held
	in.lost = counter(MetricLost, "{lock}", "Locks whose record was found changed behind the holder.")
	in.inDanger = counter(MetricInDanger, "{lock}", "Locks with no renewal confirmed within the safe time.")
	in.claims = counter(MetricClaims, "{claim}", "Lock calls that waited long enough to claim the next turn.")
	in.renewalFailures = counter(MetricRenewalFailures, "{request}", "Renewal requests that failed and were retried.")
	in.clockChanges = counter(MetricClockChanges, "{change}", "Changes of a Session's trust in its clock (WithClockBound).")
	return in, errors.Join(errs...)
}
