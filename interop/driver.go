package interop

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"time"
)

// Kind names one of the two real clients, or Dynamutex for dxdriver.
type Kind string

// The clients the harness drives.
const (
	Java   Kind = "java"
	Python Kind = "python"
)

// startTimeout is how long a driver may take to print its ready line: the JVM
// with the AWS SDK takes a few seconds on a loaded machine.
const startTimeout = 60 * time.Second

// ErrExited means the driver's stdout closed: it exited or was killed.
var ErrExited = errors.New("interop: driver exited")

// Driver is one running driver process. Its methods are for one goroutine at
// a time, as the protocol is one command, then its reply.
type Driver struct {
	// Kind is the client this process runs.
	Kind Kind
	// Owner is the owner name the client writes into its items.
	Owner string
	// Log is the file the driver's stderr goes to (the clients' own logs).
	Log string

	cmd   *exec.Cmd
	stdin io.WriteCloser
	lines chan []byte
	done  chan struct{}
	once  sync.Once
}

// Start runs a driver of kind with the given owner name and waits for its
// ready line. env is the environment it runs with (see Harness.env); its
// stderr goes to a file in logDir.
func (in Install) Start(kind Kind, owner string, env []string, logDir string) (*Driver, error) {
	var cmd *exec.Cmd
	switch kind {
	case Java:
		cmd = exec.Command("java", "-jar", in.javaJar())
	case Python:
		cmd = exec.Command(in.python(), in.pythonDriver())
	case Dynamutex:
		path, err := Dxdriver()
		if err != nil {
			return nil, err
		}
		cmd = exec.Command(path)
	default:
		return nil, fmt.Errorf("interop: unknown client %q", kind)
	}
	d := &Driver{Kind: kind, Owner: owner, Log: filepath.Join(logDir, owner+".log"),
		cmd: cmd, lines: make(chan []byte, 16), done: make(chan struct{})}
	cmd.Env = append(env, "INTEROP_OWNER="+owner)
	// A file, not a buffer, so that exec starts no copying goroutine.
	logf, err := os.Create(d.Log)
	if err != nil {
		return nil, err
	}
	defer logf.Close()
	cmd.Stderr = logf
	if d.stdin, err = cmd.StdinPipe(); err != nil {
		return nil, err
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	go d.read(out)
	r, err := d.Expect(startTimeout)
	if err == nil && (!r.OK || r.Op != "ready") {
		err = fmt.Errorf("interop: %s driver said %+v instead of ready", kind, r)
	}
	if err != nil {
		d.Kill()
		return nil, fmt.Errorf("%w; its log: %s", err, d.tail())
	}
	return d, nil
}

// read passes stdout lines on until the pipe closes.
func (d *Driver) read(out io.Reader) {
	defer close(d.done)
	defer close(d.lines)
	sc := bufio.NewScanner(out)
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	for sc.Scan() {
		d.lines <- append([]byte(nil), sc.Bytes()...)
	}
}

// Send writes one command without waiting for its reply, so that a test can
// act while a blocking acquire waits. Expect reads the reply.
func (d *Driver) Send(c Command) error {
	b, err := json.Marshal(c)
	if err != nil {
		return err
	}
	_, err = d.stdin.Write(append(b, '\n'))
	return err
}

// Expect reads the next reply, failing after timeout or when the driver exits.
func (d *Driver) Expect(timeout time.Duration) (Reply, error) {
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case line, ok := <-d.lines:
		if !ok {
			return Reply{}, ErrExited
		}
		var r Reply
		if err := json.Unmarshal(line, &r); err != nil {
			return Reply{}, fmt.Errorf("interop: %s driver wrote %q: %w", d.Kind, line, err)
		}
		return r, nil
	case <-t.C:
		return Reply{}, fmt.Errorf("interop: no reply from the %s driver %s in %v", d.Kind, d.Owner, timeout)
	}
}

// Call sends c and returns its reply. A reply with OK false is not an error
// here: tests assert on it.
func (d *Driver) Call(c Command, timeout time.Duration) (Reply, error) {
	if err := d.Send(c); err != nil {
		return Reply{}, err
	}
	return d.Expect(timeout)
}

// Kill ends the process with SIGKILL, as a crash would: the client gets no
// chance to release or stop heartbeating cleanly. It waits for the process.
func (d *Driver) Kill() {
	_ = d.cmd.Process.Kill()
	d.wait()
}

// Stop pauses the process with SIGSTOP, as a long GC pause or a stopped VM
// would: its heartbeat threads stop with it, and nothing it holds is
// released. Continue resumes it.
func (d *Driver) Stop() error { return d.cmd.Process.Signal(syscall.SIGSTOP) }

// Continue resumes a process paused by Stop, with SIGCONT.
func (d *Driver) Continue() error { return d.cmd.Process.Signal(syscall.SIGCONT) }

// Close asks the driver to exit (leaving its locks in the table as they are)
// and kills it if it has not exited within a few seconds.
func (d *Driver) Close() {
	if d.Send(Command{Op: "exit"}) == nil {
		select {
		case <-d.done:
		case <-time.After(5 * time.Second):
		}
	}
	d.Kill()
}

// wait reaps the process once: stdout must be drained before cmd.Wait.
func (d *Driver) wait() {
	d.once.Do(func() {
		_ = d.stdin.Close()
		for range d.lines {
		}
		<-d.done
		_ = d.cmd.Wait()
	})
}

// tail is the end of the driver's log, for error messages.
func (d *Driver) tail() string {
	b, _ := os.ReadFile(d.Log)
	if len(b) > 4000 {
		b = b[len(b)-4000:]
	}
	return string(b)
}
