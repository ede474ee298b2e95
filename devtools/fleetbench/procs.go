package main

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// proc is a server the harness started.
type proc struct {
	name string
	url  string // http://127.0.0.1:PORT
	cmd  *exec.Cmd
	log  string
	done chan struct{}
}

func (p *proc) pid() int { return p.cmd.Process.Pid }

// startProc runs binary with args and env (the harness's environment
// without OpenTelemetry, libpq or Go runtime settings), listening on a
// free loopback port given as --web.listen-address.
func startProc(name, dir, binary string, args, env []string) (*proc, error) {
	addr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(binary, append([]string{"--web.listen-address=" + addr}, args...)...)
	cmd.Env = append(cleanEnv(), env...)
	cmd.Dir = dir // postgres_exporter looks for its optional configuration file here
	logPath := filepath.Join(dir, strings.NewReplacer("/", "_", " ", "_").Replace(name)+".log")
	f, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	cmd.Stdout, cmd.Stderr = f, f
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		f.Close()
		return nil, fmt.Errorf("starting %s: %w", name, err)
	}
	p := &proc{name: name, url: "http://" + addr, cmd: cmd, log: logPath, done: make(chan struct{})}
	go func() { _ = cmd.Wait(); f.Close(); close(p.done) }()
	return p, nil
}

// waitOK polls path until it answers 200.
func (p *proc) waitOK(ctx context.Context, path string, timeout time.Duration) error {
	client := &http.Client{Timeout: 2 * time.Second}
	defer client.CloseIdleConnections()
	deadline := time.Now().Add(timeout)
	for {
		if code, _, _, err := fetch(ctx, client, p.url+path, nil); err == nil && code == http.StatusOK {
			return nil
		}
		select {
		case <-p.done:
			return fmt.Errorf("%s exited:\n%s", p.name, tailFile(p.log))
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s: no 200 from %s within %s; log:\n%s", p.name, path, timeout, tailFile(p.log))
		}
	}
}

// stop sends SIGTERM and waits for the exit, killing after 15s.
func (p *proc) stop() {
	select {
	case <-p.done:
		return
	default:
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(15 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.done
	}
}

// cleanEnv is the environment without OpenTelemetry, libpq or Go runtime
// settings, so that nothing exports or connects elsewhere and every
// binary runs with the runtime's defaults.
func cleanEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "OTEL_") || strings.HasPrefix(kv, "PG") || strings.HasPrefix(kv, "DATABASE_URL=") ||
			strings.HasPrefix(kv, "DATA_SOURCE_") || strings.HasPrefix(kv, "GODEBUG=") || strings.HasPrefix(kv, "GOGC=") ||
			strings.HasPrefix(kv, "GOMEMLIMIT=") || strings.HasPrefix(kv, "GOMAXPROCS=") {
			continue
		}
		env = append(env, kv)
	}
	return env
}

func freeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}

func tailFile(path string) string {
	lines := strings.Split(strings.TrimRight(readFile(path), "\n"), "\n")
	if len(lines) > 20 {
		lines = lines[len(lines)-20:]
	}
	return strings.Join(lines, "\n")
}

// meter measures, over a window, the CPU of the processes under test, of
// the PostgreSQL clusters (every backend included), of the harness and of
// the whole machine: what is left is other sessions'.
type meter struct {
	at    time.Time
	procs []int
	trees []int
	cpu   []time.Duration
	tree  []time.Duration
	self  time.Duration
	busy  time.Duration
	steal time.Duration
}

func startMeter(procs, trees []int) *meter {
	m := &meter{procs: procs, trees: trees, at: time.Now()}
	m.busy, m.steal = machineBusy()
	m.self = procCPU(os.Getpid())
	for _, p := range procs {
		m.cpu = append(m.cpu, procCPU(p))
	}
	for _, t := range trees {
		m.tree = append(m.tree, treeCPU(t))
	}
	return m
}

// usage is what a meter measured, CPU in cores (CPU seconds per second).
type usage struct {
	elapsed time.Duration
	procs   []float64       // each process under test
	procCPU []time.Duration // the same, in CPU time
	trees   []float64       // each cluster
	treeCPU []time.Duration
	others  float64 // the machine less everything above and the harness
	steal   float64
}

func (m *meter) stop() usage {
	u := usage{elapsed: time.Since(m.at)}
	secs := u.elapsed.Seconds()
	busy, steal := machineBusy()
	ours := procCPU(os.Getpid()) - m.self
	for i, p := range m.procs {
		d := procCPU(p) - m.cpu[i]
		u.procCPU = append(u.procCPU, d)
		u.procs = append(u.procs, d.Seconds()/secs)
		ours += d
	}
	for i, t := range m.trees {
		d := treeCPU(t) - m.tree[i]
		u.treeCPU = append(u.treeCPU, d)
		u.trees = append(u.trees, d.Seconds()/secs)
		ours += d
	}
	u.others = max(0, (busy-m.busy-ours).Seconds()/secs)
	u.steal = (steal - m.steal).Seconds() / secs
	return u
}
