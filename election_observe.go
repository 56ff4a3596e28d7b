package dynamutex

import (
	"context"
	"errors"
	"iter"
	"time"

	"github.com/cenkalti/backoff/v4"
)

// LeaderEventKind says what a LeaderEvent reports.
type LeaderEventKind int

const (
	// LeaderElected: a leader with a greater Token than any reported
	// before, or the first leader Observe reads.
	LeaderElected LeaderEventKind = iota + 1
	// LeaderProclaimed: the same leader (the same Token) with a new value,
	// and a greater Seq.
	LeaderProclaimed
	// LeaderNone: nobody leads. The record is absent or released, or its
	// leader lapsed: Observe watched its record unchanged for its lease,
	// or, under WithClockBound, its deadline passed; for a leader under
	// WithSessionLease, the same of its Session record, or that record is
	// revoked or gone. A lapsed leader's own Campaign context has ended by
	// then (its safe time ran out first).
	LeaderNone
)

// String names the kind.
func (k LeaderEventKind) String() string {
	switch k {
	case LeaderElected:
		return "elected"
	case LeaderProclaimed:
		return "proclaimed"
	case LeaderNone:
		return "no leader"
	}
	return "unknown"
}

// LeaderEvent is one change Observe reports.
type LeaderEvent struct {
	Kind LeaderEventKind
	// Leader is the leader for LeaderElected and LeaderProclaimed, and
	// the zero LeaderInfo for LeaderNone.
	Leader LeaderInfo
}

// Observe reports the election's leadership as it changes: first the
// current state, then each new leader, proclamation and lapse, read with
// strongly consistent reads paced by the Session's backoff (WithBackoff;
// about one read a second at the defaults, sooner when a lapse is due).
// Leader events come in strictly increasing (Token, Seq) order, each the
// latest record read, none repeated; LeaderNone comes between two leaders
// when leadership lapsed in between, and reads that changed nothing
// report nothing. Observe never writes: it takes no lock over, revokes
// nothing, claims nothing.
//
// A leader that campaigned under WithSessionLease leaves its record
// unchanged while it lives, so Observe watches that leader's Session
// record instead, as a waiting Campaign does: one more read when it first
// meets the Session, and then about one a lease.
//
// The iteration ends, yielding nothing more, when ctx ends, the Session
// closes or the loop breaks. A transient request failure is retried
// silently; a persistent one (a missing table, no permission, a damaged
// record) is yielded once, and the iteration ends.
func (e *Election) Observe(ctx context.Context) iter.Seq2[LeaderEvent, error] {
	return func(yield func(LeaderEvent, error) bool) {
		if e.err != nil {
			yield(LeaderEvent{}, e.err)
			return
		}
		s := e.m.s
		o := &observer{e: e}
		bo := s.cfg.newBackoff()
		for {
			ev, ok, err := o.poll(ctx)
			switch {
			case err != nil && ctx.Err() != nil:
				return
			case err != nil && persistent(err):
				yield(LeaderEvent{}, err)
				return
			case ok:
				if !yield(ev, nil) {
					return
				}
				bo.Reset()
			}
			d := bo.NextBackOff()
			if d == backoff.Stop {
				bo.Reset()
				d = bo.NextBackOff()
			}
			if s.sleep(ctx, o.capSleep(d)) != nil {
				return
			}
		}
	}
}

// persistent reports an error that reading again would only repeat.
func persistent(err error) bool {
	return errors.Is(err, ErrCorruptRecord) || classify(err) == kindFatal
}

// observer is what Observe remembers between reads.
type observer struct {
	e       *Election
	started bool   // an event was yielded
	none    bool   // the last event was LeaderNone
	token   uint64 // the last leader yielded
	seq     uint64
	// The record version being watched, since when (reply time of the
	// first read that showed it), and the lease it asks for.
	rec  record
	seen time.Time
}

// poll makes one read and says what event, if any, it makes.
func (o *observer) poll(ctx context.Context) (LeaderEvent, bool, error) {
	s := o.e.m.s
	actx, cancel := context.WithTimeout(ctx, s.cfg.attemptTimeout())
	rec, ok, err := o.e.read(actx)
	cancel()
	if err != nil {
		return LeaderEvent{}, false, err
	}
	now := time.Now()
	if !ok || rec.released {
		o.rec = record{}
		return o.noLeader()
	}
	if rec.version != o.rec.version {
		o.seen = now
	}
	o.rec = rec
	lapsed := now.Sub(o.seen) >= rec.lease || s.store.takeableByClock(rec)
	if rec.session != "" {
		// Held under a session lease: the record never changes while
		// its leader lives, and lapses with the Session record.
		if lapsed, err = o.sessionLapsed(ctx, rec.session); err != nil {
			return LeaderEvent{}, false, err
		}
	}
	if lapsed {
		return o.noLeader()
	}
	info, err := leaderOf(o.e.m.id.key, rec)
	if err != nil {
		return LeaderEvent{}, false, err
	}
	if o.started && (info.Token < o.token || info.Token == o.token && info.Seq <= o.seq) {
		return LeaderEvent{}, false, nil // nothing newer than what was reported
	}
	kind := LeaderElected
	if o.started && !o.none && info.Token == o.token {
		kind = LeaderProclaimed
	}
	o.started, o.none, o.token, o.seq = true, false, info.Token, info.Seq
	return LeaderEvent{Kind: kind, Leader: info}, true, nil
}

func (o *observer) noLeader() (LeaderEvent, bool, error) {
	if o.started && o.none {
		return LeaderEvent{}, false, nil
	}
	o.started, o.none = true, true
	return LeaderEvent{Kind: LeaderNone}, true, nil
}

// capSleep shortens a pause so that the next read comes no later than the
// watched leader can lapse, as a waiter's does.
func (o *observer) capSleep(d time.Duration) time.Duration {
	if o.rec.version == "" || o.none {
		return d
	}
	return o.e.m.s.capSleepFor(o.rec, observation{version: o.rec.version, seen: o.seen, lease: o.rec.lease}, d)
}
