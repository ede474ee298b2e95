// Command exporterbench is the wrk half of `make bench`: it measures the
// real exporter binary next to the servers it is compared with, in one run,
// on this machine, and prints the results as Markdown (docs/benchmarks.md
// holds a run and its discussion).
//
//	make build && go run ./devtools/exporterbench -exporter bin/dbhealth-exporter
//
// It starts throwaway PostgreSQL clusters (internal/pgtest), the exporter
// binary, and three comparison servers (this program in serve mode, each in
// its own process, on loopback TCP like the exporter, with the exporter's
// http.Server limits and response size), then measures:
//
//	(a) throughput and latency under wrk of the exporter's /readyz, /healthz
//	    and /metrics, a bare net/http handler returning a constant,
//	    alexliesenfeld/health's handler over the same periodic check, and a
//	    handler running SELECT 1 on every request: interleaved, repeated,
//	    ratios against the bare handler of the same round;
//	(b) the database's transactions and backend starts (pg_stat_database)
//	    with probes idle and at full rate, each server on its own database;
//	(c) the exporter's VmRSS and VmHWM idle and under load;
//	(d) outage detection and recovery: from stopping a cluster to /readyz
//	    503 and from its restart to 200, with --check.interval 1s and 10s.
//
// With -profile DIR it instead serves the exporter in process (package
// bench), and the bare handler next to it, under wrk and writes CPU
// profiles of each path.
//
// It needs wrk (Debian: apt-get install -y wrk) and the PostgreSQL server
// binaries; it takes about three and a half minutes, after waiting (at most
// -wait-quiet) for other processes to leave the CPUs idle.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"
)

// options are the command line.
type options struct {
	exporter     string
	load         load
	rounds       int
	sustain      time.Duration
	outageBudget time.Duration
	outageReps   int
	waitQuiet    time.Duration
	out          string
	profile      string
}

func main() {
	if len(os.Args) > 1 && os.Args[1] == "serve" {
		os.Exit(serveMain(os.Args[2:]))
	}
	os.Exit(run())
}

func run() int {
	var o options
	flag.StringVar(&o.exporter, "exporter", "bin/dbhealth-exporter", "exporter binary (make build)")
	flag.IntVar(&o.load.threads, "threads", 1, "wrk threads")
	flag.IntVar(&o.load.connections, "connections", 16, "wrk connections")
	flag.DurationVar(&o.load.duration, "duration", 3*time.Second, "wrk duration of one measurement (whole seconds)")
	flag.IntVar(&o.rounds, "rounds", 5, "rounds of the side-by-side comparison")
	flag.DurationVar(&o.sustain, "sustain", 20*time.Second, "full-rate window of the database-cost measurement")
	flag.DurationVar(&o.outageBudget, "outage-budget", 60*time.Second, "time for the outage repetitions (after the minimum)")
	flag.IntVar(&o.outageReps, "outage-reps", 5, "minimum outage repetitions per 10s exporter (there are two)")
	flag.DurationVar(&o.waitQuiet, "wait-quiet", 3*time.Minute, "before starting, wait at most this long for other processes to leave the CPUs idle")
	flag.StringVar(&o.out, "out", "", "also write the report to this file")
	flag.StringVar(&o.profile, "profile", "", "instead of measuring: profile the in-process exporter under wrk, writing pprof files into this directory")
	flag.Parse()
	if o.load.duration < time.Second || o.load.duration%time.Second != 0 {
		fmt.Fprintln(os.Stderr, "exporterbench: -duration must be whole seconds")
		return 2
	}

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	if o.profile != "" {
		if err := profile(ctx, o); err != nil {
			fmt.Fprintln(os.Stderr, "exporterbench:", err)
			return 1
		}
		return 0
	}
	res, err := measure(ctx, o)
	if err != nil {
		fmt.Fprintln(os.Stderr, "exporterbench:", err)
		return 1
	}
	md := res.markdown()
	fmt.Print(md)
	if o.out != "" {
		if err := os.WriteFile(o.out, []byte(md), 0o644); err != nil {
			fmt.Fprintln(os.Stderr, "exporterbench:", err)
			return 1
		}
	}
	return 0
}

var started = time.Now()

// logf reports progress on stderr; the report goes to stdout.
func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "exporterbench [%5.1fs] %s\n", time.Since(started).Seconds(), fmt.Sprintf(format, args...))
}
