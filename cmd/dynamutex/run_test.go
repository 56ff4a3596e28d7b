//go:build dynamodblocal

package main

import (
	"os"
	"strconv"
	"strings"
	"testing"
)

// TestRunSerializes runs three commands on one key at once. Each appends a
// start line with its token, sleeps, and appends an end line: the file must
// show the runs one after the other, with tokens that grow.
func TestRunSerializes(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	log := h.path("log")
	const script = `echo "start $DYNAMUTEX_TOKEN" >> "$LOG"; sleep 0.3; echo end >> "$LOG"`
	var procs []*proc
	for range 3 {
		procs = append(procs, h.start([]string{"LOG=" + log},
			h.args("run", "--key", "shared", "--lease", "2s", "--wait", "30s", "--", "sh", "-c", script)...))
	}
	for _, p := range procs {
		if r := p.wait(); r.code != 0 {
			t.Fatalf("run: %s", r)
		}
	}
	b, err := os.ReadFile(log)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	if len(lines) != 6 {
		t.Fatalf("want 6 lines, got:\n%s", b)
	}
	var last uint64
	for i := 0; i < len(lines); i += 2 {
		f := strings.Fields(lines[i])
		if len(f) != 2 || f[0] != "start" || lines[i+1] != "end" {
			t.Fatalf("runs overlap or are malformed at line %d:\n%s", i+1, b)
		}
		token, err := strconv.ParseUint(f[1], 10, 64)
		if err != nil || token <= last {
			t.Fatalf("token %q at line %d does not grow (previous %d):\n%s", f[1], i+1, last, b)
		}
		last = token
	}
}

// TestRunChildEnvironment checks what the command gets: the lock's
// variables, the caller's environment, and the tool's stdout.
func TestRunChildEnvironment(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	out := h.path("env")
	const script = `printf '%s|%s|%s|%s|%s\n' "$DYNAMUTEX_TOKEN" "$DYNAMUTEX_KEY" "$DYNAMUTEX_TABLE" ` +
		`"$DYNAMUTEX_OWNER" "$FROM_CALLER" > "$OUT"; echo hello from the command`
	r := h.exec([]string{"OUT=" + out, "FROM_CALLER=kept"},
		h.args("run", "--key", "env/key", "--owner", "tester-1", "--lease", "2s", "--", "sh", "-c", script)...)
	if r.code != 0 {
		t.Fatalf("run: %s", r)
	}
	if !strings.Contains(r.stdout, "hello from the command") {
		t.Errorf("the command's stdout did not reach the tool's stdout: %s", r)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	f := strings.Split(strings.TrimSpace(string(b)), "|")
	if len(f) != 5 {
		t.Fatalf("child wrote %q", b)
	}
	if token, err := strconv.ParseUint(f[0], 10, 64); err != nil || token == 0 {
		t.Errorf("DYNAMUTEX_TOKEN = %q, want a positive decimal number", f[0])
	}
	want := []string{"env/key", h.table, "tester-1", "kept"}
	for i, name := range []string{"DYNAMUTEX_KEY", "DYNAMUTEX_TABLE", "DYNAMUTEX_OWNER", "FROM_CALLER"} {
		if f[i+1] != want[i] {
			t.Errorf("%s = %q, want %q", name, f[i+1], want[i])
		}
	}
}

// TestRunExitCodes checks that run exits with its command's code, 128+N
// for a command killed by signal N, and 127 for a command that does not
// exist, releasing the lock each time.
func TestRunExitCodes(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	for _, tc := range []struct {
		name string
		cmd  []string
		want int
	}{
		{"success", []string{"true"}, 0},
		{"exit7", []string{"sh", "-c", "exit 7"}, 7},
		{"exit255", []string{"sh", "-c", "exit 255"}, 255},
		{"killed", []string{"sh", "-c", "kill -KILL $$"}, 128 + 9},
		{"terminated", []string{"sh", "-c", "kill -TERM $$"}, 128 + 15},
		{"notfound", []string{"/nonexistent/dynamutex-test-command"}, exitNotFound},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h := &harness{t: t, endpoint: h.endpoint, table: h.table, dir: h.dir}
			r := h.exec(nil, h.args("run", append([]string{"--key", tc.name, "--lease", "2s", "--"}, tc.cmd...)...)...)
			if r.code != tc.want {
				t.Fatalf("exit %d, want %d: %s", r.code, tc.want, r)
			}
			if s := h.status(tc.name); s.State != stateReleased {
				t.Errorf("after the run the record is %q, want released", s.State)
			}
		})
	}
}
