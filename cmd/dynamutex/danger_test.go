//go:build unix && dynamodblocal

package main

import (
	"io"
	"net"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
)

// TestUnreachableDynamoDBStopsCommand cuts a run off from DynamoDB while its
// command runs. Once no renewal has landed for the safe time (3/4 of the
// lease), the lock is in danger: the run must say so, stop its command and
// exit 76, although nobody took the lock over.
func TestUnreachableDynamoDBStopsCommand(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	proxy := newCutProxy(t, h.endpoint)
	ready, marker := h.path("ready"), h.path("marker")
	const script = `trap 'echo stopped > "$MARKER"; exit 3' TERM; touch "$READY"; while :; do sleep 0.05; done`
	p := h.start([]string{"READY=" + ready, "MARKER=" + marker},
		"run", "--endpoint", proxy.url(), "--table", h.table, "--key", "cut-off", "--lease", "1s", "--",
		"sh", "-c", script)
	waitFile(t, ready)
	proxy.cut()

	r := p.wait()
	if r.code != exitLost {
		t.Fatalf("exit %d, want %d: %s", r.code, exitLost, r)
	}
	if want := `dynamutex: lock "cut-off" in danger: no renewal confirmed within the safe time of 750ms`; !strings.Contains(r.stderr, want) {
		t.Errorf("stderr does not say %q: %s", want, r)
	}
	if b, err := os.ReadFile(marker); err != nil || strings.TrimSpace(string(b)) != "stopped" {
		t.Errorf("the command's TERM trap did not run (%v): %s", err, r)
	}
	if want := `dynamutex: could not release lock "cut-off": DynamoDB `; !strings.Contains(r.stderr, want) {
		t.Errorf("stderr does not report the failed release with %q: %s", want, r)
	}
	if strings.Contains(r.stderr, "the exit code is the command's") {
		t.Errorf("after a lock in danger, the failed release claims the exit code is the command's: %s", r)
	}
}

// TestUnreachableDynamoDBAtRelease cuts a run off from DynamoDB as its
// command ends: the failed release is reported in words, without the
// SDK's internals, and the exit code stays the command's.
func TestUnreachableDynamoDBAtRelease(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	proxy := newCutProxy(t, h.endpoint)
	ready, stop := h.path("ready"), h.path("stop")
	p := h.start([]string{"READY=" + ready, "STOP=" + stop},
		"run", "--endpoint", proxy.url(), "--table", h.table, "--key", "cut-at-end", "--lease", "4s", "--",
		"sh", "-c", `touch "$READY"; while [ ! -e "$STOP" ]; do sleep 0.02; done; exit 7`)
	waitFile(t, ready)
	proxy.cut()
	if err := os.WriteFile(stop, nil, 0o644); err != nil {
		t.Fatal(err)
	}

	r := p.wait()
	if r.code != 7 {
		t.Fatalf("exit %d, want the command's 7: %s", r.code, r)
	}
	for _, want := range []string{`dynamutex: could not release lock "cut-at-end": DynamoDB `,
		"stays until its lease of 4s runs out", "the exit code is the command's", "run with -v"} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("stderr does not say %q: %s", want, r)
		}
	}
	for _, internal := range []string{"operation error", "rate limit", "retry quota", "dial tcp"} {
		if strings.Contains(r.stderr, internal) {
			t.Errorf("stderr shows the SDK's %q without -v: %s", internal, r)
		}
	}
}

// TestUnreachableDynamoDBAtStart checks that a run that cannot reach
// DynamoDB at all exits 1 with the reason, without running its command.
func TestUnreachableDynamoDBAtStart(t *testing.T) {
	t.Parallel()
	h := &harness{t: t, dir: t.TempDir()}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := "http://" + ln.Addr().String() // nothing listens there once closed
	ln.Close()
	ran := h.path("ran")
	r := h.exec(nil, "run", "--endpoint", closed, "--key", "k", "--", "touch", ran)
	if r.code != exitFailure || !strings.Contains(r.stderr, "connection refused") {
		t.Errorf("want exit 1 and the reason: %s", r)
	}
	if _, err := os.Stat(ran); err == nil {
		t.Error("the command ran without the lock")
	}
}

// cutProxy forwards TCP connections to DynamoDB Local until cut, which
// closes the listener and every connection, as a network partition would
// (but faster: requests fail rather than hang).
type cutProxy struct {
	ln       net.Listener
	upstream string
	wg       sync.WaitGroup

	mu    sync.Mutex
	conns []net.Conn
	down  bool
}

// newCutProxy starts a proxy to the DynamoDB Local at endpoint; the test's
// cleanup cuts it.
func newCutProxy(t *testing.T, endpoint string) *cutProxy {
	t.Helper()
	u, err := url.Parse(endpoint)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &cutProxy{ln: ln, upstream: u.Host}
	p.wg.Add(1)
	go p.accept()
	t.Cleanup(p.cut)
	return p
}

// url is the proxy's endpoint.
func (p *cutProxy) url() string { return "http://" + p.ln.Addr().String() }

// accept forwards each new connection to a fresh upstream connection.
func (p *cutProxy) accept() {
	defer p.wg.Done()
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		u, err := net.Dial("tcp", p.upstream)
		if err != nil {
			c.Close()
			continue
		}
		if !p.track(c, u) {
			return
		}
		p.wg.Add(2)
		go p.pipe(c, u)
		go p.pipe(u, c)
	}
}

// track records conns so that cut can close them; it closes them at once
// and reports false if the proxy is already cut.
func (p *cutProxy) track(conns ...net.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.down {
		for _, c := range conns {
			c.Close()
		}
		return false
	}
	p.conns = append(p.conns, conns...)
	return true
}

// pipe copies one direction of a connection, and closes both ends when
// either does.
func (p *cutProxy) pipe(dst, src net.Conn) {
	defer p.wg.Done()
	_, _ = io.Copy(dst, src)
	dst.Close()
	src.Close()
}

// cut closes the listener and every connection, and waits for the proxy's
// goroutines. It is safe to call twice.
func (p *cutProxy) cut() {
	p.mu.Lock()
	p.down = true
	conns := p.conns
	p.conns = nil
	p.mu.Unlock()
	p.ln.Close()
	for _, c := range conns {
		c.Close()
	}
	p.wg.Wait()
}
