//go:build !unix

package main

import (
	"errors"
	"os"
	"time"
)

// child is a stub: `dynamutex run` relies on Unix process groups to stop
// CMD and everything it started. status, list and create-table work
// everywhere.
type child struct {
	done chan struct{}
}

// errUnsupported is what run reports on systems without process groups.
var errUnsupported = errors.New("dynamutex run needs a Unix system (process groups); status, list and create-table work here")

// checkPlatform makes run fail before it takes any lock.
func checkPlatform() error { return &exitError{code: exitUsage, msg: errUnsupported.Error()} }

// startChild always fails here; run stops at checkPlatform before it.
func startChild(argv, env []string) (*child, error) { return nil, errUnsupported }

// signal does nothing: there is no child.
func (c *child) signal(os.Signal) {}

// drain does nothing: there is no process group.
func (c *child) drain(time.Time) {}

// exitCode reports a failure: there is no child.
func (c *child) exitCode() int { return exitFailure }
