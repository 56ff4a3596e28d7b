//go:build unix

package main

import (
	"os"
	"os/exec"
	"syscall"
	"time"
)

// drainPoll is how often drain looks whether CMD's process group is empty.
const drainPoll = 20 * time.Millisecond

// child is CMD, started in a process group of its own. The group is what
// signals go to, so that `sh -c 'a | b'` and every other process CMD starts
// are stopped with it, not just the process dynamutex started.
type child struct {
	cmd  *exec.Cmd
	pgid int
	done chan struct{} // closed when the process has exited and been reaped
}

// startChild starts argv with env, sharing the tool's stdin, stdout and
// stderr. Those are *os.File values, so no copying goroutines are involved
// and CMD writes straight to the terminal, file or pipe.
//
// The new process group means CMD does not get the terminal's SIGINT by
// itself; dynamutex catches it and forwards it, once. It also means CMD is
// not in the terminal's foreground group, so an interactive CMD that reads
// the terminal is stopped by SIGTTIN: run is meant for jobs, not for
// interactive programs.
func startChild(argv, env []string) (*child, error) {
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env = env
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	c := &child{cmd: cmd, pgid: cmd.Process.Pid, done: make(chan struct{})}
	go func() {
		_ = cmd.Wait() // the status is read from cmd.ProcessState
		close(c.done)
	}()
	return c, nil
}

// signal sends sig to CMD's process group. A group that is already empty is
// not an error: CMD may exit at any moment.
func (c *child) signal(sig os.Signal) {
	s, ok := sig.(syscall.Signal)
	if !ok {
		return
	}
	_ = syscall.Kill(-c.pgid, s)
}

// drain waits, after CMD itself has exited, for the rest of its process
// group to exit until deadline, then kills what is left. It is used when the
// lock was lost: whatever is still running in the group runs without it.
func (c *child) drain(deadline time.Time) {
	for {
		if err := syscall.Kill(-c.pgid, 0); err != nil {
			return // ESRCH: the group is empty (EPERM: nothing we may signal)
		}
		if !time.Now().Before(deadline) {
			_ = syscall.Kill(-c.pgid, syscall.SIGKILL)
			return
		}
		time.Sleep(drainPoll)
	}
}

// exitCode is CMD's exit code, or 128+N if signal N killed it, as shells
// report it. Call it after done is closed.
func (c *child) exitCode() int {
	ws, ok := c.cmd.ProcessState.Sys().(syscall.WaitStatus)
	if !ok {
		return exitFailure
	}
	if ws.Signaled() {
		return exitSignalBase + int(ws.Signal())
	}
	return ws.ExitStatus()
}

// checkPlatform reports whether run can work here: it can on Unix.
func checkPlatform() error { return nil }
