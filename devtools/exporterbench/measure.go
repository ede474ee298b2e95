package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/dbhealth/dbhealth-exporter/devtools/internal/benchkit"
	"github.com/dbhealth/dbhealth-exporter/internal/pgtest"
)

// The databases of the main cluster: one per server, so pg_stat_database
// tells their costs apart.
const (
	dbExporter   = "exporter_10s"
	dbExporter1s = "exporter_1s"
	dbLibHealth  = "libhealth"
	dbNaive      = "naive"
)

var (
	// sched10 is the exporter's default schedule.
	sched10 = schedule{interval: 10 * time.Second, timeout: 2 * time.Second}
	// sched1 is the fastest sensible one; the timeout must be shorter than
	// the interval.
	sched1 = schedule{interval: time.Second, timeout: 500 * time.Millisecond}
)

// prometheusHeader is what Prometheus sends with a scrape (OpenMetrics
// preferred, gzip): /metrics is measured as it is really scraped.
var prometheusHeader = http.Header{
	"Accept":          {"application/openmetrics-text;version=1.0.0;q=0.5,application/openmetrics-text;version=0.0.1;q=0.4,text/plain;version=0.0.4;q=0.3,*/*;q=0.2"},
	"Accept-Encoding": {"gzip"},
}

// measure is the whole wrk run: it starts the clusters and servers, runs
// the phases (see the package comment and docs/benchmarks.md) and returns
// the figures.
func measure(ctx context.Context, o options) (*results, error) {
	res := &results{load: o.load, rounds: o.rounds, started: time.Now(),
		sustain: load{threads: o.load.threads, connections: o.load.connections, duration: o.sustain}}
	binary, err := filepath.Abs(o.exporter)
	if err != nil {
		return nil, err
	}
	if _, err := os.Stat(binary); err != nil {
		return nil, fmt.Errorf("exporter binary: %w (make build)", err)
	}
	tmp, err := os.MkdirTemp("", "exporterbench-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmp)
	w, err := newWrk(tmp)
	if err != nil {
		return nil, err
	}
	res.machine = describeMachine()
	res.machine.OthersAtStart = benchkit.WaitQuiet(o.waitQuiet, logf)
	res.machine.LoadStart = benchkit.LoadAvg()

	logf("starting four PostgreSQL clusters")
	main, err := pgtest.Start()
	if err != nil {
		return nil, err
	}
	defer main.Close()
	res.machine.Postgres = serverVersion(ctx, main)
	if err := createDatabases(ctx, main, dbExporter, dbExporter1s, dbLibHealth, dbNaive); err != nil {
		return nil, err
	}
	// The outage measurements stop and start clusters of their own: one
	// for the 1s exporter, two for 10s ones (their repetitions are long).
	lanes := []*lane{{sched: sched1}, {sched: sched10}, {sched: sched10}}
	for _, l := range lanes {
		if l.cluster, err = pgtest.Start(); err != nil {
			return nil, err
		}
		defer l.cluster.Close()
	}

	var procs []*benchkit.Proc
	defer func() {
		for _, p := range procs {
			p.Stop()
		}
	}()
	keep := func(p *benchkit.Proc, err error) (*benchkit.Proc, error) {
		if err == nil {
			procs = append(procs, p)
		}
		return p, err
	}
	logf("starting %d exporters", 2+len(lanes))
	ex10, err := keep(startExporter(binary, "exporter-10s", main.DSN(dbExporter), tmp, sched10))
	if err != nil {
		return nil, err
	}
	ex1, err := keep(startExporter(binary, "exporter-1s", main.DSN(dbExporter1s), tmp, sched1))
	if err != nil {
		return nil, err
	}
	waitFor := []*benchkit.Proc{ex10, ex1}
	for i, l := range lanes {
		name := fmt.Sprintf("outage-%d-%s", i, l.sched.interval)
		if l.exporter, err = keep(startExporter(binary, name, l.cluster.DSN("postgres"), tmp, l.sched)); err != nil {
			return nil, err
		}
		waitFor = append(waitFor, l.exporter)
	}
	client := &http.Client{Timeout: 2 * time.Second}
	for _, p := range waitFor {
		if _, err := waitStatus(ctx, client, p.URL+"/readyz", http.StatusOK, 10*time.Millisecond, 15*time.Second); err != nil {
			return nil, fmt.Errorf("%s: %w; log:\n%s", p.Name, err, benchkit.Tail(p.Log))
		}
	}
	res.commands = append(res.commands,
		fmt.Sprintf("DATABASE_URL=postgres://postgres@127.0.0.1:PORT/%s %s %s", dbExporter, o.exporter, join(exporterArgs("127.0.0.1:PORT", sched10))),
		fmt.Sprintf("DATABASE_URL=postgres://postgres@127.0.0.1:PORT/%s %s %s", dbExporter1s, o.exporter, join(exporterArgs("127.0.0.1:PORT", sched1))))

	body, err := get(client, ex10.URL+"/readyz")
	if err != nil {
		return nil, err
	}
	bodyFile := filepath.Join(tmp, "readyz.json")
	if err := os.WriteFile(bodyFile, body, 0o644); err != nil {
		return nil, err
	}
	logf("starting the comparison servers (the exporter's /readyz answer is %d bytes)", len(body))
	bare, err := keep(startComparison("bare", []string{"-body", bodyFile}, tmp))
	if err != nil {
		return nil, err
	}
	lh, err := keep(startComparison("libhealth", []string{"-dsn", main.DSN(dbLibHealth), "-size", strconv.Itoa(len(body)),
		"-interval", sched10.interval.String(), "-timeout", sched10.timeout.String()}, tmp))
	if err != nil {
		return nil, err
	}
	naive, err := keep(startComparison("naive", []string{"-dsn", main.DSN(dbNaive), "-body", bodyFile}, tmp))
	if err != nil {
		return nil, err
	}
	for _, u := range []string{bare.URL + "/readyz", lh.URL + "/", naive.URL + "/readyz"} {
		if _, err := waitStatus(ctx, client, u, http.StatusOK, 10*time.Millisecond, 15*time.Second); err != nil {
			return nil, err
		}
	}

	dbs := []string{dbExporter, dbExporter1s, dbLibHealth, dbNaive}
	// totals reads both exporters' own check figures, next to each
	// pg_stat_database reading.
	totals := func() (ex10Totals, ex1Totals checkTotals, err error) {
		if ex10Totals, err = readCheckTotals(client, ex10.URL); err == nil {
			ex1Totals, err = readCheckTotals(client, ex1.URL)
		}
		return ex10Totals, ex1Totals, err
	}
	s0, err := readStats(ctx, main, dbs)
	if err != nil {
		return nil, err
	}
	c10s0, c1s0, err := totals()
	if err != nil {
		return nil, err
	}

	// (d), while (b) and (c) watch the idle servers of the main cluster.
	logf("outages: stopping and starting %d clusters (at least %d times each, about %s); the main cluster idles", len(lanes), o.outageReps, o.outageBudget)
	if res.outages, err = runLanes(ctx, lanes, o.outageReps, o.outageBudget); err != nil {
		return nil, fmt.Errorf("outage measurement: %w", err)
	}
	idle := map[*benchkit.Proc]benchkit.Memory{}
	for _, p := range []*benchkit.Proc{ex10, ex1, bare, lh, naive} {
		if idle[p], err = benchkit.ReadMemory(p.PID()); err != nil {
			return nil, err
		}
	}
	s1, err := readStats(ctx, main, dbs)
	if err != nil {
		return nil, err
	}
	c10s1, c1s1, err := totals()
	if err != nil {
		return nil, err
	}
	for _, l := range lanes {
		l.exporter.Stop()
	}

	// (b) and (c) at full rate, before /metrics has grown any heap: both
	// exporters' /readyz under wrk at once.
	logf("full rate: wrk %s on both exporters' /readyz at once", res.sustain)
	var wg sync.WaitGroup
	var werr10, werr1 error
	mem10, mem1 := sampleMemory(ex10.PID(), 100*time.Millisecond), sampleMemory(ex1.PID(), 100*time.Millisecond)
	wg.Add(2)
	go func() { defer wg.Done(); res.sustain10, werr10 = w.run(ctx, res.sustain, ex10.URL+"/readyz", nil) }()
	go func() { defer wg.Done(); res.sustain1, werr1 = w.run(ctx, res.sustain, ex1.URL+"/readyz", nil) }()
	wg.Wait()
	if err := errors.Join(werr10, werr1); err != nil {
		return nil, err
	}
	s2, err := readStats(ctx, main, dbs)
	if err != nil {
		return nil, err
	}
	c10s2, c1s2, err := totals()
	if err != nil {
		return nil, err
	}
	peak10, peak1 := mem10.stop(), mem1.stop()

	// (a)
	res.bare = &target{name: "bare net/http handler (constant)", url: bare.URL + "/readyz", pid: bare.PID()}
	exReady := &target{name: "exporter `/readyz`", url: ex10.URL + "/readyz", pid: ex10.PID()}
	exLive := &target{name: "exporter `/healthz`", url: ex10.URL + "/healthz", pid: ex10.PID()}
	exMetrics := &target{name: "exporter `/metrics` (as Prometheus asks: OpenMetrics, gzip)", url: ex10.URL + "/metrics", header: prometheusHeader, pid: ex10.PID()}
	lhTarget := &target{name: "alexliesenfeld/health `NewHandler`, same periodic check", url: lh.URL + "/", pid: lh.PID()}
	naiveTarget := &target{name: "naive: `SELECT 1` per request (pgxpool)", url: naive.URL + "/readyz", pid: naive.PID()}
	res.targets = []*target{res.bare, exReady, exLive, exMetrics, lhTarget, naiveTarget}
	for r := range o.rounds {
		for i := range res.targets {
			t := res.targets[(i+r)%len(res.targets)]
			logf("round %d/%d: wrk %s %s", r+1, o.rounds, o.load, t.url)
			wr, err := measureTarget(ctx, w, o.load, t)
			if err != nil {
				return nil, err
			}
			t.runs = append(t.runs, wr)
		}
	}
	res.commands = append(res.commands, "wrk -s report.lua "+join(w.args(o.load, "URL", nil)),
		"wrk -s report.lua "+join(w.args(o.load, "http://127.0.0.1:PORT/metrics", prometheusHeader)))
	s3, err := readStats(ctx, main, dbs)
	if err != nil {
		return nil, err
	}
	c10s3, _, err := totals()
	if err != nil {
		return nil, err
	}

	// One scrape at a time: the latency of a scrape by one Prometheus.
	one := load{threads: 1, connections: 1, duration: o.load.duration}
	logf("one connection: wrk %s %s/metrics", one, ex10.URL)
	if res.metricsOneConn, err = w.run(ctx, one, ex10.URL+"/metrics", prometheusHeader); err != nil {
		return nil, err
	}
	res.metricsOneConnCmd = "wrk -s report.lua " + join(w.args(one, "http://127.0.0.1:PORT/metrics", prometheusHeader))

	end := map[*benchkit.Proc]benchkit.Memory{}
	for _, p := range []*benchkit.Proc{ex10, ex1, bare, lh, naive} {
		if end[p], err = benchkit.ReadMemory(p.PID()); err != nil {
			return nil, err
		}
	}
	peakOf := func(t *target) benchkit.Memory {
		var m benchkit.Memory
		for _, r := range t.runs {
			if r.peak.RSS > m.RSS {
				m = r.peak
			}
		}
		return m
	}
	hwm := func(p *benchkit.Proc) benchkit.Memory { m := end[p]; m.RSS = m.HWM; m.Anon, m.File = 0, 0; return m }
	ex10Name, ex1Name := "exporter, "+sched10.String(), "exporter, "+sched1.String()
	res.memory = []memRow{
		{process: ex10Name, situation: "idle", mem: idle[ex10]},
		{process: ex10Name, situation: fmt.Sprintf("`/readyz` at full rate, wrk `%s`, before any scrape (peak)", res.sustain), mem: peak10},
		{process: ex10Name, situation: fmt.Sprintf("side by side: `/metrics` under wrk `%s`, %d gzip scrapes at a time (peak of the rounds)", o.load, o.load.connections), mem: peakOf(exMetrics)},
		{process: ex10Name, situation: fmt.Sprintf("side by side: `/readyz` under wrk `%s` (peak of the rounds, heap grown by earlier `/metrics` runs)", o.load), mem: peakOf(exReady)},
		{process: ex10Name, situation: fmt.Sprintf("side by side: `/healthz` under wrk `%s` (peak of the rounds, heap grown by earlier `/metrics` runs)", o.load), mem: peakOf(exLive)},
		{process: ex10Name, situation: "VmHWM at the end", mem: hwm(ex10), hwm: true},
		{process: ex1Name, situation: "idle", mem: idle[ex1]},
		{process: ex1Name, situation: fmt.Sprintf("`/readyz` at full rate, wrk `%s`, before any scrape (peak)", res.sustain), mem: peak1},
		{process: ex1Name, situation: "VmHWM at the end", mem: hwm(ex1), hwm: true},
		{process: "bare handler", situation: "idle", mem: idle[bare]},
		{process: "bare handler", situation: "under wrk (peak of the rounds)", mem: peakOf(res.bare)},
		{process: "alexliesenfeld/health handler", situation: "idle", mem: idle[lh]},
		{process: "alexliesenfeld/health handler", situation: "under wrk (peak of the rounds)", mem: peakOf(lhTarget)},
		{process: "naive handler", situation: "idle", mem: idle[naive]},
		{process: "naive handler", situation: "under wrk (peak of the rounds)", mem: peakOf(naiveTarget)},
	}

	// The naive server's backends flush their statistics when they exit.
	naive.Stop()
	time.Sleep(time.Second)
	s4, err := readStats(ctx, main, dbs)
	if err != nil {
		return nil, err
	}

	sum := func(ts ...*target) (n int64, d time.Duration) {
		for _, t := range ts {
			for _, r := range t.runs {
				n, d = n+r.Requests, d+r.Duration
			}
		}
		return n, d
	}
	sideBySide, _ := sum(exReady, exLive, exMetrics)
	lhRequests, _ := sum(lhTarget)
	naiveRequests, naiveLoaded := sum(naiveTarget)
	res.costs = []costRow{
		{server: "exporter, " + sched10.String(), probes: "idle (no requests)", cost: cost(s0, s1, dbExporter), checks: ptr(between(c10s0, c10s1))},
		{server: "exporter, " + sched10.String(), probes: "side-by-side run (its /readyz, /healthz, /metrics under wrk half of the time)", requests: sideBySide, cost: cost(s2, s3, dbExporter), checks: ptr(between(c10s2, c10s3))},
		{server: "exporter, " + sched10.String(), probes: "/readyz at full rate", requests: res.sustain10.Requests, cost: cost(s1, s2, dbExporter), checks: ptr(between(c10s1, c10s2))},
		{server: "exporter, " + sched1.String(), probes: "idle (no requests)", cost: cost(s0, s1, dbExporter1s), checks: ptr(between(c1s0, c1s1))},
		{server: "exporter, " + sched1.String(), probes: "/readyz at full rate", requests: res.sustain1.Requests, cost: cost(s1, s2, dbExporter1s), checks: ptr(between(c1s1, c1s2))},
		{server: "alexliesenfeld/health, same check every 10s", probes: "idle (no requests)", cost: cost(s0, s1, dbLibHealth)},
		{server: "alexliesenfeld/health, same check every 10s", probes: "side-by-side run (under wrk a sixth of the time)", requests: lhRequests, cost: cost(s2, s3, dbLibHealth)},
		{server: "naive SELECT 1 per request", probes: "side-by-side run; per minute of its wrk time", requests: naiveRequests, cost: cost(s2, s4, dbNaive), loaded: naiveLoaded},
	}
	res.finished = time.Now()
	res.machine.LoadEnd = benchkit.LoadAvg()
	logf("done")
	return res, nil
}

func join(args []string) string {
	s := ""
	for i, a := range args {
		if i > 0 {
			s += " "
		}
		if needsQuote(a) {
			a = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
		}
		s += a
	}
	return s
}

func needsQuote(s string) bool {
	for _, r := range s {
		if r == ' ' || r == ';' || r == '*' || r == ',' || r == '"' {
			return true
		}
	}
	return false
}

func ptr[T any](v T) *T { return &v }
