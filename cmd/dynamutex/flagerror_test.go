package main

import (
	"bytes"
	"strings"
	"testing"
)

// TestFlagErrors checks that every flag error, from the command line or
// the environment, exits 2, names the flag as the help does and says what
// it takes, and keeps the pointer to the help.
func TestFlagErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		env  map[string]string
		args []string
		want string
		hint string
	}{
		{"lease without unit", nil, []string{"run", "--lease", "20", "--key", "k", "--", "true"},
			`dynamutex: invalid value "20" for --lease: want a duration with a unit, such as 20s or 1m30s`, "help run"},
		{"lease word", nil, []string{"run", "--lease", "abc", "--key", "k", "--", "true"},
			`dynamutex: invalid value "abc" for --lease: want a duration with a unit, such as 20s or 1m30s`, "help run"},
		{"lease one dash", nil, []string{"run", "-lease=1", "--key", "k", "--", "true"},
			`dynamutex: invalid value "1" for --lease: want a duration`, "help run"},
		{"lease from env", map[string]string{"DYNAMUTEX_LEASE": "20"}, []string{"run", "--key", "k", "--", "true"},
			`dynamutex: invalid value "20" for DYNAMUTEX_LEASE (--lease): want a duration with a unit, such as 20s or 1m30s`, "help run"},
		{"wait", nil, []string{"run", "--wait", "10", "--key", "k", "--", "true"}, `invalid value "10" for --wait: want a duration`, "help run"},
		{"grace", nil, []string{"run", "--grace", "x", "--key", "k", "--", "true"}, `invalid value "x" for --grace: want a duration`, "help run"},
		{"clock bound", nil, []string{"status", "--clock-bound", "5", "k"}, `invalid value "5" for --clock-bound: want a duration`, "help status"},
		{"busy code", nil, []string{"run", "--busy-exit-code", "x", "--key", "k", "--", "true"},
			`invalid value "x" for --busy-exit-code: want a whole number`, "help run"},
		{"bool", nil, []string{"run", "--no-wait=maybe", "--key", "k", "--", "true"}, `invalid value "maybe" for --no-wait: want true or false`, "help run"},
		{"bool from env", map[string]string{"DYNAMUTEX_VERBOSE": "loud"}, []string{"list"},
			`invalid value "loud" for DYNAMUTEX_VERBOSE (--verbose): want true or false`, "help list"},
		{"short bool", nil, []string{"-v=x", "list"}, `invalid value "x" for -v: want true or false`, "dynamutex --help"},
		{"format", nil, []string{"status", "--format", "ruby", "k"}, `invalid value "ruby" for --format: want native, java or python`, "help status"},
		{"format from env", map[string]string{"DYNAMUTEX_FORMAT": "JAVA"}, []string{"list"},
			`invalid value "JAVA" for DYNAMUTEX_FORMAT (--format): want native, java or python`, "help list"},
		{"unknown", nil, []string{"run", "-frob"}, "dynamutex: unknown flag --frob\n", "help run"},
		{"unknown global", nil, []string{"--frob", "list"}, "dynamutex: unknown flag --frob\n", "dynamutex --help"},
		{"no value", nil, []string{"run", "--key"}, "dynamutex: flag --key needs a value\n", "help run"},
		{"no value interleaved", nil, []string{"status", "k", "--table"}, "dynamutex: flag --table needs a value\n", "help status"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for k, v := range tc.env {
				t.Setenv(k, v)
			}
			var stdout, stderr bytes.Buffer
			a := &app{stdout: &stdout, stderr: &stderr}
			if code := a.main(tc.args); code != exitUsage {
				t.Errorf("exit %d, want %d", code, exitUsage)
			}
			got := stderr.String()
			if !strings.HasPrefix(got, "dynamutex: ") || !strings.Contains(got, tc.want) || !strings.Contains(got, tc.hint) {
				t.Errorf("stderr %q does not say %q and point to %q", got, tc.want, tc.hint)
			}
			if strings.Contains(got, "parse error") || strings.Contains(got, "for flag -") {
				t.Errorf("stderr %q has the flag package's wording", got)
			}
			if stdout.Len() != 0 {
				t.Errorf("stdout %q, want nothing", stdout.String())
			}
		})
	}
}
