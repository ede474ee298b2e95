package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"time"
)

// blackhole accepts TCP connections and never answers: a PostgreSQL
// client's startup waits until its own deadline, as with a server whose
// network drops packets after the handshake, or one that hangs.
type blackhole struct {
	l     net.Listener
	mu    sync.Mutex
	conns []net.Conn
}

func startBlackhole() (*blackhole, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	b := &blackhole{l: l}
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			b.mu.Lock()
			b.conns = append(b.conns, c)
			b.mu.Unlock()
			go func() { _, _ = io.Copy(io.Discard, c); c.Close() }()
		}
	}()
	return b, nil
}

func (b *blackhole) addr() string { return b.l.Addr().String() }

func (b *blackhole) close() {
	b.l.Close()
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, c := range b.conns {
		c.Close()
	}
}

// blackholeRun is a fleet with some targets blackholed: how the others'
// checks keep their schedule when blackholed runs hold the slots of
// --fleet.max-concurrent-checks for their whole timeout.
type blackholeRun struct {
	n, blackholed int
	window        time.Duration
	healthyRuns   float64 // check runs of the healthy targets in the window
	ages          []float64
	stale         int // healthy targets seen stale at some sample
	cpu           float64
	samples       int
}

func (bn *bench) measureBlackhole(ctx context.Context, n, blackholed int) (*blackholeRun, error) {
	o := bn.o
	bh, err := startBlackhole()
	if err != nil {
		return nil, err
	}
	defer bh.close()
	cfg := fleetConfig{n: n, blackholed: blackholed, blackhole: bh.addr(), interval: o.interval, timeout: o.timeout}
	path := filepath.Join(bn.dir, fmt.Sprintf("fleet-%d-blackholed-%d.yml", n, blackholed))
	if err := os.WriteFile(path, []byte(cfg.render(bn.c)), 0o600); err != nil {
		return nil, err
	}
	healthy := bn.c.dbs[blackholed:n]
	before, err := bn.c.readStats(ctx, healthy)
	if err != nil {
		return nil, err
	}
	name := fmt.Sprintf("dbhealth-%d-blackholed-%d", n, blackholed)
	p, err := startProc(name, bn.dir, o.exporter, []string{"--config.file=" + path, "--web.shutdown-delay=0s", "--log.level=error"}, nil)
	if err != nil {
		return nil, err
	}
	defer p.Stop()
	if err := waitOK(ctx, p, "/readyz", 30*time.Second); err != nil {
		return nil, err
	}
	if err := bn.c.waitSessions(ctx, healthy, before, 2*(o.interval+o.timeout)+30*time.Second); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if err := sleep(ctx, o.interval); err != nil {
		return nil, err
	}
	r := &blackholeRun{n: n, blackholed: blackholed}
	s0, err := bn.c.readStats(ctx, healthy)
	if err != nil {
		return nil, err
	}
	m := startMeter([]int{p.PID()}, nil)
	client := newClient(1, 30*time.Second)
	defer client.CloseIdleConnections()
	header := http.Header{"Accept": {prometheusAccept}}
	isHealthy := map[string]bool{}
	for _, db := range healthy {
		isHealthy[db] = true
	}
	stale := map[string]bool{}
	end := time.Now().Add(o.blackholeWindow)
	for time.Now().Before(end) {
		at := time.Now()
		code, _, body, err := fetch(ctx, client, p.URL+"/metrics", header)
		if err != nil {
			return nil, err
		}
		if code != http.StatusOK {
			return nil, fmt.Errorf("%s /metrics: %d", name, code)
		}
		e := parseExposition(body)
		for target, ts := range e.byTarget("dbhealth_check_last_run_timestamp_seconds") {
			if isHealthy[target] {
				r.ages = append(r.ages, at.Sub(time.Unix(0, int64(ts*1e9))).Seconds())
			}
		}
		for target := range e.staleTargets() {
			if isHealthy[target] {
				stale[target] = true
			}
		}
		r.samples++
		if err := sleep(ctx, time.Until(at.Add(o.interval/2))); err != nil {
			return nil, err
		}
	}
	u := m.stop()
	r.window, r.cpu = u.elapsed, u.procs[0]
	s1, err := bn.c.readStats(ctx, healthy)
	if err != nil {
		return nil, err
	}
	r.healthyRuns = s1.sessions - s0.sessions
	r.stale = len(stale)
	logf("%s: healthy targets %.1f runs/s (%.1f expected at most), %d stale", name,
		r.healthyRuns/r.window.Seconds(), float64(n-blackholed)/o.interval.Seconds(), r.stale)
	return r, nil
}
