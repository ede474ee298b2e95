package main

import (
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dbhealth/dbhealth-exporter/devtools/internal/benchkit"
	"github.com/dbhealth/dbhealth-exporter/internal/config"
)

func TestSamples_LabelsWithSpacesAndTheTargetLabel(t *testing.T) {
	body := []byte(`# HELP dbhealth_up 1 if ...
# TYPE dbhealth_up gauge
dbhealth_up{target="fb0001",team="team01"} 1
dbhealth_database_info{database="fb0001",server_version="15.18 (Debian 15.18-0+deb12u1)",target="fb0001"} 1
dbhealth_check_status{check="database",status="stale",target="fb0002"} 1
dbhealth_check_status{check="database",status="ok",target="fb0002"} 0
dbhealth_check_last_run_timestamp_seconds{check="database",target="fb0001"} 1.7e+09
dbhealth_targets 2
dbhealth_check_runs_total{check="database",result="success",target="fb0001"} 12
dbhealth_check_runs_total{check="database",result="failure",target="fb0001"} 3
# EOF
`)
	e := parseExposition(body)
	if len(e) != 8 {
		t.Fatalf("%d samples, want 8: %+v", len(e), e)
	}
	if got := e.sum("dbhealth_check_runs_total"); got != 15 {
		t.Errorf("runs: %v", got)
	}
	if got := e.count("dbhealth_up", 1); got != 1 {
		t.Errorf("up: %v", got)
	}
	if got := e.byTarget("dbhealth_check_last_run_timestamp_seconds"); len(got) != 1 || got["fb0001"] != 1.7e9 {
		t.Errorf("last run: %v", got)
	}
	if got := e.staleTargets(); len(got) != 1 || !got["fb0002"] {
		t.Errorf("stale: %v", got)
	}
	if got := e[1].label("server_version"); got != "15.18 (Debian 15.18-0+deb12u1)" {
		t.Errorf("server_version: %q", got)
	}
	// "target" must not match inside another label's name.
	s := sample{labels: `xtarget="no",target="yes"`}
	if got := s.label("target"); got != "yes" {
		t.Errorf("target: %q", got)
	}
}

func TestStats(t *testing.T) {
	if got := med([]int{3, 1, 2, 10}, func(x int) float64 { return float64(x) }); got != 2.5 {
		t.Errorf("med: %v", got)
	}
	if got := slope([]float64{1, 100, 1000}, []float64{2, 101, 1001}); math.Abs(got-1) > 1e-9 {
		t.Errorf("slope: %v", got)
	}
	if got := dur(seconds(math.NaN())); got != "–" {
		t.Errorf("NaN: %q", got)
	}
	if got := dur(0); got != "0" {
		t.Errorf("zero: %q", got)
	}
}

// The fleet configuration the harness writes is one the exporter loads:
// every target, its label, the blackholed ones pointing elsewhere, and
// the password file for the authenticated variant.
func TestFleetConfig_LoadsAsTheExporterReadsIt(t *testing.T) {
	c := &cluster{addr: "127.0.0.1:5432"}
	dir := t.TempDir()
	pw := filepath.Join(dir, "password")
	if err := os.WriteFile(pw, []byte("x\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, auth := range []bool{false, true} {
		cfg := fleetConfig{n: 5, blackholed: 2, auth: auth, passwordFile: pw, blackhole: "127.0.0.1:9",
			interval: 10 * time.Second, timeout: 2 * time.Second}
		path := filepath.Join(dir, "fleet.yml")
		if err := os.WriteFile(path, []byte(cfg.render(c)), 0o600); err != nil {
			t.Fatal(err)
		}
		f, err := config.Load(path, func(string) string { return "" })
		if err != nil {
			t.Fatalf("auth=%v: %v\n%s", auth, err, cfg.render(c))
		}
		if len(f.Targets) != 5 || len(f.Warnings) != 0 {
			t.Fatalf("auth=%v: %d targets, warnings %v", auth, len(f.Targets), f.Warnings)
		}
		for i, tg := range f.Targets {
			if tg.Name != dbName(i) || tg.Labels["team"] == "" {
				t.Errorf("target %d: %+v", i, tg)
			}
			blackholed := strings.Contains(tg.Database.DSN, "127.0.0.1:9/")
			if blackholed != (i < 2) {
				t.Errorf("target %d: dsn %s", i, tg.Database.DSN)
			}
			if hasPW := tg.Database.PasswordFile != ""; hasPW != (auth && i >= 2) {
				t.Errorf("target %d: password file %q", i, tg.Database.PasswordFile)
			}
		}
	}
}

// The report renders from a round's measurements (and from none at all,
// where medians are of nothing).
func TestMarkdown_RendersEveryTable(t *testing.T) {
	o := options{sizes: []int{1, 1000}, rounds: 1, interval: 10 * time.Second, timeout: 2 * time.Second,
		window: 30 * time.Second, block: 3 * time.Second, probeRate: 300, probeWorkers: 4, probeDuration: 10 * time.Second,
		connRate: 100, connTargets: 1000, connDuration: 20 * time.Second, blackholeWindow: 40 * time.Second}
	steady := usage{elapsed: 30 * time.Second, procs: []float64{0.05}, procCPU: []time.Duration{1500 * time.Millisecond},
		trees: []float64{0.2}, treeCPU: []time.Duration{6 * time.Second}}
	lat := []time.Duration{time.Millisecond, 2 * time.Millisecond}
	fr := func(n int) *fleetRun {
		return &fleetRun{n: n, steady: steady, runs: float64(n) * 3, xacts: float64(n) * 9,
			idle: benchkit.Memory{RSS: 30000, Anon: 12000, File: 18000}, hwm: 60000,
			plain:    block{latencies: lat, wire: 4 << 20, elapsed: time.Second, cpu: 500 * time.Millisecond},
			gzip:     block{latencies: lat, wire: 300 << 10, elapsed: time.Second, cpu: 700 * time.Millisecond},
			list:     block{latencies: lat, wire: 100 << 10, elapsed: time.Second, cpu: 100 * time.Millisecond},
			probeLat: map[string][]time.Duration{"fleet /targets/<name>/readyz": lat, "fleet /readyz": lat, "single-target /readyz": lat},
		}
	}
	r := &results{o: o, started: time.Now(), finished: time.Now(),
		fleet: map[fleetKey][]*fleetRun{{1, false}: {fr(1)}, {1000, false}: {fr(1000)}, {1000, true}: {fr(1000)}},
		pge: map[int][]*pgeRun{1000: {{n: 1000, steady: steady, sessions: 6000, xacts: 15000,
			scrapes: []scrape{{start: time.Now(), end: time.Now().Add(time.Millisecond), wire: 700, ok: true}}}}},
		conn: map[string][]*connRun{
			connVariants[0].name + "/fresh": {{ops: 2000, client: time.Millisecond, server: 2 * time.Millisecond, sessions: 1}},
			connVariants[0].name + "/warm":  {{ops: 2000, client: 100 * time.Microsecond, server: 50 * time.Microsecond, held: 1000, heldPrivate: 2000000}},
		},
		blackhole:  map[int][]*blackholeRun{0: {{n: 1000, window: 40 * time.Second, healthyRuns: 4000, ages: []float64{1, 5, 9}}}},
		pgeDefault: &pgeDefault{probes: 1, latency: lat, wire: 1000, body: 10000, series: 100},
	}
	md := r.markdown()
	for _, want := range []string{"#### Cost at scale", "#### Memory", "#### `/metrics` and `/targets`", "#### Probe latency",
		"#### Connection cost", "#### A blackholed part", "#### Targets (1000 targets", "postgres_exporter /probe, pg_up only"} {
		if !strings.Contains(md, want) {
			t.Errorf("no %q in:\n%s", want, md)
		}
	}
	if strings.Contains(md, "NaN") || strings.Contains(md, "Inf") {
		t.Errorf("a figure is not a number:\n%s", md)
	}
	empty := &results{o: o, fleet: map[fleetKey][]*fleetRun{}, pge: map[int][]*pgeRun{}, conn: map[string][]*connRun{}, blackhole: map[int][]*blackholeRun{}}
	_ = empty.markdown()
}
