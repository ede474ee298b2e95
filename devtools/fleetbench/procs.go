package main

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"time"

	"github.com/dbhealth/dbhealth-exporter/devtools/internal/benchkit"
)

// startProc runs binary with args and env (the harness's environment
// without OpenTelemetry, libpq or Go runtime settings), listening on a
// free loopback port given as --web.listen-address.
func startProc(name, dir, binary string, args, env []string) (*benchkit.Proc, error) {
	return benchkit.StartServer(name, dir, func(addr string) *exec.Cmd {
		cmd := exec.Command(binary, append([]string{"--web.listen-address=" + addr}, args...)...)
		cmd.Env = append(cleanEnv(), env...)
		cmd.Dir = dir // postgres_exporter looks for its optional configuration file here
		return cmd
	})
}

// waitOK polls path of p until it answers 200.
func waitOK(ctx context.Context, p *benchkit.Proc, path string, timeout time.Duration) error {
	client := &http.Client{Timeout: 2 * time.Second}
	defer client.CloseIdleConnections()
	deadline := time.Now().Add(timeout)
	for {
		if code, _, _, err := fetch(ctx, client, p.URL+path, nil); err == nil && code == http.StatusOK {
			return nil
		}
		select {
		case <-p.Done():
			return fmt.Errorf("%s exited:\n%s", p.Name, benchkit.Tail(p.Log))
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s: no 200 from %s within %s; log:\n%s", p.Name, path, timeout, benchkit.Tail(p.Log))
		}
	}
}

// cleanEnv is the environment without OpenTelemetry, libpq or Go runtime
// settings, so that nothing exports or connects elsewhere and every
// binary runs with the runtime's defaults.
func cleanEnv() []string {
	return benchkit.CleanEnv("DATA_SOURCE_", "GODEBUG=", "GOGC=", "GOMEMLIMIT=", "GOMAXPROCS=")
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
	m.busy, m.steal = benchkit.MachineCPU()
	m.self = benchkit.ProcCPU(os.Getpid())
	for _, p := range procs {
		m.cpu = append(m.cpu, benchkit.ProcCPU(p))
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
	busy, steal := benchkit.MachineCPU()
	ours := benchkit.ProcCPU(os.Getpid()) - m.self
	for i, p := range m.procs {
		d := benchkit.ProcCPU(p) - m.cpu[i]
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
