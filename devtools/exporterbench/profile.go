package main

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"time"

	"github.com/dbhealth/dbhealth-exporter/devtools/internal/benchkit"
	"github.com/dbhealth/dbhealth-exporter/internal/bench"
	"github.com/dbhealth/dbhealth-exporter/internal/pgtest"
)

// profile serves the exporter in process (package bench, the same handlers
// as the binary) on loopback TCP, and the bare handler next to it, and
// writes a CPU profile of each under wrk, then an allocation profile:
//
//	go run ./devtools/exporterbench -profile /tmp/prof
//	go tool pprof -top /tmp/prof/readyz.cpu.pprof
func profile(ctx context.Context, o options) error {
	if err := os.MkdirAll(o.profile, 0o755); err != nil {
		return err
	}
	w, err := newWrk(o.profile)
	if err != nil {
		return err
	}
	c, err := pgtest.Start()
	if err != nil {
		return err
	}
	defer c.Close()
	ex, err := bench.StartExporter(c.DSN("postgres"), bench.Schedule{})
	if err != nil {
		return err
	}
	defer ex.Close()
	if err := ex.WaitReady(15 * time.Second); err != nil {
		return err
	}
	base, stop, err := serveLoopback(ex.Handler)
	if err != nil {
		return err
	}
	defer stop()
	// The constant handler with the same answer, in this same process: the
	// reference profile of net/http itself.
	_, body := bench.Get(ex.Handler, "/readyz", nil)
	bareBase, stopBare, err := serveLoopback(bench.Bare(body))
	if err != nil {
		return err
	}
	defer stopBare()

	// Each path for six times the measurement duration: enough samples.
	l6 := o.load
	l6.duration *= 6
	for _, c := range []struct {
		name, path string
		header     http.Header
		load       load
	}{
		{"bare", "bare", nil, l6},
		{"readyz", "/readyz", nil, l6},
		{"healthz", "/healthz", nil, l6},
		{"metrics", "/metrics", prometheusHeader, l6},
		{"metrics-1conn", "/metrics", prometheusHeader, load{threads: 1, connections: 1, duration: l6.duration}},
	} {
		file := filepath.Join(o.profile, c.name+".cpu.pprof")
		f, err := os.Create(file)
		if err != nil {
			return err
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			f.Close()
			return err
		}
		url := base + c.path
		if c.path == "bare" {
			url = bareBase + "/readyz"
		}
		res, err := w.run(ctx, c.load, url, c.header)
		pprof.StopCPUProfile()
		f.Close()
		if err != nil {
			return err
		}
		fmt.Printf("%-14s wrk %s: %.0f req/s, p50 %s, p99 %s -> %s\n", c.name, c.load, res.RPS(), benchkit.Dur(res.P50), benchkit.Dur(res.P99), file)
	}
	runtime.GC()
	heap := filepath.Join(o.profile, "heap.pprof")
	f, err := os.Create(heap)
	if err != nil {
		return err
	}
	defer f.Close()
	if err := pprof.Lookup("allocs").WriteTo(f, 0); err != nil {
		return err
	}
	fmt.Printf("allocations since start (go tool pprof -sample_index=alloc_space) -> %s\n", heap)
	return nil
}

// serveLoopback serves h on a loopback port with the exporter's server
// limits.
func serveLoopback(h http.Handler) (base string, stop func(), err error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	srv := bench.NewServer(h)
	go func() { _ = srv.Serve(l) }()
	return "http://" + l.Addr().String(), func() { _ = srv.Close() }, nil
}
