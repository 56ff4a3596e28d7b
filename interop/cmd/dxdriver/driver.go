package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/cenkalti/backoff/v4"

	"github.com/dynamutex/dynamutex"
	"github.com/dynamutex/dynamutex/interop"
)

// sessionKey names a Session: like the other drivers' clients, one per
// table, lease, heartbeat and (here) format, so that a release or get must
// name the same four as the acquire it refers to.
type sessionKey struct {
	table            string
	lease, heartbeat int64
	refresh          int64
	format           string
}

// held is the lock of one key that this driver took last: its Mutex, and
// the lock context, kept after the release so that state can still say what
// ended it.
type held struct {
	m     *dynamutex.Mutex
	ctx   context.Context
	token uint64
	out   bool // released: Unlock has run
}

type driver struct {
	db       *dynamodb.Client
	owner    string
	sessions map[sessionKey]*dynamutex.Session
	locks    map[string]*held
	losses   *losses
}

func newDriver(db *dynamodb.Client, owner string) *driver {
	return &driver{db: db, owner: owner, sessions: map[sessionKey]*dynamutex.Session{}, locks: map[string]*held{},
		losses: &losses{}}
}

// handle runs one command; a failure is a reply, never an exit.
func (d *driver) handle(c interop.Command) interop.Reply {
	var r interop.Reply
	var err error
	switch c.Op {
	case "acquire", "try":
		r, err = d.acquire(c)
	case "release":
		r, err = d.release(c)
	case "state":
		r, err = d.state(c)
	case "get":
		r, err = d.get(c)
	case "list":
		r, err = d.list(c)
	case "sleep":
		time.Sleep(time.Duration(c.MS) * time.Millisecond)
		r.OK = true
	default:
		err = &refusal{"UnknownOp", "unknown op " + c.Op}
	}
	if err != nil {
		r = failure(err)
	}
	r.Op = c.Op
	if r.Key == "" {
		r.Key = c.Key
	}
	return r
}

// refusal is a failure of the driver's own, with its class name.
type refusal struct{ class, msg string }

func (e *refusal) Error() string { return e.msg }

// failure turns an error into a reply whose class is dynamutex's error kind.
func failure(err error) interop.Reply {
	r := interop.Reply{Error: err.Error(), Class: fmt.Sprintf("%T", err)}
	var ref *refusal
	var held *dynamutex.HeldError
	switch {
	case errors.As(err, &ref):
		r.Class = ref.class
	case errors.As(err, &held):
		r.Class, r.Owner, r.Client = "HeldError", held.Owner, held.Client
	case errors.Is(err, dynamutex.ErrLockLost):
		r.Class = "LockLost"
	case errors.Is(err, dynamutex.ErrCorruptRecord):
		r.Class = "CorruptRecord"
	case errors.Is(err, context.DeadlineExceeded):
		r.Class = "DeadlineExceeded"
	}
	return r
}

// session is the Session for c, opened at its first use.
func (d *driver) session(c interop.Command) (*dynamutex.Session, error) {
	k := sessionKey{c.Table, c.LeaseMS, c.HeartbeatMS, c.RefreshMS, c.Format}
	if s, ok := d.sessions[k]; ok {
		return s, nil
	}
	f, err := format(c.Format)
	if err != nil {
		return nil, err
	}
	opts := []dynamutex.Option{dynamutex.WithOwner(d.owner), dynamutex.WithFormat(f), dynamutex.WithObserver(d.losses),
		dynamutex.WithLeaseDuration(time.Duration(c.LeaseMS) * time.Millisecond),
		dynamutex.WithHeartbeatPeriod(time.Duration(c.HeartbeatMS) * time.Millisecond)}
	if c.RefreshMS > 0 {
		// A waiter reads the record every refresh_ms, as the other
		// clients poll with their refresh or retry period.
		every := time.Duration(c.RefreshMS) * time.Millisecond
		opts = append(opts, dynamutex.WithBackoff(func() backoff.BackOff { return backoff.NewConstantBackOff(every) }))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	s, err := dynamutex.NewSession(ctx, d.db, c.Table, opts...)
	if err != nil {
		return nil, err
	}
	d.sessions[k] = s
	return s, nil
}

func format(name string) (dynamutex.Format, error) {
	for _, f := range []dynamutex.Format{dynamutex.FormatNative, dynamutex.FormatJava, dynamutex.FormatPython} {
		if f.String() == name || name == "" {
			return f, nil
		}
	}
	return 0, &refusal{"BadFormat", fmt.Sprintf("format %q: want native, java or python", name)}
}

// mutex is the Mutex of c's key in c's Session, with c's sort key value if
// it names one (FormatPython's default is "-").
func (d *driver) mutex(c interop.Command) (*dynamutex.Mutex, error) {
	s, err := d.session(c)
	if err != nil {
		return nil, err
	}
	if c.Sort != "" {
		return s.NewMutex(c.Key, dynamutex.WithSortKeyValue(c.Sort)), nil
	}
	return s.NewMutex(c.Key), nil
}
