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
