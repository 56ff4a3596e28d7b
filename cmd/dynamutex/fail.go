package main

import (
	"errors"
	"fmt"
	"strings"

	"github.com/dynamutex/dynamutex"
)

// exitError is an error that knows its exit code and carries a message fit
// for people. Everything the tool reports goes through one, so that no path
// prints a stack trace or an exit code without saying why.
type exitError struct {
	code int
	msg  string
}

// Error returns the message, without the "dynamutex: " prefix fail adds.
func (e *exitError) Error() string { return e.msg }

// usageError reports a mistake in the invocation of subcommand cmd ("" for
// the tool itself), with a pointer to its help.
func usageError(cmd, format string, args ...any) *exitError {
	hint := "Run 'dynamutex --help' for usage."
	if cmd != "" {
		hint = fmt.Sprintf("Run 'dynamutex help %s' for usage.", cmd)
	}
	return &exitError{code: exitUsage, msg: fmt.Sprintf(format, args...) + "\n" + hint}
}

// fail prints err on stderr and returns its exit code.
func (a *app) fail(err error) int {
	e := classify(err)
	msg := e.msg
	if !strings.HasPrefix(msg, "dynamutex: ") {
		msg = "dynamutex: " + msg
	}
	fmt.Fprintln(a.stderr, msg)
	return e.code
}

// optionFlags names the flag behind each library option the tool sets from
// one, so that a refused option is reported as the flag the user gave.
var optionFlags = map[string]string{
	"WithLeaseDuration": "--lease",
	"WithClockBound":    "--clock-bound",
	"WithOwner":         "--owner",
	"table":             "--table",
}

// classify gives err an exit code: the library's errors about input and
// configuration are usage errors (2), anything else is a failure (1).
func classify(err error) *exitError {
	if err == nil {
		// Not expected; but a failure without a reason must still not panic.
		return &exitError{code: exitFailure, msg: "failed for an unknown reason"}
	}
	var e *exitError
	if errors.As(err, &e) {
		return e
	}
	var oe *dynamutex.OptionError
	if errors.As(err, &oe) {
		if flag, ok := optionFlags[oe.Option]; ok {
			return &exitError{code: exitUsage, msg: fmt.Sprintf("dynamutex: %s: %s", flag, oe.Reason)}
		}
	}
	switch {
	case errors.Is(err, dynamutex.ErrInvalidOption), errors.Is(err, dynamutex.ErrInvalidKey),
		errors.Is(err, dynamutex.ErrDataTooLarge), errors.Is(err, dynamutex.ErrTableMismatch),
		errors.Is(err, dynamutex.ErrTableNotFound):
		return &exitError{code: exitUsage, msg: err.Error()}
	}
	return &exitError{code: exitFailure, msg: err.Error()}
}
