package main

import (
	"flag"
	"strings"
	"testing"
)

// TestHelpCoversEveryFlag keeps the written-out help texts complete: every
// flag of every command is in its help, and every environment variable is
// in the main help.
func TestHelpCoversEveryFlag(t *testing.T) {
	c := newCommon()
	runFS, _ := runFlags(c)
	statusFS, _ := statusFlags(c)
	listFS, _ := listFlags(c)
	for _, tc := range []struct {
		help string
		fs   *flag.FlagSet
	}{
		{runHelp, runFS},
		{statusHelp, statusFS},
		{listHelp, listFS},
		{createTableHelp, c.flagSet("create-table")},
		{mainHelp, c.flagSet("dynamutex")},
	} {
		tc.fs.VisitAll(func(f *flag.Flag) {
			if !strings.Contains(tc.help, "-"+f.Name+" ") && !strings.Contains(tc.help, "-"+f.Name+",") {
				t.Errorf("the help of %s does not mention -%s", tc.fs.Name(), f.Name)
			}
		})
	}
	for _, env := range flagEnv {
		if !strings.Contains(mainHelp, env) || !strings.Contains(runHelp, env) {
			t.Errorf("the help does not mention %s", env)
		}
	}
}

// TestHelp checks that help is on stdout with exit 0 and has the examples,
// exit codes and environment variables.
func TestHelp(t *testing.T) {
	t.Parallel()
	h := &harness{t: t}
	main := h.exec(nil, "--help")
	if main.code != 0 {
		t.Fatalf("--help: %s", main)
	}
	for _, want := range []string{
		"*/5 * * * * dynamutex run --table locks --key nightly-report --wait 1m -- /usr/local/bin/report",
		"Exit codes:", "75", "76", "128+N", "DYNAMUTEX_TABLE", "DYNAMUTEX_KEY", "DYNAMUTEX_LEASE", "DYNAMUTEX_WAIT",
		"DYNAMUTEX_GRACE", "DYNAMUTEX_OWNER", "DYNAMUTEX_DATA", "AWS_ENDPOINT_URL_DYNAMODB",
		"DYNAMUTEX_TOKEN", `"dynamutex_locks"`,
	} {
		if !strings.Contains(main.stdout, want) {
			t.Errorf("--help does not mention %q", want)
		}
	}
	// One variable names the endpoint, the SDK's own; the tool has none.
	if strings.Contains(main.stdout, "DYNAMUTEX_ENDPOINT") {
		t.Error("--help mentions DYNAMUTEX_ENDPOINT, which the tool no longer reads")
	}
	for _, args := range [][]string{{"-h"}, {"help"}} {
		if r := h.exec(nil, args...); r.code != 0 || r.stdout != main.stdout {
			t.Errorf("%q differs from --help: %s", args, r)
		}
	}
	run := h.exec(nil, "help", "run")
	if run.code != 0 || !strings.Contains(run.stdout, "--grace") || !strings.Contains(run.stdout, "Exit codes:") {
		t.Errorf("help run: %s", run)
	}
	if r := h.exec(nil, "run", "--help"); r.code != 0 || r.stdout != run.stdout {
		t.Errorf("run --help differs from help run: %s", r)
	}
	for _, cmd := range []string{"status", "list", "create-table"} {
		if r := h.exec(nil, cmd, "--help"); r.code != 0 || !strings.HasPrefix(r.stdout, "Usage: dynamutex "+cmd) {
			t.Errorf("%s --help: %s", cmd, r)
		}
	}
}
