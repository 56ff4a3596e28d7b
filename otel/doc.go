// Package dynamutexotel records the lock metrics of a dynamutex Session with
// OpenTelemetry: acquisitions by how they came, wait and hold times, the
// locks held, and the losses, dangers, claims, renewal failures and
// clock-trust changes that say a lock is in trouble.
//
// It is a module of its own, so that the dynamutex module never depends on
// OpenTelemetry. Create an Observer from a Meter and hand it to the Session:
//
//	obs, err := dynamutexotel.New(otel.Meter("dynamutex"))
//	if err != nil { ... }
//	sess, err := dynamutex.NewSession(ctx, client, table, dynamutex.WithObserver(obs))
//
// One Observer may serve many Sessions: its instruments are created once,
// and the locks held are told apart by key, sort key and fencing token.
// The lock key is not an attribute unless WithKeyAttribute asks for it,
// because the keys of a service can be unbounded, and every key would make
// a time series of each instrument.
package dynamutexotel
