package main

import (
	"io"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/dbhealth/dbhealth-exporter/internal/pgtest"
	"github.com/dbhealth/dbhealth-exporter/internal/testtools"
)

// binary is the exporter built once for the end-to-end tests, which run it
// as a user would: a process with flags, environment and signals.
var binary string

func TestMain(m *testing.M) { os.Exit(testtools.MainWithExporter(m, &binary)) }

// canary is the password of the role the end-to-end tests connect as; no
// output of the exporter may ever contain it.
const canary = "Canary-7Xq!pw"

// exporterProc is a running exporter binary.
type exporterProc struct {
	t      *testing.T
	cmd    *exec.Cmd
	addr   string
	output *testtools.Buffer // stdout and stderr
	seen   *testtools.Buffer // every response body fetched
	exited chan struct{}
	code   int
}

// startExporter runs the binary with args and env (added to a clean
// environment) and waits until it serves /livez.
func startExporter(t *testing.T, env []string, args ...string) *exporterProc {
	t.Helper()
	p := &exporterProc{t: t, addr: testtools.FreeAddr(t), output: &testtools.Buffer{}, seen: &testtools.Buffer{}, exited: make(chan struct{})}
	p.cmd = exec.Command(binary, append([]string{"--web.listen-address=" + p.addr}, args...)...)
	p.cmd.Env = append([]string{"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME"), "PGCONNECT_TIMEOUT=5"}, env...)
	p.cmd.Stdout, p.cmd.Stderr = p.output, p.output
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		_ = p.cmd.Wait()
		p.code = p.cmd.ProcessState.ExitCode()
		close(p.exited)
	}()
	t.Cleanup(func() {
		_ = p.cmd.Process.Kill()
		<-p.exited
		if t.Failed() {
			t.Logf("exporter output:\n%s", p.output.String())
		}
	})
	p.eventually("the exporter to listen", 10*time.Second, func() bool {
		code, _ := p.tryGet("/livez", nil)
		return code != 0 // any answer: with --web.probes-require-auth it is 401
	})
	return p
}

// tryGet fetches path; code 0 means no answer.
func (p *exporterProc) tryGet(path string, header http.Header) (int, string) {
	req, _ := http.NewRequest(http.MethodGet, "http://"+p.addr+path, nil)
	for k, v := range header {
		req.Header[k] = v
	}
	client := http.Client{Timeout: 5 * time.Second}
	resp, err := client.Do(req)
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	p.seen.Write(body)
	return resp.StatusCode, string(body)
}

func (p *exporterProc) get(path string) (int, string) {
	p.t.Helper()
	code, body := p.tryGet(path, nil)
	if code == 0 {
		p.t.Fatalf("GET %s: %s", path, body)
	}
	return code, body
}

// eventually polls cond until it holds or the wait is over. The wait is a
// generous bound for a shared machine, not a performance assertion.
func (p *exporterProc) eventually(what string, wait time.Duration, cond func() bool) time.Duration {
	p.t.Helper()
	start := time.Now()
	for time.Since(start) < wait {
		if cond() {
			return time.Since(start)
		}
		select {
		case <-p.exited:
			p.t.Fatalf("exporter exited (code %d) while waiting for %s", p.code, what)
		case <-time.After(20 * time.Millisecond):
		}
	}
	p.t.Fatalf("waited %s for %s", wait, what)
	return 0
}

// metric returns the value of one sample line of /metrics, e.g.
// `dbhealth_up{target="default"}`; ok is false when absent.
func (p *exporterProc) metric(series string) (value float64, ok bool) {
	_, body := p.get("/metrics")
	for _, line := range strings.Split(body, "\n") {
		if rest, found := strings.CutPrefix(line, series+" "); found {
			v, err := strconv.ParseFloat(strings.Fields(rest)[0], 64)
			return v, err == nil
		}
	}
	return 0, false
}

func (p *exporterProc) signal(sig syscall.Signal) {
	p.t.Helper()
	if err := p.cmd.Process.Signal(sig); err != nil {
		p.t.Fatal(err)
	}
}

// waitExit waits for the process to end and returns its exit code.
func (p *exporterProc) waitExit(wait time.Duration) int {
	p.t.Helper()
	select {
	case <-p.exited:
		return p.code
	case <-time.After(wait):
		p.t.Fatalf("exporter still running %s after the signal", wait)
		return -1
	}
}

// assertNoCanary fails if the canary password appears in anything the
// exporter printed or served.
func (p *exporterProc) assertNoCanary() {
	p.t.Helper()
	for name, text := range map[string]string{"output": p.output.String(), "responses": p.seen.String()} {
		if strings.Contains(text, canary) {
			p.t.Errorf("the canary password appears in the exporter's %s", name)
		}
	}
}

// tool runs a command and returns its combined output.
func tool(name string, args ...string) (string, error) {
	out, err := exec.Command(name, args...).CombinedOutput()
	return string(out), err
}

// canaryCluster starts a private cluster with a role whose password is the
// canary and returns the cluster and a DSN for that role.
func canaryCluster(t *testing.T, opts ...pgtest.Option) (*pgtest.Cluster, string) {
	t.Helper()
	c := pgtest.New(t, opts...)
	c.CreateRole(t, "app", canary)
	db := dbName(c.NewDatabase(t))
	c.Exec(t, db, "GRANT ALL ON SCHEMA public TO app")
	return c, c.RoleDSN("app", canary, db)
}
