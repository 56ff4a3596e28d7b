package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
)

// main only wires the process to app, so that every path out of the
// program returns an exit code and deferred clean-up (releasing the lock,
// closing the Session) always runs before os.Exit.
func main() {
	a := &app{stdout: os.Stdout, stderr: os.Stderr}
	os.Exit(a.main(os.Args[1:]))
}

// app is one invocation of the tool: where it writes, and nothing else, so
// that the subcommands stay plain functions of their arguments.
type app struct {
	stdout io.Writer // results: status, list, help asked for
	stderr io.Writer // diagnostics, usage errors
}

// command is one subcommand.
type command struct {
	run  func(a *app, c *common, args []string) int
	help string // the text of `dynamutex help NAME`
}

// commands is filled in by init so that the help subcommand can look the
// others up without an initialisation cycle.
var commands map[string]command

// init fills in commands.
func init() {
	commands = map[string]command{
		"run":          {run: (*app).runCommand, help: runHelp},
		"status":       {run: (*app).statusCommand, help: statusHelp},
		"list":         {run: (*app).listCommand, help: listHelp},
		"create-table": {run: (*app).createTableCommand, help: createTableHelp},
		"help":         {run: (*app).helpCommand, help: mainHelp},
	}
}

// main parses the options that may precede the subcommand name, then hands
// the rest to the subcommand.
func (a *app) main(args []string) int {
	c := newCommon()
	global := flag.NewFlagSet("dynamutex", flag.ContinueOnError)
	global.SetOutput(io.Discard) // errors are reported by usageError, with a hint
	c.register(global)
	if err := parseFlags(global, args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fmt.Fprint(a.stdout, mainHelp)
			return exitOK
		}
		return a.fail(usageError("", "%v", err))
	}
	c.noteSet(global)
	rest := global.Args()
	if len(rest) == 0 {
		return a.fail(usageError("", "no command given"))
	}
	cmd, ok := commands[rest[0]]
	if !ok {
		return a.fail(usageError("", "unknown command %q; the commands are run, status, list, create-table and help", rest[0]))
	}
	return cmd.run(a, c, rest[1:])
}
