package benchkit

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"
)

// Proc is a server a benchmark driver started.
type Proc struct {
	Name string
	URL  string // http://127.0.0.1:PORT
	Cmd  *exec.Cmd
	Log  string // the file of its output
	done chan struct{}
}

// Start starts cmd, with its stderr, and its stdout unless already set,
// going to name's log file in logDir (slashes and spaces of name become
// underscores). The child dies with the driver where the system allows.
func Start(name string, cmd *exec.Cmd, logDir string) (*Proc, error) {
	logPath := filepath.Join(logDir, strings.NewReplacer("/", "_", " ", "_").Replace(name)+".log")
	logFile, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	cmd.Stderr = logFile
	if cmd.Stdout == nil {
		cmd.Stdout = logFile
	}
	cmd.SysProcAttr = ChildAttr()
	if err := cmd.Start(); err != nil {
		logFile.Close()
		return nil, fmt.Errorf("starting %s: %w", name, err)
	}
	p := &Proc{Name: name, Cmd: cmd, Log: logPath, done: make(chan struct{})}
	go func() { _ = cmd.Wait(); logFile.Close(); close(p.done) }()
	return p, nil
}

// StartServer starts the command that command makes for a free loopback
// address (host:port), as Start does, with URL set to that address.
func StartServer(name, logDir string, command func(addr string) *exec.Cmd) (*Proc, error) {
	addr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	p, err := Start(name, command(addr), logDir)
	if err != nil {
		return nil, err
	}
	p.URL = "http://" + addr
	return p, nil
}

// PID is the server's process id.
func (p *Proc) PID() int { return p.Cmd.Process.Pid }

// Done is closed once the server has exited.
func (p *Proc) Done() <-chan struct{} { return p.done }

// Stop sends SIGTERM and waits for the exit, killing after 15s.
func (p *Proc) Stop() {
	select {
	case <-p.done:
		return
	default:
	}
	_ = p.Cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(15 * time.Second):
		_ = p.Cmd.Process.Kill()
		<-p.done
	}
}

// CleanEnv is the environment without OpenTelemetry or libpq settings
// (OTEL_*, PG*, DATABASE_URL), so that nothing a child runs exports or
// connects elsewhere, and without the variables whose "NAME=value" starts
// with one of also.
func CleanEnv(also ...string) []string {
	drop := append([]string{"OTEL_", "PG", "DATABASE_URL="}, also...)
	var env []string
	for _, kv := range os.Environ() {
		if !slices.ContainsFunc(drop, func(p string) bool { return strings.HasPrefix(kv, p) }) {
			env = append(env, kv)
		}
	}
	return env
}

// freeAddr returns a loopback address with a port that was free a moment
// ago.
func freeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}

// Tail is the last 20 lines of a file ("" if it cannot be read).
func Tail(path string) string {
	lines := strings.Split(strings.TrimRight(ReadFile(path), "\n"), "\n")
	if len(lines) > 20 {
		lines = lines[len(lines)-20:]
	}
	return strings.Join(lines, "\n")
}
