package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// proc is a server the harness started: the exporter binary, or this
// program in serve mode for a comparison handler.
type proc struct {
	name string
	url  string // http://127.0.0.1:PORT
	cmd  *exec.Cmd
	log  string
	done chan struct{}
}

func (p *proc) pid() int { return p.cmd.Process.Pid }

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

// exporterArgs are the flags of a benchmarked exporter: the defaults but
// for the listen address, the schedule, and no shutdown delay.
func exporterArgs(addr string, sched schedule) []string {
	return []string{
		"--web.listen-address=" + addr,
		"--check.interval=" + sched.interval.String(),
		"--check.timeout=" + sched.timeout.String(),
		"--web.shutdown-delay=0s",
	}
}

// startExporter runs the exporter binary on a free loopback port against
// dsn (passed as DATABASE_URL).
func startExporter(binary, name, dsn, logDir string, sched schedule) (*proc, error) {
	addr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(binary, exporterArgs(addr, sched)...)
	cmd.Env = append(cleanEnv(), "DATABASE_URL="+dsn)
	p, err := startProc(name, cmd, logDir)
	if err != nil {
		return nil, err
	}
	p.url = "http://" + addr
	return p, nil
}

// startComparison runs this program in serve mode; the child prints the
// address it listens on as its first line.
func startComparison(kind string, args []string, logDir string) (*proc, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(self, append([]string{"serve", "-kind", kind}, args...)...)
	cmd.Env = cleanEnv()
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	p, err := startProc(kind, cmd, logDir)
	if err != nil {
		return nil, err
	}
	line, err := bufio.NewReader(stdout).ReadString('\n')
	addr, ok := strings.CutPrefix(strings.TrimSpace(line), "LISTEN ")
	if err != nil || !ok {
		p.stop()
		return nil, fmt.Errorf("%s server did not start (%v); log %s:\n%s", kind, err, p.log, tailFile(p.log))
	}
	go func() { _, _ = io.Copy(io.Discard, stdout) }()
	p.url = "http://" + addr
	return p, nil
}

func startProc(name string, cmd *exec.Cmd, logDir string) (*proc, error) {
	logPath := filepath.Join(logDir, strings.NewReplacer("/", "_", " ", "_").Replace(name)+".log")
	logFile, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	cmd.Stderr = logFile
	if cmd.Stdout == nil {
		cmd.Stdout = logFile
	}
	cmd.SysProcAttr = childAttr()
	if err := cmd.Start(); err != nil {
		logFile.Close()
		return nil, fmt.Errorf("starting %s: %w", name, err)
	}
	p := &proc{name: name, cmd: cmd, log: logPath, done: make(chan struct{})}
	go func() { _ = cmd.Wait(); logFile.Close(); close(p.done) }()
	return p, nil
}

// cleanEnv is the environment without OpenTelemetry or libpq settings, so
// that nothing exports or connects elsewhere.
func cleanEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "OTEL_") || strings.HasPrefix(kv, "PG") || strings.HasPrefix(kv, "DATABASE_URL=") {
			continue
		}
		env = append(env, kv)
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

// waitStatus polls url until it answers want, and returns when it first did.
func waitStatus(ctx context.Context, client *http.Client, url string, want int, every, timeout time.Duration) (time.Time, error) {
	deadline := time.Now().Add(timeout)
	last := "no answer"
	for {
		if code, err := status(ctx, client, url); err == nil {
			if code == want {
				return time.Now(), nil
			}
			last = strconv.Itoa(code)
		} else {
			last = err.Error()
		}
		if time.Now().After(deadline) {
			return time.Time{}, fmt.Errorf("%s did not answer %d within %s (last: %s)", url, want, timeout, last)
		}
		select {
		case <-ctx.Done():
			return time.Time{}, ctx.Err()
		case <-time.After(every):
		}
	}
}

func status(ctx context.Context, client *http.Client, url string) (int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return 0, err
	}
	resp, err := client.Do(req)
	if err != nil {
		return 0, err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode, nil
}

func get(client *http.Client, url string) ([]byte, error) {
	resp, err := client.Get(url)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err == nil && resp.StatusCode != http.StatusOK {
		err = fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	return body, err
}

func tailFile(path string) string {
	b, _ := os.ReadFile(path)
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > 20 {
		lines = lines[len(lines)-20:]
	}
	return strings.Join(lines, "\n")
}

// memory is a process's memory from /proc/<pid>/status, in KiB.
type memory struct {
	RSS, HWM, Anon, File int64
}

func readMemory(pid int) (memory, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return memory{}, err
	}
	defer f.Close()
	var m memory
	fields := map[string]*int64{"VmRSS:": &m.RSS, "VmHWM:": &m.HWM, "RssAnon:": &m.Anon, "RssFile:": &m.File}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		parts := strings.Fields(sc.Text())
		if len(parts) >= 2 {
			if p, ok := fields[parts[0]]; ok {
				*p, _ = strconv.ParseInt(parts[1], 10, 64)
			}
		}
	}
	return m, sc.Err()
}

// sampler records the largest VmRSS of a process until stopped.
type sampler struct {
	stopped chan struct{}
	done    chan memory
}

func sampleMemory(pid int, every time.Duration) *sampler {
	s := &sampler{stopped: make(chan struct{}), done: make(chan memory, 1)}
	go func() {
		var peak memory
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			if m, err := readMemory(pid); err == nil && m.RSS > peak.RSS {
				peak = m
			}
			select {
			case <-s.stopped:
				s.done <- peak
				return
			case <-t.C:
			}
		}
	}()
	return s
}

// stop returns the sample with the largest VmRSS.
func (s *sampler) stop() memory {
	close(s.stopped)
	return <-s.done
}
