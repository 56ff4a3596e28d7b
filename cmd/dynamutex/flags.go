package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/dynamutex/dynamutex"
)

// defaultTable is the lock table used when neither --table nor
// DYNAMUTEX_TABLE names one.
const defaultTable = "dynamutex_locks"

// common holds the options every subcommand takes. They may come before the
// subcommand name (dynamutex --table T status K) or after it, so one common
// value is filled by two flag sets in turn.
type common struct {
	table    string
	region   string
	profile  string
	endpoint string
	verbose  bool

	// format is the record format written (--format): another lock
	// client's, to share its table.
	format dynamutex.Format

	// The table's key attributes and the lock's sort-key value. Empty: the
	// format's defaults ("key" and no sort key; python-dynamodb-lock's
	// lock_key, and sort_key "-", with --format python).
	partitionKey string
	sortKey      string
	sortKeyValue string

	// given maps the canonical name of each option that was set to where it
	// came from: "" for the command line, or the environment variable. It
	// lets flags win over the environment, and lets messages name the source.
	given map[string]string
}

// newCommon returns the common options at their defaults.
func newCommon() *common {
	return &common{table: defaultTable, given: make(map[string]string)}
}

// register adds the common flags to fs. The current values are the
// defaults, so flags parsed by the global flag set survive when the
// subcommand's flag set registers the same variables again.
func (c *common) register(fs *flag.FlagSet) {
	fs.StringVar(&c.table, "table", c.table, "lock table")
	fs.StringVar(&c.region, "region", c.region, "AWS region")
	fs.StringVar(&c.profile, "profile", c.profile, "AWS shared-config profile")
	fs.StringVar(&c.endpoint, "endpoint", c.endpoint, "DynamoDB endpoint URL")
	fs.BoolVar(&c.verbose, "verbose", c.verbose, "progress and library log on stderr")
	fs.BoolVar(&c.verbose, "v", c.verbose, "short for --verbose")
	fs.StringVar(&c.partitionKey, "partition-key", c.partitionKey, "the table's partition-key attribute")
	fs.StringVar(&c.sortKey, "sort-key", c.sortKey, "the table's sort-key attribute")
	fs.StringVar(&c.sortKeyValue, "sort-key-value", c.sortKeyValue, "the lock's sort-key value")
	fs.Var(formatValue{&c.format}, "format", "record format: native, java or python")
}

// tableOption is an option of both NewSession and CreateTable.
type tableOption interface {
	dynamutex.Option
	dynamutex.TableOption
}

// tableOptions are the Session and table options of the key and format
// flags.
func (c *common) tableOptions() []tableOption {
	return []tableOption{dynamutex.WithPartitionKey(c.partitionKey), dynamutex.WithSortKey(c.sortKey),
		dynamutex.WithFormat(c.format)}
}

// sortValues is the sort-key value to give Inspect: none without one.
func (c *common) sortValues() []string {
	if c.sortKeyValue == "" {
		return nil
	}
	return []string{c.sortKeyValue}
}

// flagSet returns the flag set of subcommand name with the common flags
// registered. Errors are not printed by the flag package: parse turns them
// into a short message with a hint.
func (c *common) flagSet(name string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	c.register(fs)
	return fs
}

// noteSet records the flags that fs found on the command line.
func (c *common) noteSet(fs *flag.FlagSet) {
	fs.Visit(func(f *flag.Flag) { c.given[canonical(f.Name)] = "" })
}

// parse parses the arguments of subcommand name with fs, then fills every
// option that the command line left unset from its environment variable.
// It returns flag.ErrHelp for -h and --help, and a usage *exitError for
// anything else that is wrong.
func (c *common) parse(name string, fs *flag.FlagSet, args []string) error {
	if err := parseFlags(fs, args); err != nil {
		if err == flag.ErrHelp {
			return err
		}
		return usageError(name, "%v", err)
	}
	c.noteSet(fs)
	return c.applyEnv(name, fs)
}

// applyEnv sets each flag of fs that was not given on the command line from
// its environment variable, if that is set and not empty. The value goes
// through the flag's own parser, so a bad DYNAMUTEX_LEASE is reported like
// a bad --lease, naming both.
func (c *common) applyEnv(name string, fs *flag.FlagSet) error {
	var err error
	fs.VisitAll(func(f *flag.Flag) {
		key := canonical(f.Name)
		env, ok := flagEnv[key]
		if !ok || err != nil || c.isGiven(key) || c.overridden(key) {
			return
		}
		v, ok := os.LookupEnv(env)
		if !ok || v == "" {
			return
		}
		if serr := fs.Set(f.Name, v); serr != nil {
			var refused *valueError
			if errors.As(serr, &refused) {
				refused.flag, refused.env = key, env
				err = usageError(name, "%v", refused)
				return
			}
			err = usageError(name, "%s=%q: %v", env, v, serr)
			return
		}
		c.given[key] = env
	})
	return err
}

// isGiven reports whether option key was set, on the command line or from
// the environment.
func (c *common) isGiven(key string) bool {
	_, ok := c.given[key]
	return ok
}

// overridden reports whether a flag that excludes key was given on the
// command line, in which case key's environment variable must not bring
// the conflict back (--no-wait on the command line beats DYNAMUTEX_WAIT).
func (c *common) overridden(key string) bool {
	other, ok := flagConflicts[key]
	if !ok {
		return false
	}
	src, given := c.given[other]
	return given && src == ""
}

// source names where option key came from, for messages: "--key" or
// "DYNAMUTEX_KEY".
func (c *common) source(key string) string {
	if env := c.given[key]; env != "" {
		return env
	}
	return "--" + key
}

// canonical maps short aliases to the option they stand for.
func canonical(name string) string {
	if name == "v" {
		return "verbose"
	}
	return name
}

// flagConflicts lists pairs of options that cannot both be used.
var flagConflicts = map[string]string{"wait": "no-wait", "no-wait": "wait"}

// helpOrUsage turns the error of parse into an exit code: help goes to
// stdout with code 0, anything else to stderr with code 2.
func (a *app) helpOrUsage(err error, help string) int {
	if err == flag.ErrHelp {
		fmt.Fprint(a.stdout, help)
		return exitOK
	}
	return a.fail(err)
}

// parseInterleaved is parse for subcommands that take operands, such as
// status KEY: flags may also follow an operand (status KEY --json), which
// the flag package alone would take for operands. A "--" ends the flags.
func (c *common) parseInterleaved(name string, fs *flag.FlagSet, args []string) ([]string, error) {
	var operands []string
	for {
		if err := parseFlags(fs, args); err != nil {
			if err == flag.ErrHelp {
				return nil, err
			}
			return nil, usageError(name, "%v", err)
		}
		rest := fs.Args()
		if consumed := len(args) - len(rest); consumed > 0 && args[consumed-1] == "--" {
			operands = append(operands, rest...)
			break
		}
		if len(rest) == 0 {
			break
		}
		operands = append(operands, rest[0])
		args = rest[1:]
	}
	c.noteSet(fs)
	return operands, c.applyEnv(name, fs)
}
