//go:build dynamodblocal

package main

import (
	"strings"
	"testing"
)

// TestUsageErrors checks that mistakes exit 2 with a message that says what
// is wrong and where to look, and never a stack trace (proc.wait checks).
func TestUsageErrors(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	for _, tc := range []struct {
		name string
		env  []string
		args []string
		want string
	}{
		{"no arguments", nil, nil, "no command given"},
		{"unknown command", nil, []string{"frobnicate"}, `unknown command "frobnicate"`},
		{"unknown flag", nil, h.args("run", "--frob", "--key", "k", "--", "true"), "unknown flag --frob"},
		{"unknown global flag", nil, []string{"--frob", "list"}, "unknown flag --frob"},
		{"no key", nil, h.args("run", "--", "true"), "no lock key"},
		{"no command", nil, h.args("run", "--key", "k", "--"), "no command to run"},
		{"wait and no-wait", nil, h.args("run", "--key", "k", "--wait", "1s", "--no-wait", "--", "true"),
			"--wait and --no-wait cannot be used together"},
		{"wait and no-wait from env", []string{"DYNAMUTEX_WAIT=1s", "DYNAMUTEX_NO_WAIT=1"}, h.args("run", "--key", "k", "--", "true"),
			"DYNAMUTEX_WAIT and DYNAMUTEX_NO_WAIT cannot be used together"},
		{"lease syntax", nil, h.args("run", "--key", "k", "--lease", "soon", "--", "true"),
			`invalid value "soon" for --lease: want a duration with a unit, such as 20s or 1m30s`},
		{"lease from env", []string{"DYNAMUTEX_LEASE=soon"}, h.args("run", "--key", "k", "--", "true"),
			`invalid value "soon" for DYNAMUTEX_LEASE (--lease): want a duration`},
		{"lease negative", nil, h.args("run", "--key", "k", "--lease", "-1s", "--", "true"), "dynamutex: --lease: lease duration must not be negative"},
		{"lease fraction", nil, h.args("run", "--key", "k", "--lease", "1500us", "--", "true"),
			"--lease: lease duration must be a whole number of milliseconds"},
		{"negative wait", nil, h.args("run", "--key", "k", "--wait", "-1s", "--", "true"), "--wait must not be negative"},
		{"negative clock bound", nil, h.args("run", "--key", "k", "--clock-bound", "-1ms", "--", "true"),
			"--clock-bound: clock bound must be from 0"},
		{"clock bound from env", []string{"DYNAMUTEX_CLOCK_BOUND=tight"}, h.args("status", "k"),
			`invalid value "tight" for DYNAMUTEX_CLOCK_BOUND (--clock-bound): want a duration`},
		{"busy code", nil, h.args("run", "--key", "k", "--busy-exit-code", "300", "--", "true"), "from 0 to 255"},
		{"inherited key", []string{"DYNAMUTEX_KEY=k", "DYNAMUTEX_TOKEN=5"}, h.args("run", "--", "true"), "enclosing 'dynamutex run'"},
		{"bad endpoint", nil, []string{"list", "--endpoint", "localhost:8000"}, "want a URL such as http://localhost:8000"},
		{"status two keys", nil, h.args("status", "a", "b"), "status takes one KEY"},
		{"status no key", nil, h.args("status"), "no lock key"},
		{"list operand", nil, h.args("list", "extra"), "list takes no arguments"},
		{"help of nothing", nil, []string{"help", "frobnicate"}, `no help for "frobnicate"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := h.exec(tc.env, tc.args...)
			if r.code != exitUsage {
				t.Fatalf("exit %d, want %d: %s", r.code, exitUsage, r)
			}
			if !strings.Contains(r.stderr, tc.want) || !strings.HasPrefix(r.stderr, "dynamutex: ") {
				t.Errorf("stderr does not say %q: %s", tc.want, r)
			}
			if r.stdout != "" {
				t.Errorf("usage error printed on stdout: %s", r)
			}
		})
	}
}

// TestMissingTable checks that every command that needs the table exits 2
// and gives the create-table command to run.
func TestMissingTable(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.table = uniqueTable(t) + "_missing"
	want := "dynamutex create-table --table " + h.table + " --endpoint " + h.endpoint
	for _, args := range [][]string{
		h.args("run", "--key", "k", "--", "true"),
		h.args("status", "k"),
		h.args("list"),
	} {
		r := h.exec(nil, args...)
		if r.code != exitUsage || !strings.Contains(r.stderr, "does not exist") || !strings.Contains(r.stderr, want) {
			t.Errorf("want exit 2 and %q: %s", want, r)
		}
	}
}
