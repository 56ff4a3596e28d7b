package dynamutexotel

// An Option configures New.
type Option func(*config)

type config struct {
	keyAttribute bool
}

// WithKeyAttribute adds the lock key to every per-lock measurement as the
// attribute dynamutex.key, and a non-empty sort key as dynamutex.sort_key.
// It is off by default: use it only when the keys are few and known, since
// every key makes a time series of each instrument.
func WithKeyAttribute() Option {
	return func(c *config) { c.keyAttribute = true }
}
