package dynamutex_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/dynamutex/dynamutex"
	"github.com/dynamutex/dynamutex/internal/localdb"
)

// sendRecorder sits in front of a transport and tells onSend about every
// request as it is handed to the network: its operation, the lock key and
// the moment. The library's own send times are internal; this is the
// closest outside observer, and a little later than the library's, which
// is the safe side for a delay measured from a holder's last write.
type sendRecorder struct {
	next   http.RoundTripper
	onSend func(op, key string, at time.Time)
	// onDone, if set, hears how long the request took until its reply's
	// headers arrived.
	onDone func(op string, took time.Duration)
}

func (r *sendRecorder) RoundTrip(req *http.Request) (*http.Response, error) {
	at := time.Now()
	var raw []byte
	if req.Body != nil {
		var err error
		raw, err = io.ReadAll(req.Body)
		req.Body.Close()
		if err != nil {
			return nil, err
		}
		req.Body = io.NopCloser(bytes.NewReader(raw))
	}
	// Only the two fields that tell the operation and the key: decoding
	// the whole body into maps would be charged to CPU per renewal.
	var body struct {
		UpdateExpression string
		Key              map[string]struct{ S string }
	}
	_ = json.Unmarshal(raw, &body)
	op := opOther
	if target := req.Header.Get("X-Amz-Target"); strings.HasSuffix(target, ".UpdateItem") {
		op = classifyUpdate(body.UpdateExpression)
	}
	var key string
	for _, v := range body.Key {
		key = v.S
	}
	r.onSend(op, key, at)
	resp, err := r.next.RoundTrip(req)
	if r.onDone != nil {
		r.onDone(op, time.Since(at))
	}
	return resp, err
}

// takeoverOptions make a takeover fast: a 300 ms lease with renewals every
// 50 ms.
func takeoverOptions() []dynamutex.Option {
	return leaseOptions(300*time.Millisecond, 200*time.Millisecond, 50*time.Millisecond)
}

// BenchmarkTakeover crashes a holder and times the waiter that takes over.
// Per iteration a holder Session locks a fresh key, holds it for 0 to 120 ms
// (so that it has sent 0 to 2 renewals) and is Closed without Unlock, which
// leaves the record held as far as the table is concerned. A waiter Session,
// which starts polling right after, must take over no sooner than one lease
// after the holder's last write, which is the last acquire or renewal the
// holder's transport sent. ratio is (waiter's Lock returned − that send) /
// lease: never below 1 if the waiter is safe, near 1 if it is prompt. ns/op
// times only the waiter's Lock.
func BenchmarkTakeover(b *testing.B) {
	const lease = 300 * time.Millisecond
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	wc, table, waiter := setup(b, takeoverOptions()...)

	var (
		mu        sync.Mutex
		lastWrite = map[string]time.Time{}
	)
	rec := &sendRecorder{next: localdb.Transport(), onSend: func(op, key string, at time.Time) {
		if op == opAcquire || op == opRenew {
			mu.Lock()
			lastWrite[key] = at
			mu.Unlock()
		}
	}}
	hc := localdb.Client(localdb.Endpoint(b), rec, func(o *dynamodb.Options) { o.RetryMaxAttempts = 1 })

	ratios := make([]float64, 0, b.N)
	requests := 0
	b.ResetTimer()
	for i := range b.N {
		b.StopTimer()
		holder, err := dynamutex.NewSession(ctx, hc, table, takeoverOptions()...)
		if err != nil {
			b.Fatal(err)
		}
		key := fmt.Sprintf("takeover/%d", i)
		if _, err := holder.NewMutex(key).Lock(ctx); err != nil {
			b.Fatal(err)
		}
		time.Sleep(time.Duration(i%4) * 40 * time.Millisecond)
		// Close waits for renewals in flight, so the last send is final.
		if err := holder.Close(ctx); err != nil {
			b.Fatal(err)
		}
		mu.Lock()
		last := lastWrite[key]
		mu.Unlock()
		before := wc.count(opAcquire)
		b.StartTimer()

		wm := waiter.NewMutex(key)
		if _, err := wm.Lock(ctx); err != nil {
			b.Fatal(err)
		}
		took := time.Since(last)

		b.StopTimer()
		requests += wc.count(opAcquire) - before
		ratios = append(ratios, float64(took)/float64(lease))
		if err := wm.Unlock(ctx); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
	}
	b.StopTimer()
	b.ReportMetric(percentileF(ratios, 0), "min-ratio")
	b.ReportMetric(percentileF(ratios, 0.50), "p50-ratio")
	b.ReportMetric(percentileF(ratios, 1), "max-ratio")
	b.ReportMetric(float64(requests)/float64(b.N), "requests/takeover")
}
