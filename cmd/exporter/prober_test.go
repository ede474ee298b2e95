package main

import (
	"context"
	"net/http"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/dbhealth/dbhealth-exporter/internal/pgtest"
)

// kubeletProbe is an httpGet probe with the kubelet's semantics: success is
// a status in 200-399 within timeout; the probe's state changes after
// failureThreshold consecutive failures or successThreshold consecutive
// successes. Readiness starts as not ready, liveness as alive.
type kubeletProbe struct {
	path             string
	period, timeout  time.Duration
	failureThreshold int
	successThreshold int
	initial          bool
}

type probeResult struct {
	at   time.Time
	ok   bool
	code int // 0: no HTTP answer (refused, timeout)
}

// prober runs a kubeletProbe against the exporter and keeps every result
// and the probe's state over time.
type prober struct {
	probe   kubeletProbe
	url     string
	mu      sync.Mutex
	results []probeResult
	state   bool
	changes []probeResult // when the state flipped, and to what
}

func startProber(t *testing.T, addr string, probe kubeletProbe) *prober {
	p := &prober{probe: probe, url: "http://" + addr + probe.path, state: probe.initial}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); p.loop(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	return p
}

func (p *prober) loop(ctx context.Context) {
	client := http.Client{Timeout: p.probe.timeout}
	var fails, successes int
	for {
		res := probeResult{at: time.Now()}
		if resp, err := client.Get(p.url); err == nil {
			resp.Body.Close()
			res.code = resp.StatusCode
			res.ok = resp.StatusCode >= 200 && resp.StatusCode < 400
		}
		p.mu.Lock()
		p.results = append(p.results, res)
		if res.ok {
			successes, fails = successes+1, 0
		} else {
			fails, successes = fails+1, 0
		}
		switch {
		case p.state && fails >= p.probe.failureThreshold:
			p.state = false
			p.changes = append(p.changes, probeResult{at: res.at, ok: false})
		case !p.state && successes >= p.probe.successThreshold:
			p.state = true
			p.changes = append(p.changes, probeResult{at: res.at, ok: true})
		}
		p.mu.Unlock()
		select {
		case <-ctx.Done():
			return
		case <-time.After(p.probe.period):
		}
	}
}

func (p *prober) current() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.state
}

// between returns the results in [from, to).
func (p *prober) between(from, to time.Time) []probeResult {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []probeResult
	for _, r := range p.results {
		if !r.at.Before(from) && r.at.Before(to) {
			out = append(out, r)
		}
	}
	return out
}

func (p *prober) waitState(t *testing.T, what string, want bool) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for p.current() != want {
		if time.Now().After(deadline) {
			t.Fatalf("the kubelet's %s probe never became %v", what, want)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// The kubelet drives the real exporter through cold start, a database
// outage, recovery and a SIGTERM drain: liveness never fails, readiness
// follows the database, and the drain is honoured.
func TestKubelet_LivenessNeverFailsReadinessFollowsAndDrainIsHonoured(t *testing.T) {
	cluster := pgtest.New(t)
	proxy := pgtest.NewProxy(t, cluster.Addr())
	proxy.Blackhole() // the first check hangs for its whole timeout: a slow cold start
	const delay = 1500 * time.Millisecond
	p := startExporter(t, []string{"DATABASE_URL=postgres://postgres@" + proxy.Addr() + "/postgres?sslmode=disable"},
		"--check.interval=300ms", "--check.timeout=250ms", "--web.shutdown-delay="+delay.String())
	live := startProber(t, p.addr, kubeletProbe{path: "/livez", period: 100 * time.Millisecond, timeout: time.Second,
		failureThreshold: 3, successThreshold: 1, initial: true})
	ready := startProber(t, p.addr, kubeletProbe{path: "/readyz", period: 100 * time.Millisecond, timeout: time.Second,
		failureThreshold: 1, successThreshold: 1, initial: false})

	// Cold start: not ready while the database does not answer.
	time.Sleep(600 * time.Millisecond)
	if ready.current() {
		t.Fatal("ready before any check succeeded")
	}
	proxy.Restore()
	ready.waitState(t, "readiness", true)

	// Outage and recovery.
	cluster.Stop(t)
	ready.waitState(t, "readiness", false)
	cluster.Start(t)
	ready.waitState(t, "readiness", true)

	// SIGTERM: readiness fails at once while the server keeps answering for
	// the shutdown delay, then the server goes away.
	sigterm := time.Now()
	p.signal(syscall.SIGTERM)
	ready.waitState(t, "readiness", false)
	if took := time.Since(sigterm); took > delay/2 {
		t.Errorf("readiness failed %s after SIGTERM; it must fail at once", took)
	}
	if code := p.waitExit(15 * time.Second); code != 0 {
		t.Fatalf("exit code %d", code)
	}
	exited := time.Now()

	drain := ready.between(sigterm, exited)
	var firstRefused time.Time
	for _, r := range drain {
		if r.code == 0 {
			firstRefused = r.at
			break
		}
	}
	switch {
	case firstRefused.IsZero():
	case firstRefused.Sub(sigterm) < delay:
		t.Errorf("the server stopped answering %s after SIGTERM, before the %s drain", firstRefused.Sub(sigterm), delay)
	}
	var served int
	for _, r := range drain {
		if r.code == http.StatusServiceUnavailable {
			served++
		}
	}
	if served < 5 {
		t.Errorf("only %d readiness answers during the drain", served)
	}

	// Liveness: not one failed probe from start to exit.
	for _, r := range live.between(time.Time{}, exited) {
		if !r.ok && r.at.Before(sigterm.Add(delay)) {
			t.Errorf("liveness failed at %s (code %d)", r.at.Format(time.RFC3339Nano), r.code)
		}
	}
	live.mu.Lock()
	defer live.mu.Unlock()
	for _, c := range live.changes {
		if c.at.Before(sigterm.Add(delay)) {
			t.Errorf("the kubelet would have restarted the exporter at %s", c.at.Format(time.RFC3339Nano))
		}
	}
	t.Logf("%d liveness and %d readiness probes; readiness changes: %d", len(live.results), len(ready.results), len(ready.changes))
}
