package dynamutex

import (
	"bytes"
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/cenkalti/backoff/v4"

	"github.com/dynamutex/dynamutex/internal/wire"
)

// Proclaim changes the leader's value without a new election: one
// conditional write on the leader's current record version and token,
// which renews the lease as a heartbeat does and bumps the proclamation
// sequence, never the token, so observers see a proclamation of the same
// leader. It waits for a renewal of the lease in flight, and the
// heartbeat waits for it. A write whose reply was lost is recognised by
// the version it wrote when retried, as renewals are.
//
// Under WithSessionLease, where the Session record's renewals keep the
// record, Proclaim renews nothing: its one write sets the data and a
// fresh lock version, conditioned on the record's lock version, Session
// and token, and a lost reply is recognised by that lock version. It is
// not conditioned on the Session record: a leader whose Session was
// revoked may still proclaim until someone takes the record (its Campaign
// context has been in danger since before the revocation).
//
// It returns ErrNotLeader if the Election does not lead, and a *LostError
// (ErrLockLost) if leadership was lost: the record had been taken over,
// released or changed, or the Session revoked. If ctx ends while a write's
// outcome is unknown, Proclaim returns ctx's cause and the value may or
// may not have been published; the lease stays sound either way (the
// heartbeat settles it; under a session lease Resign and the next Proclaim
// do), and calling Proclaim again settles the value.
func (e *Election) Proclaim(ctx context.Context, value []byte) error {
	if err := e.checkValue(value); err != nil {
		return err
	}
	l := e.m.lease.Load()
	if l == nil {
		return ErrNotLeader
	}
	l.lockWrites()
	defer l.unlockWrites()
	e.mu.Lock()
	e.seq++
	data := encodeEnvelope(e.since, e.seq, value)
	e.mu.Unlock()
	var bo backoff.BackOff
	for {
		done, err := e.proclaimOnce(ctx, l, data)
		if done {
			return err
		}
		if err == nil {
			continue // a renewal landed in our place: write again at once
		}
		if ctx.Err() != nil {
			return fmt.Errorf("dynamutex: proclaim %q: outcome unknown: %w", e.name, context.Cause(ctx))
		}
		if bo == nil {
			bo = l.m.s.renewBackoff()
		}
		if err := l.m.s.sleep(ctx, bo.NextBackOff()); err != nil {
			return fmt.Errorf("dynamutex: proclaim %q: outcome unknown: %w", e.name, err)
		}
	}
}

// proclaimOnce makes one write of data as a renewal round of l, and
// reports whether Proclaim is done, with what. An in-doubt renewal's round
// is reused, so that the record has only ever one version in doubt.
// Called with l.writing held.
func (e *Election) proclaimOnce(ctx context.Context, l *Lease, data []byte) (bool, error) {
	switch l.state.Load() {
	case stateLost:
		return true, l.lost
	case stateReleased:
		return true, ErrNotLeader
	}
	s := l.m.s
	sent := time.Now()
	req := l.nextAttempt(sent)
	actx, cancel := context.WithTimeout(ctx, s.cfg.heartbeat)
	err := s.store.proclaim(actx, req, l.token, data)
	cancel()
	found, failed := l.settle(err, sent)
	switch {
	case failed && classify(err) == kindFatal:
		return true, fmt.Errorf("dynamutex: proclaim %q: %w", e.name, err)
	case failed:
		return false, err
	case l.state.Load() == stateLost:
		return true, l.lost
	case found != nil:
		// An earlier write of this round landed unheard: ours, or a
		// renewal's, which left the old value.
		got, _ := dataAttr(found)
		return bytes.Equal(got, data), nil
	}
	return true, nil
}

// proclaim makes one Proclaim write: wire.Proclaim, or under a session
// lease wire.LeasedProclaim, whose r.cur and r.next are lock versions. It
// fails with a *conditionFailed when the record is at none of r.cur or has
// another token (or, under a session lease, names another Session).
func (s *store) proclaim(ctx context.Context, r replaceReq, token uint64, data []byte) error {
	var in *dynamodb.UpdateItemInput
	if s.session != "" {
		in = wire.LeasedProclaim(wire.LeasedProclaimArgs{Item: s.item(r.id), Session: s.session, Current: r.cur,
			Next: r.next, SentMS: s.clock.stampNow(0).Sent, Token: token, Data: data})
	} else {
		in = wire.Proclaim(wire.ProclaimArgs{
			ReplaceArgs: wire.ReplaceArgs{Item: s.item(r.id), Current: r.cur, Next: r.next,
				Expires: time.Now().Add(s.expiry), Stamp: s.clock.stampNow(s.lease)},
			Token: token, Data: data,
		})
	}
	_, err := s.update(ctx, in)
	return asConditionFailed(err)
}
