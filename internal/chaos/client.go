package chaos

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"math/rand/v2"
	"slices"
	"time"
)

// clientConfig is one client worker's share of a mixed run: the same keys,
// lease and waits as the dynamutex workers.
type clientConfig struct {
	client  string // "java" or "python"
	table   string
	keys    int
	lease   time.Duration
	wait    time.Duration // the client's own wait, on top of which Java waits one lease
	hold    time.Duration
	refresh time.Duration // how often a waiting client polls
}

// clientPoll is how often a Python holder's own status is read while it
// holds: well within the margin between its danger and any takeover.
const clientPoll = 100 * time.Millisecond

// clientWorker drives one process of the real Java or Python lock client
// through its interop driver, as a dynamutex worker's goroutine works:
// acquire a random key (the client's own blocking wait), hold it a short
// random time, release it, over and over. It logs the lock events as the
// client's process (its Proc). The client has no fencing token and the
// driver no ledger write, so its holds are checked by their intervals: the
// checker's overlap and takeover checks cover them.
type clientWorker struct {
	cfg   clientConfig
	log   *Log
	rng   *rand.Rand
	stdin io.Writer
	lines <-chan []byte // the driver's replies; closed when it exits
	turn  uint64
}

// driverReply is what the worker reads of a driver's reply.
type driverReply struct {
	OK     bool     `json:"ok"`
	Op     string   `json:"op"`
	Owner  string   `json:"owner"`
	Class  string   `json:"class"`
	Code   string   `json:"code"`
	Status string   `json:"status"`
	Events []string `json:"events"`
	TNS    int64    `json:"t_ns"`
}

// readLines passes the driver's stdout on, line by line, and closes lines
// when it ends.
func readLines(out io.Reader, lines chan<- []byte) {
	defer close(lines)
	sc := bufio.NewScanner(out)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		lines <- append([]byte(nil), sc.Bytes()...)
	}
}

// run works until ctx ends or the driver dies (killed), then asks a live
// driver to exit, leaving nothing held: the last turn releases first.
func (c *clientWorker) run(ctx context.Context) {
	r, ok := c.next()
	if !ok || !r.OK || r.Op != "ready" {
		return
	}
	c.log.Add(Event{Kind: KindReady, At: r.TNS, Client: c.cfg.client, Cause: r.Owner})
	for ctx.Err() == nil {
		if !c.once(ctx) {
			return
		}
		sleepCtx(ctx, time.Duration(c.rng.Int64N(int64(c.cfg.hold)/4+1)))
	}
	_ = c.send(map[string]any{"op": "exit"})
}

// once is one turn: acquire, hold, release. It returns false once the
// driver is gone.
func (c *clientWorker) once(ctx context.Context) bool {
	key := KeyName(c.rng.IntN(c.cfg.keys))
	start := time.Now().UnixNano()
	r, ok := c.call(c.command("acquire", key))
	if !ok {
		return false
	}
	if !r.OK {
		c.log.Add(Event{Kind: KindLockFailed, At: r.TNS, Start: start, Key: key, Client: c.cfg.client, Cause: acquireFailure(r)})
		return true
	}
	c.turn++
	c.log.Add(Event{Kind: KindAcquired, At: r.TNS, Start: start, Key: key, Client: c.cfg.client, Turn: c.turn})
	if !c.hold(ctx, key) {
		return false
	}
	// The release lands between its command and the driver's reply; the
	// checker needs the first, as a waiter may acquire before the reply.
	sent := time.Now().UnixNano()
	if r, ok = c.call(c.command("release", key)); !ok {
		return false
	}
	c.log.Add(Event{Kind: KindReleased, At: r.TNS, Start: sent, Key: key, Client: c.cfg.client, Turn: c.turn,
		Cause: releaseResult(r)})
	return true
}

// hold keeps the lock a random short time, and one turn in five up to two
// leases, so that heartbeats happen while it holds. A Python holder reads
// its client's status as it holds and stops at danger or loss, as a
// dynamutex holder's context would end; the Java client gives no such
// signal (the driver sets no session monitor). It returns false once the
// driver is gone.
func (c *clientWorker) hold(ctx context.Context, key string) bool {
	limit := 3 * c.cfg.hold
	if c.rng.IntN(5) == 0 {
		limit = 2 * c.cfg.lease
	}
	end := time.Now().Add(time.Duration(c.rng.Int64N(int64(limit) + 1)))
	stalled := false
	for {
		left := time.Until(end)
		if left <= 0 || ctx.Err() != nil {
			break
		}
		if c.cfg.client != "python" {
			sleepCtx(ctx, left)
			continue
		}
		sleepCtx(ctx, min(left, clientPoll))
		sent := time.Now()
		told, ok := c.told(key)
		if !ok || told {
			return ok
		}
		stalled = stalled || time.Since(sent) > c.cfg.lease/4
	}
	if !stalled {
		return true
	}
	// A driver resumed from a pause answers the state read at once, before
	// its heartbeat thread has run and found what the pause cost it; its
	// release is then a no-op. Read again a heartbeat period later.
	time.Sleep(c.cfg.lease / 4)
	_, ok := c.told(key)
	return ok
}

// told reads a Python holder's status and logs the end of its hold if the
// client says it is in danger or lost. ok is false once the driver is gone.
func (c *clientWorker) told(key string) (told, ok bool) {
	r, ok := c.call(map[string]any{"op": "state", "key": key})
	if !ok {
		return false, false
	}
	cause := pythonNotice(r)
	if cause != "" {
		c.log.Add(Event{Kind: KindCancelled, At: r.TNS, Key: key, Client: c.cfg.client, Turn: c.turn, Cause: cause})
	}
	return cause != "", true
}

// command is an acquire or release of key with the run's settings: a
// driver keeps one client per table, lease and heartbeat, so both name
// the same three.
func (c *clientWorker) command(op, key string) map[string]any {
	lease := c.cfg.lease.Milliseconds()
	cmd := map[string]any{"op": op, "table": c.cfg.table, "key": key,
		"lease_ms": lease, "heartbeat_ms": lease / 4, "safe_ms": SafeTime(c.cfg.lease).Milliseconds()}
	if op == "acquire" {
		cmd["wait_ms"], cmd["refresh_ms"] = c.cfg.wait.Milliseconds(), c.cfg.refresh.Milliseconds()
	}
	return cmd
}

// call sends cmd and reads its reply; false if the driver is gone.
func (c *clientWorker) call(cmd map[string]any) (driverReply, bool) {
	if c.send(cmd) != nil {
		return driverReply{}, false
	}
	return c.next()
}

func (c *clientWorker) send(cmd map[string]any) error {
	b, err := json.Marshal(cmd)
	if err != nil {
		return err
	}
	_, err = c.stdin.Write(append(b, '\n'))
	return err
}

// next reads the driver's next reply. A line that is not one means the
// driver is broken: the worker stops, and its exit shows in the log.
func (c *clientWorker) next() (driverReply, bool) {
	line, ok := <-c.lines
	if !ok {
		return driverReply{}, false
	}
	var r driverReply
	if json.Unmarshal(line, &r) != nil {
		return driverReply{}, false
	}
	return r, true
}

// pythonNotice names what python-dynamodb-lock told a holder of its lock:
// CauseLost once a heartbeat found it taken (INVALID, LOCK_STOLEN),
// CauseDanger once its safe period passed unconfirmed, "" for neither.
func pythonNotice(r driverReply) string {
	switch {
	case r.Status == "INVALID" || slices.Contains(r.Events, "LOCK_STOLEN"):
		return CauseLost
	case r.Status == "IN_DANGER" || slices.Contains(r.Events, "LOCK_IN_DANGER"):
		return CauseDanger
	}
	return ""
}

// acquireFailure names a failed acquire as the dynamutex workers name a
// failed Lock: CauseWaited when the client's own wait ran out.
func acquireFailure(r driverReply) string {
	if r.Class == "LockNotGrantedException" || r.Code == "ACQUIRE_TIMEOUT" {
		return CauseWaited
	}
	return "error: " + r.Class + " " + r.Code
}

// releaseResult names a release's outcome as Unlock's: "" when it
// released, CauseLost when the lock had been taken (Java's release
// returned false; Python's conditional delete failed).
func releaseResult(r driverReply) string {
	switch {
	case r.OK:
		return ""
	case r.Class == "NotReleased" || r.Code == "LOCK_STOLEN":
		return CauseLost
	}
	return "error: " + r.Class + " " + r.Code
}
