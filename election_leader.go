package dynamutex

import (
	"context"
	"fmt"
	"time"

	"github.com/dynamutex/dynamutex/internal/wire"
)

// LeaderInfo describes an election's leader as its record shows it.
type LeaderInfo struct {
	// Value is the leader's value: the one it campaigned with, or its
	// latest Proclaim.
	Value []byte
	// Owner is the leader's Session owner (WithOwner).
	Owner string
	// Token is the fencing token of the leadership: every new leader's is
	// greater than all earlier ones, and a Proclaim leaves it unchanged.
	Token uint64
	// Since is when the leadership began, by the leader's wall clock, in
	// whole milliseconds: when it sent the write that won (or, if that
	// write's reply was lost, the retry that found it landed).
	Since time.Time
	// Seq counts the leader's Proclaims: 0 for the value it campaigned
	// with. Within one Token it only grows.
	Seq uint64
}

// Leader returns the current leader with one strongly consistent read, or
// ErrNoLeader when the election's record is absent or released. A leader
// that died without resigning is still shown until its record is taken
// over: Leader makes one read and cannot tell a dead leader from a live
// one. Observe can, by watching the record for a lease, or, under
// WithClockBound, by its deadline. Leader never writes.
func (e *Election) Leader(ctx context.Context) (LeaderInfo, error) {
	if e.err != nil {
		return LeaderInfo{}, e.err
	}
	rec, ok, err := e.read(ctx)
	if err != nil {
		return LeaderInfo{}, err
	}
	if !ok || rec.released {
		return LeaderInfo{}, fmt.Errorf("%w in election %q", ErrNoLeader, e.name)
	}
	return leaderOf(e.m.id.key, rec)
}

// read fetches the election's record, whole, with one strongly consistent
// read; ok is false when there is none.
func (e *Election) read(ctx context.Context) (rec record, ok bool, err error) {
	s := e.m.s
	out, err := s.store.get(ctx, wire.Read(s.store.item(e.m.id)))
	if err != nil {
		return record{}, false, fmt.Errorf("dynamutex: election %q: %w", e.name, err)
	}
	if len(out.Item) == 0 {
		return record{}, false, nil
	}
	rec, err = decodeRecord(e.m.id.key, out.Item)
	if err == nil && rec.client != "" {
		err = &RecordError{Key: e.m.id.key, Attribute: "owner", Problem: "written by another lock client"}
	}
	return rec, err == nil, err
}
