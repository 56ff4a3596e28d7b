package main

import (
	"errors"
	"flag"
	"fmt"
	"strings"
	"time"

	"github.com/dynamutex/dynamutex"
)

// The flag package reports a bad value as `invalid value "20" for flag
// -lease: parse error`: one dash, where the help and every other message
// of this tool use two, and no word of what the flag takes. So each flag's
// value is wrapped in a checkedValue that keeps the value it refused, and
// parse turns that into a valueError; the flag package's message is used
// only for what it alone knows (an unknown flag, a missing value), with the
// dashes put right.

// valueError is a value refused by a flag's parser, on the command line or
// from the flag's environment variable (env is then set).
type valueError struct {
	flag  string // the flag's name, without dashes
	env   string // the variable the value came from, or ""
	value string
	want  string // what the flag takes, for people
}

// Error names the flag with two dashes and says what it takes.
func (e *valueError) Error() string {
	where := dashed(e.flag)
	if e.env != "" {
		where = fmt.Sprintf("%s (%s)", e.env, where)
	}
	return fmt.Sprintf("invalid value %q for %s: %s", e.value, where, e.want)
}

// checkedValue is a flag's own Value, remembering the last value it refused.
type checkedValue struct {
	flag.Value
	name    string
	refused *valueError // the last refused value, or nil
}

// Set parses s with the flag's own Value and returns a *valueError if it
// refuses it.
func (v *checkedValue) Set(s string) error {
	v.refused = nil
	if err := v.Value.Set(s); err != nil {
		v.refused = &valueError{flag: v.name, value: s, want: wants(v.Value)}
		return v.refused
	}
	return nil
}

// IsBoolFlag passes on the flag package's mark of a flag that needs no
// value (--no-wait, -v), which the wrapping would hide.
func (v *checkedValue) IsBoolFlag() bool {
	b, ok := v.Value.(interface{ IsBoolFlag() bool })
	return ok && b.IsBoolFlag()
}

// wants says what a flag of value v's type takes.
func wants(v flag.Value) string {
	g, ok := v.(flag.Getter)
	if !ok {
		return "see the help"
	}
	switch g.Get().(type) {
	case time.Duration:
		return "want a duration with a unit, such as 20s or 1m30s"
	case int:
		return "want a whole number"
	case bool:
		return "want true or false"
	case dynamutex.Format:
		return "want native, java or python"
	}
	return "see the help"
}

// checkValues wraps the Value of every flag of fs that is not wrapped yet.
func checkValues(fs *flag.FlagSet) {
	fs.VisitAll(func(f *flag.Flag) {
		if _, ok := f.Value.(*checkedValue); !ok {
			f.Value = &checkedValue{Value: f.Value, name: f.Name}
		}
	})
}

// parseFlags is fs.Parse(args) with errors fit for people: a refused value
// becomes its *valueError, and the flag package's other messages name the
// flag with two dashes. flag.ErrHelp is returned as it is.
func parseFlags(fs *flag.FlagSet, args []string) error {
	checkValues(fs)
	err := fs.Parse(args)
	if err == nil || errors.Is(err, flag.ErrHelp) {
		return err
	}
	var refused *valueError
	fs.VisitAll(func(f *flag.Flag) {
		if v, ok := f.Value.(*checkedValue); ok && v.refused != nil && refused == nil {
			refused = v.refused
		}
	})
	if refused != nil {
		return refused
	}
	return errors.New(twoDashes(err.Error()))
}

// flagMessages are the flag package's messages about a flag name, and what
// this tool says instead.
var flagMessages = []struct{ prefix, format string }{
	{"flag provided but not defined: -", "unknown flag %s"},
	{"flag needs an argument: -", "flag %s needs a value"},
}

// twoDashes rewrites the flag package's message msg to name the flag with
// two dashes, or returns it as it is.
func twoDashes(msg string) string {
	for _, m := range flagMessages {
		if name, ok := strings.CutPrefix(msg, m.prefix); ok {
			return fmt.Sprintf(m.format, dashed(name))
		}
	}
	return msg
}

// dashed is how the help writes flag name: -v, but --verbose and --lease.
func dashed(name string) string {
	if len(name) == 1 {
		return "-" + name
	}
	return "--" + name
}
