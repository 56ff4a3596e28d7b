package chaos

import (
	"context"
	"fmt"
	"time"

	"github.com/dynamutex/dynamutex"
	"github.com/dynamutex/dynamutex/internal/wire"
)

// Election runs (-election). Every goroutine of every worker campaigns on
// one election (Session.NewElection), leads for a while doing the same
// fenced and guarded ledger writes as a lock holder, with Proclaims
// between them, then resigns, unless a kill or pause ends its leadership
// first. Leadership is the election record's lock, so the checker's lock
// rules judge it unchanged: two leaders at once is an overlap of two
// acquisitions of that record beyond what the lease allows, and every
// ledger write is fenced by the leadership's token. A Proclaim is, on the
// wire, a renewal that also writes data (wire.Proclaim, or under a session
// lease wire.LeasedProclaim, which moves the lock version), and the
// checker follows it in the record's chain of versions as one. With
// -session-lease the session-lease workers hold the record under their
// Session's lease, and the Session checks judge its takeovers.

// ElectionName is the name of the run's one election.
const ElectionName = "chaos"

// ElectionKey is the lock key of its record, as the transport logs it.
const ElectionKey = wire.ElectionKeyPrefix + ElectionName

// KindProclaim: a leader's Proclaim returned; OK when it landed, else
// Cause is its error class. Token is the leadership's.
const KindProclaim = "proclaim"

// lead is one term of a goroutine of an election run: campaign, lead,
// resign.
func (h *holder) lead(ctx context.Context) {
	sess := h.sess.current()
	e := sess.NewElection(ElectionName)
	start := time.Now().UnixNano()
	lctx, err := e.Campaign(ctx, []byte(fmt.Sprintf("proc-%d/g-%d", h.cfg.Proc, h.g)))
	if err != nil {
		h.failed(ctx, sess, Event{Key: ElectionKey, Start: start, Cause: errClass(err)}, err)
		return
	}
	h.serve(term{key: ElectionKey, lctx: lctx, start: start, release: e.Resign, most: 4,
		between: func(tok uint64, n int) {
			if h.rng.IntN(2) == 0 {
				h.proclaim(e, tok, n)
			}
		}})
}

// proclaim publishes a new value of the leadership tok and logs the outcome.
func (h *holder) proclaim(e *dynamutex.Election, tok uint64, n int) {
	ctx, cancel := context.WithTimeout(context.Background(), h.cfg.Lease)
	defer cancel()
	start := time.Now().UnixNano()
	err := e.Proclaim(ctx, []byte(fmt.Sprintf("proc-%d/g-%d/%d", h.cfg.Proc, h.g, n)))
	h.log.Add(Event{Kind: KindProclaim, G: h.g, Key: ElectionKey, Token: tok, Start: start, OK: err == nil,
		Cause: errClass(err)})
}
