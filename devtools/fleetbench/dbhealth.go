package main

import (
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/dbhealth/dbhealth-exporter/devtools/internal/benchkit"
)

// fleetConfig is one fleet exporter's configuration file: n targets on c,
// each with one label (team, 20 teams), the first blackholed of them
// pointing at blackhole instead of the cluster.
type fleetConfig struct {
	n, blackholed int
	auth          bool   // the scram role over TLS, its password in passwordFile
	passwordFile  string // with auth
	blackhole     string // address of a server that never answers
	interval      time.Duration
	timeout       time.Duration
}

// render writes the YAML (docs/configuration.md, "Fleet mode").
func (f fleetConfig) render(c *cluster) string {
	var b strings.Builder
	fmt.Fprintf(&b, "defaults: {interval: %s, timeout: %s}\ntargets:\n", f.interval, f.timeout)
	for i := range f.n {
		db := dbName(i)
		dsn := c.dsn(db, f.auth)
		if i < f.blackholed {
			dsn = fmt.Sprintf("postgres://postgres@%s/%s?sslmode=disable", f.blackhole, db)
		}
		fmt.Fprintf(&b, "  - name: %s\n    database: {dsn: %q", db, dsn)
		if f.auth && i >= f.blackholed {
			fmt.Fprintf(&b, ", password_file: %q", f.passwordFile)
		}
		fmt.Fprintf(&b, "}\n    labels: {team: team%02d}\n", i%20)
	}
	return b.String()
}

// fleetRun is one fleet exporter measured at one size in one round.
type fleetRun struct {
	n       int
	auth    bool
	startup time.Duration // from start until every target had run once
	steady  usage         // procs[0]: the exporter; trees[0]: the fleet's cluster
	runs    float64       // check runs in the steady window (one backend start each)
	xacts   float64
	idle    benchkit.Memory // at the end of the steady window, before any scrape
	hwm     int64           // KiB, at the end
	// perRun is backend starts per check run over the exporter's life
	// (dbhealth_check_runs_total against pg_stat_database.sessions).
	perRun float64
	ready  int // targets ready at the first scrape

	plain, gzip, list block
	series            int
	uncompressed      int // bytes of the exposition, gzip undone
	levels            []gzipLevel
	probeLat          map[string][]time.Duration
	probeFails        map[string]int
}

// bench is the run's fixed parts.
type bench struct {
	o        options
	c        *cluster
	sidecar  *benchkit.Proc // the single-target exporter, on a cluster of its own
	sideTree int            // its cluster's postmaster
	dir      string
	pwFile   string
}

// measureFleet starts the exporter binary over n targets, waits until
// every target has run, and measures it: the steady window (nothing but
// the checks), the scrapes, /targets, and the probes next to the
// single-target exporter's.
func (bn *bench) measureFleet(ctx context.Context, n int, auth bool) (*fleetRun, error) {
	o := bn.o
	cfg := fleetConfig{n: n, auth: auth, passwordFile: bn.pwFile, interval: o.interval, timeout: o.timeout}
	path := filepath.Join(bn.dir, fmt.Sprintf("fleet-%d.yml", n))
	if err := os.WriteFile(path, []byte(cfg.render(bn.c)), 0o600); err != nil {
		return nil, err
	}
	dbs := bn.c.dbs[:n]
	before, err := bn.c.readStats(ctx, dbs)
	if err != nil {
		return nil, err
	}
	name := fmt.Sprintf("dbhealth-%d", n)
	if auth {
		name += "-tls"
	}
	p, err := startProc(name, bn.dir, o.exporter, []string{"--config.file=" + path, "--web.shutdown-delay=0s"}, nil)
	if err != nil {
		return nil, err
	}
	defer p.Stop()
	started := time.Now()
	if err := waitOK(ctx, p, "/readyz", 30*time.Second); err != nil {
		return nil, err
	}
	r := &fleetRun{n: n, auth: auth}
	if err := bn.c.waitSessions(ctx, dbs, before, o.interval+o.timeout+30*time.Second); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	r.startup = time.Since(started)
	// Let the first runs' allocations settle into the steady state: a
	// whole interval more.
	if err := sleep(ctx, o.interval); err != nil {
		return nil, err
	}

	s0, err := bn.c.readStats(ctx, dbs)
	if err != nil {
		return nil, err
	}
	m := startMeter([]int{p.PID()}, []int{bn.c.postmaster()})
	if err := sleep(ctx, o.window); err != nil {
		return nil, err
	}
	r.steady = m.stop()
	s1, err := bn.c.readStats(ctx, dbs)
	if err != nil {
		return nil, err
	}
	r.runs, r.xacts = s1.sessions-s0.sessions, s1.xacts-s0.xacts
	r.idle = readMemory(p.PID())
	logf("%s: steady %.3f cores, %.1f runs/s, RSS %.1f MiB", name, r.steady.procs[0], r.runs/r.steady.elapsed.Seconds(), r.idle.MiB())

	// Scrapes, one at a time over one connection, as Prometheus does:
	// uncompressed and gzip in turn, then /targets.
	client := newClient(1, 30*time.Second)
	defer client.CloseIdleConnections()
	plainH := http.Header{"Accept": {prometheusAccept}}
	gzipH := http.Header{"Accept": {prometheusAccept}, "Accept-Encoding": {"gzip"}}
	sBefore, err := bn.c.readStats(ctx, dbs)
	if err != nil {
		return nil, err
	}
	for i := range 2 {
		b, err := runBlock(ctx, client, p.PID(), p.URL+"/metrics", plainH, o.block)
		if err != nil {
			return nil, err
		}
		if i == 0 {
			e := parseExposition(b.first)
			r.series = len(e)
			r.uncompressed = len(b.first)
			r.ready = e.count("dbhealth_target_ready", 1)
			if runs := e.sum("dbhealth_check_runs_total"); runs > 0 {
				r.perRun = (sBefore.sessions - before.sessions) / runs
			}
			r.levels = gzipLevels(b.first)
		}
		r.plain = r.plain.merge(b)
		if b, err = runBlock(ctx, client, p.PID(), p.URL+"/metrics", gzipH, o.block); err != nil {
			return nil, err
		}
		r.gzip = r.gzip.merge(b)
	}
	if r.list, err = runBlock(ctx, client, p.PID(), p.URL+"/targets", nil, o.block); err != nil {
		return nil, err
	}

	// Probes: the fleet's per-target readiness (a random target each
	// time), its own /readyz, and the single-target exporter's /readyz,
	// in turn, at a modest rate.
	fleetClient := newClient(o.probeWorkers, 10*time.Second)
	sideClient := newClient(o.probeWorkers, 10*time.Second)
	defer fleetClient.CloseIdleConnections()
	defer sideClient.CloseIdleConnections()
	names := make([]string, n)
	for i := range names {
		names[i] = p.URL + "/targets/" + dbName(i) + "/readyz"
	}
	paths := []probePath{
		{label: "fleet /targets/<name>/readyz", client: fleetClient, url: func(int) string { return names[rand.IntN(n)] }},
		{label: "fleet /readyz", client: fleetClient, url: func(int) string { return p.URL + "/readyz" }},
		{label: "single-target /readyz", client: sideClient, url: func(int) string { return bn.sidecar.URL + "/readyz" }},
	}
	r.probeLat, r.probeFails = probeLoad(ctx, paths, o.probeRate, o.probeWorkers, o.probeDuration)
	r.hwm = readMemory(p.PID()).HWM
	return r, nil
}

// gzipLevel is the exposition compressed at one gzip level, here in the
// harness: its size, and the best of three times (one goroutine).
type gzipLevel struct {
	level int
	size  int
	cpu   time.Duration
}

// gzipLevels compresses body at the level client_golang uses
// (gzip.DefaultCompression, 6) and at gzip.BestSpeed (1).
func gzipLevels(body []byte) []gzipLevel {
	var out []gzipLevel
	for _, level := range []int{gzip.DefaultCompression, gzip.BestSpeed} {
		l := gzipLevel{level: level, cpu: time.Hour}
		for range 3 {
			var buf bytes.Buffer
			t := time.Now()
			w, _ := gzip.NewWriterLevel(&buf, level)
			_, _ = w.Write(body)
			_ = w.Close()
			l.cpu, l.size = min(l.cpu, time.Since(t)), buf.Len()
		}
		if level == gzip.DefaultCompression {
			l.level = 6
		}
		out = append(out, l)
	}
	return out
}

// merge adds b's requests to a.
func (a block) merge(b block) block {
	a.latencies = append(a.latencies, b.latencies...)
	a.wire = b.wire
	if a.first == nil {
		a.first = b.first
	}
	a.elapsed += b.elapsed
	a.cpu += b.cpu
	return a
}

func sleep(ctx context.Context, d time.Duration) error {
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(d):
		return nil
	}
}
