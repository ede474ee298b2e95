package bench_test

import (
	"fmt"
	"net/http"
	"syscall"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/dbhealth/dbhealth-exporter/internal/bench"
	"github.com/dbhealth/dbhealth-exporter/internal/health"
	"github.com/dbhealth/dbhealth-exporter/internal/metrics"
)

// fleetRegistry registers, alone, the collector of n hand-made targets
// (bench.FleetTargets): metrics.NewCollector, the sidecar's, for "single",
// metrics.NewFleetCollector otherwise. The Go and process collectors are
// left out: they cost the same at every size (BenchmarkMetricsScrape has
// them).
func fleetRegistry(tb testing.TB, n int, single bool, opts bench.FleetOptions) *prometheus.Registry {
	tb.Helper()
	targets, closePool, err := bench.FleetTargets(n, opts)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(closePool)
	reg := prometheus.NewRegistry()
	if single {
		snap := targets[0].Snapshot
		reg.MustRegister(metrics.NewCollector(func() *health.Snapshot { return snap }))
	} else {
		reg.MustRegister(metrics.NewFleetCollector(func() []metrics.Target { return targets }, func() bool { return true }))
	}
	return reg
}

// fleetCases are the collectors BenchmarkFleetScrape compares: the
// sidecar's over one target, and the fleet's over 1, 100 and 1,000
// targets, without and with a configured label per target (a target with
// labels goes through metrics.FleetCollector's relabelling), and, to
// price them, without the series a fleet could do without
// (bench.FleetOptions.Lean).
var fleetCases = []struct {
	name   string
	n      int
	single bool
	opts   bench.FleetOptions
}{
	{"single", 1, true, bench.FleetOptions{}},
	{"fleet=1", 1, false, bench.FleetOptions{}},
	{"fleet=100", 100, false, bench.FleetOptions{}},
	{"fleet=100+labels", 100, false, bench.FleetOptions{Labels: true}},
	{"fleet=1000", 1000, false, bench.FleetOptions{}},
	{"fleet=1000+labels", 1000, false, bench.FleetOptions{Labels: true}},
	{"fleet=1000+lean", 1000, false, bench.FleetOptions{Lean: true}},
}

// BenchmarkFleetScrape is one scrape of a fleet's own metrics, built from
// hand-made snapshots (no database): Gather alone, then the /metrics
// handler as Prometheus asks (OpenMetrics), uncompressed and gzip. It
// reports the response's size (bytes/scrape) and the series per scrape;
// ns/op divided by the targets is the cost per target; cpu-ns/op is the
// process's CPU time per scrape, the garbage collector's included.
//
//	go test -run '^$' -bench FleetScrape -benchmem ./internal/bench/
func BenchmarkFleetScrape(b *testing.B) {
	for _, c := range fleetCases {
		reg := fleetRegistry(b, c.n, c.single, c.opts)
		b.Run(c.name+"/gather", func(b *testing.B) {
			b.ReportAllocs()
			series := 0
			cpu := cpuTime()
			for b.Loop() {
				mfs, err := reg.Gather()
				if err != nil {
					b.Fatal(err)
				}
				series = 0
				for _, mf := range mfs {
					series += len(mf.Metric)
				}
			}
			reportCPU(b, cpu)
			b.ReportMetric(float64(series), "series/scrape")
		})
		for _, enc := range []struct {
			name string
			gzip bool
		}{{"http-openmetrics", false}, {"http-openmetrics-gzip", true}} {
			h := promhttp.HandlerFor(reg, promhttp.HandlerOpts{EnableOpenMetrics: true})
			header := http.Header{"Accept": PrometheusScrapeHeader["Accept"]}
			if enc.gzip {
				header["Accept-Encoding"] = []string{"gzip"}
			}
			b.Run(c.name+"/"+enc.name, func(b *testing.B) {
				b.ReportAllocs()
				size := 0
				cpu := cpuTime()
				for b.Loop() {
					code, body := bench.Get(h, "/metrics", header)
					if code != http.StatusOK {
						b.Fatalf("%d %s", code, body)
					}
					size = len(body)
				}
				reportCPU(b, cpu)
				b.ReportMetric(float64(size), "bytes/scrape")
			})
		}
	}
}

// cpuTime is the process's CPU time so far (user and system, every
// thread: the garbage collector's work included).
func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// reportCPU reports the CPU time per iteration since start: on a shared
// machine it moves less with the neighbours' load than ns/op, the wall
// time.
func reportCPU(b *testing.B, start time.Duration) {
	b.ReportMetric(float64(cpuTime()-start)/float64(b.N), "cpu-ns/op")
}

// TestFleetTargets_ScrapeAsTheExporterDoes keeps the hand-made targets
// honest: the fleet collector over them passes a pedantic registry, and
// each target exports the series a real database check's snapshot does.
func TestFleetTargets_ScrapeAsTheExporterDoes(t *testing.T) {
	for _, labels := range []bool{false, true} {
		targets, closePool, err := bench.FleetTargets(3, bench.FleetOptions{Labels: labels})
		if err != nil {
			t.Fatal(err)
		}
		defer closePool()
		reg := prometheus.NewPedanticRegistry()
		reg.MustRegister(metrics.NewFleetCollector(func() []metrics.Target { return targets }, func() bool { return true }))
		mfs, err := reg.Gather()
		if err != nil {
			t.Fatalf("labels=%v: %v", labels, err)
		}
		perTarget := map[string]int{}
		for _, mf := range mfs {
			for _, m := range mf.Metric {
				for _, l := range m.Label {
					if l.GetName() == "target" {
						perTarget[l.GetValue()]++
					}
				}
			}
		}
		for _, tg := range targets {
			// dbhealth_up ... pool metrics: what the database check exports
			// after a run that reached the server.
			if n := perTarget[tg.Snapshot.Target]; n < 30 {
				t.Errorf("labels=%v: target %s has %d series, want the database check's (30 or more): %v", labels, tg.Snapshot.Target, n, perTarget)
			}
		}
		if want := fmt.Sprint(len(targets)); len(perTarget) != len(targets) {
			t.Errorf("labels=%v: %d targets in the scrape, want %s", labels, len(perTarget), want)
		}
	}
}
