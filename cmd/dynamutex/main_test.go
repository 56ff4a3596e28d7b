package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"go.uber.org/goleak"

	"github.com/dynamutex/dynamutex/internal/localdb"
)

// binary is the dynamutex binary that TestMain builds once for all tests.
var binary string

// TestMain builds the tool, runs the tests, and fails if any goroutine of
// the test process is left behind.
func TestMain(m *testing.M) {
	os.Exit(buildAndRun(m))
}

// buildAndRun is TestMain with deferred clean-up: it returns the exit code.
func buildAndRun(m *testing.M) int {
	dir, err := os.MkdirTemp("", "dynamutex-cli-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	binary = filepath.Join(dir, "dynamutex")
	args := []string{"build", "-o", binary}
	if raceEnabled {
		args = append(args, "-race")
	}
	if out, err := exec.Command("go", append(args, ".")...).CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "go build: %v\n%s", err, out)
		return 1
	}
	code := m.Run()
	if code == 0 {
		if err := goleak.Find(); err != nil {
			fmt.Fprintf(os.Stderr, "goleak: %v\n", err)
			return 1
		}
	}
	return code
}

// processTimeout is a safety net: no invocation in these tests should come
// anywhere near it.
const processTimeout = 60 * time.Second

// harness is one test's DynamoDB Local endpoint, fresh table and scratch
// directory.
type harness struct {
	t        *testing.T
	endpoint string
	table    string
	dir      string
}

// newHarness creates a fresh table for the test with the create-table
// subcommand. The end-to-end tests run the tool as a process of its own,
// which cannot reach the in-memory store, so they are in files built with
// the tag dynamodblocal (make test), and fail without DynamoDB Local: a
// skipped end-to-end test would let the tool rot unnoticed.
func newHarness(t *testing.T) *harness {
	t.Helper()
	ep := localdb.Endpoint(t)
	h := &harness{t: t, endpoint: ep, table: uniqueTable(t), dir: t.TempDir()}
	if r := h.exec(nil, "create-table", "--endpoint", ep, "--table", h.table); r.code != 0 {
		t.Fatalf("create-table: %s", r)
	}
	return h
}

// tableSeq makes table names unique within one run of the suite.
var tableSeq atomic.Int64

// unsafeChars are the characters a table or file name must not contain.
var unsafeChars = regexp.MustCompile(`[^a-zA-Z0-9_.-]`)

// uniqueTable names a table after the test, unique across concurrent runs
// of the suite against one DynamoDB Local.
func uniqueTable(t *testing.T) string {
	name := unsafeChars.ReplaceAllString(t.Name(), "_")
	if len(name) > 180 {
		name = name[:180]
	}
	return fmt.Sprintf("cli_%s_%d_%d", name, time.Now().UnixNano()%1e9, tableSeq.Add(1))
}

// path is a file in the test's scratch directory.
func (h *harness) path(name string) string { return filepath.Join(h.dir, name) }

// args prefixes a subcommand's arguments with the endpoint and the table,
// after the subcommand name, the form the documentation shows.
func (h *harness) args(sub string, rest ...string) []string {
	return append([]string{sub, "--endpoint", h.endpoint, "--table", h.table}, rest...)
}

// baseEnv is the environment of every invocation: the test's own, without
// anything that configures AWS or dynamutex, plus dummy credentials and a
// region so that the SDK never looks further (no instance metadata, no
// config files).
func baseEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "AWS_") || strings.HasPrefix(kv, "DYNAMUTEX_") {
			continue
		}
		env = append(env, kv)
	}
	// A binary built with -race sleeps a second at exit by default, for
	// reports from other threads; this suite runs it some hundred times.
	gorace := strings.TrimSpace(os.Getenv("GORACE") + " atexit_sleep_ms=0")
	return append(env, "GORACE="+gorace,
		"AWS_ACCESS_KEY_ID=test", "AWS_SECRET_ACCESS_KEY=test", "AWS_REGION=us-east-1",
		"AWS_EC2_METADATA_DISABLED=true",
		"AWS_CONFIG_FILE=/nonexistent/dynamutex-test", "AWS_SHARED_CREDENTIALS_FILE=/nonexistent/dynamutex-test",
	)
}

// result is how one invocation ended.
type result struct {
	args           []string
	code           int
	stdout, stderr string
	elapsed        time.Duration
}

// String shows everything about the invocation, for failure messages.
func (r result) String() string {
	return fmt.Sprintf("dynamutex %q: exit %d after %v\nstdout:\n%s\nstderr:\n%s", r.args, r.code, r.elapsed, r.stdout, r.stderr)
}

// exec runs the tool to completion with extra environment variables.
func (h *harness) exec(env []string, args ...string) result {
	h.t.Helper()
	return h.start(env, args...).wait()
}

// proc is a running invocation of the tool.
type proc struct {
	t      *testing.T
	cmd    *exec.Cmd
	cancel context.CancelFunc
	stdout *syncBuffer
	stderr *syncBuffer
	begin  time.Time
	done   chan struct{} // closed when the process has exited
	err    error         // from cmd.Wait, once done is closed
	once   sync.Once
	res    result
}

// start starts the tool in the background. If the test ends without
// waiting for it, the cleanup stops it with SIGTERM, which it forwards to
// its command, so that no process outlives the test.
func (h *harness) start(env []string, args ...string) *proc {
	h.t.Helper()
	return h.startProgram(env, binary, args...)
}

// startProgram is start for a program that runs the tool, such as a shell
// that sets up signal dispositions and then execs it.
func (h *harness) startProgram(env []string, program string, args ...string) *proc {
	h.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), processTimeout)
	cmd := exec.CommandContext(ctx, program, args...)
	cmd.Env = append(baseEnv(), env...)
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
	cmd.WaitDelay = 10 * time.Second // then SIGKILL
	p := &proc{t: h.t, cmd: cmd, cancel: cancel, stdout: &syncBuffer{}, stderr: &syncBuffer{}, done: make(chan struct{})}
	cmd.Stdout, cmd.Stderr = p.stdout, p.stderr
	p.begin = time.Now()
	if err := cmd.Start(); err != nil {
		cancel()
		h.t.Fatalf("start %v: %v", args, err)
	}
	go func() {
		p.err = cmd.Wait()
		close(p.done)
	}()
	h.t.Cleanup(func() {
		p.cancel()
		p.wait()
	})
	return p
}

// wait waits for the invocation to end and checks that it never printed a
// Go stack trace, whatever its exit code.
func (p *proc) wait() result {
	<-p.done
	p.once.Do(func() {
		p.cancel()
		p.res = result{args: p.cmd.Args[1:], code: p.cmd.ProcessState.ExitCode(),
			stdout: p.stdout.String(), stderr: p.stderr.String(), elapsed: time.Since(p.begin)}
		if p.res.code < 0 {
			p.t.Errorf("dynamutex did not exit normally: %v\n%s", p.err, p.res)
		}
		if strings.Contains(p.res.stderr, "goroutine ") || strings.Contains(p.res.stderr, "panic:") {
			p.t.Errorf("stack trace on stderr:\n%s", p.res)
		}
	})
	return p.res
}

// signal sends sig to the dynamutex process.
func (p *proc) signal(sig os.Signal) {
	p.t.Helper()
	if err := p.cmd.Process.Signal(sig); err != nil {
		p.t.Fatalf("signal %v: %v", sig, err)
	}
}

// waitStderr waits until the invocation's stderr contains s.
func (p *proc) waitStderr(s string) {
	p.t.Helper()
	deadline := time.After(processTimeout / 2)
	for !strings.Contains(p.stderr.String(), s) {
		select {
		case <-p.done:
			p.t.Fatalf("exited before stderr contained %q:\n%s", s, p.wait())
		case <-deadline:
			p.t.Fatalf("stderr never contained %q:\n%s", s, p.stderr.String())
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// syncBuffer is a bytes.Buffer that a test can read while os/exec writes to
// it.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

// Write appends p; os/exec calls it from its copying goroutine.
func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// String returns what was written so far.
func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// waitFile waits until path exists, failing the test after a generous
// timeout, and returns its content.
func waitFile(t *testing.T, path string) string {
	t.Helper()
	deadline := time.Now().Add(processTimeout / 2)
	for {
		b, err := os.ReadFile(path)
		if err == nil {
			return string(b)
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s never appeared", path)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// holdScript is a child that signals it runs by creating $READY, then holds
// the lock until the test creates $STOP.
const holdScript = `echo "$DYNAMUTEX_TOKEN" > "$READY.tmp" && mv "$READY.tmp" "$READY"; ` +
	`while [ ! -e "$STOP" ]; do sleep 0.05; done`

// holder is a `dynamutex run` holding a key until released.
type holder struct {
	*proc
	ready, stop string
	token       string // the holder's DYNAMUTEX_TOKEN
}

// hold starts a run on key that holds it until release, and waits until its
// command runs.
func (h *harness) hold(key string, extra ...string) *holder {
	h.t.Helper()
	name := unsafeChars.ReplaceAllString(key, "_")
	ho := &holder{ready: h.path(name + ".ready"), stop: h.path(name + ".stop")}
	args := h.args("run", append(append([]string{"--key", key}, extra...), "--", "sh", "-c", holdScript)...)
	ho.proc = h.start([]string{"READY=" + ho.ready, "STOP=" + ho.stop}, args...)
	ho.token = strings.TrimSpace(waitFile(h.t, ho.ready))
	return ho
}

// release lets the holder's command exit and waits for the run to end.
func (ho *holder) release() result {
	ho.t.Helper()
	if err := os.WriteFile(ho.stop, nil, 0o644); err != nil {
		ho.t.Fatal(err)
	}
	r := ho.wait()
	if r.code != 0 {
		ho.t.Errorf("holder: %s", r)
	}
	return r
}

// sdk returns a DynamoDB client for the test to read and tamper with the
// table directly. Keep-alives are off so that no connection goroutine
// outlives the test for goleak to find.
func (h *harness) sdk() *dynamodb.Client {
	tr := &http.Transport{DisableKeepAlives: true}
	h.t.Cleanup(tr.CloseIdleConnections)
	return localdb.Client(h.endpoint, tr, func(o *dynamodb.Options) { o.DisableValidateResponseChecksum = true })
}

// status reads the record of key with `status --json`.
func (h *harness) status(key string) lockView {
	h.t.Helper()
	r := h.exec(nil, h.args("status", "--json", key)...)
	if r.code != 0 {
		h.t.Fatalf("status: %s", r)
	}
	var v lockView
	if err := json.Unmarshal([]byte(r.stdout), &v); err != nil {
		h.t.Fatalf("status --json: %v: %s", err, r)
	}
	return v
}

// steal overwrites the record of key as a process that took the lock over
// would: another owner and version, and a higher token. It returns the
// token. The layout is the library's (heldRecord in helpers_test.go).
func (h *harness) steal(key, owner string) uint64 {
	h.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c := h.sdk()
	out, err := c.GetItem(ctx, &dynamodb.GetItemInput{
		TableName:      aws.String(h.table),
		Key:            map[string]types.AttributeValue{"key": &types.AttributeValueMemberS{Value: key}},
		ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		h.t.Fatal(err)
	}
	n, ok := out.Item["token"].(*types.AttributeValueMemberN)
	if !ok {
		h.t.Fatalf("record of %q has no token: %v", key, out.Item)
	}
	token, err := strconv.ParseUint(n.Value, 10, 64)
	if err != nil {
		h.t.Fatal(err)
	}
	token += 1000
	h.put(map[string]types.AttributeValue{
		"key":      &types.AttributeValueMemberS{Value: key},
		"owner":    &types.AttributeValueMemberS{Value: owner},
		"version":  &types.AttributeValueMemberS{Value: "stolen-by-the-test"},
		"token":    &types.AttributeValueMemberN{Value: strconv.FormatUint(token, 10)},
		"lease_ms": &types.AttributeValueMemberN{Value: "60000"},
		"released": &types.AttributeValueMemberBOOL{Value: false},
	})
	return token
}

// put writes item into the test's table as it is.
func (h *harness) put(item map[string]types.AttributeValue) {
	h.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := h.sdk().PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(h.table), Item: item}); err != nil {
		h.t.Fatal(err)
	}
}
