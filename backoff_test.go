package dynamutex_test

import (
	"time"

	"github.com/cenkalti/backoff/v4"
)

type backoffPolicy = backoff.BackOff

func constant(d time.Duration) backoff.BackOff { return backoff.NewConstantBackOff(d) }
