package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"time"

	"github.com/dbhealth/dbhealth-exporter/devtools/internal/benchkit"
)

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
func startExporter(binary, name, dsn, logDir string, sched schedule) (*benchkit.Proc, error) {
	return benchkit.StartServer(name, logDir, func(addr string) *exec.Cmd {
		cmd := exec.Command(binary, exporterArgs(addr, sched)...)
		cmd.Env = append(benchkit.CleanEnv(), "DATABASE_URL="+dsn)
		return cmd
	})
}

// startComparison runs this program in serve mode; the child prints the
// address it listens on as its first line.
func startComparison(kind string, args []string, logDir string) (*benchkit.Proc, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(self, append([]string{"serve", "-kind", kind}, args...)...)
	cmd.Env = benchkit.CleanEnv()
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	p, err := benchkit.Start(kind, cmd, logDir)
	if err != nil {
		return nil, err
	}
	line, err := bufio.NewReader(stdout).ReadString('\n')
	addr, ok := strings.CutPrefix(strings.TrimSpace(line), "LISTEN ")
	if err != nil || !ok {
		p.Stop()
		return nil, fmt.Errorf("%s server did not start (%v); log %s:\n%s", kind, err, p.Log, benchkit.Tail(p.Log))
	}
	go func() { _, _ = io.Copy(io.Discard, stdout) }()
	p.URL = "http://" + addr
	return p, nil
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

// sampler records the largest VmRSS of a process until stopped.
type sampler struct {
	stopped chan struct{}
	done    chan benchkit.Memory
}

func sampleMemory(pid int, every time.Duration) *sampler {
	s := &sampler{stopped: make(chan struct{}), done: make(chan benchkit.Memory, 1)}
	go func() {
		var peak benchkit.Memory
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			if m, err := benchkit.ReadMemory(pid); err == nil && m.RSS > peak.RSS {
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
func (s *sampler) stop() benchkit.Memory {
	close(s.stopped)
	return <-s.done
}
