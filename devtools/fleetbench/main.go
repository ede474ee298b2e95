// Command fleetbench measures fleet mode at scale: the exporter binary
// watching 1, 100 and 1,000 databases of one throwaway PostgreSQL cluster,
// side by side with postgres_exporter's multi-target mode (/probe) scraped
// as Prometheus would scrape it, in one run, on this machine, and prints
// the results as Markdown (docs/benchmarks.md, "Fleet mode at scale",
// holds a run and its discussion).
//
//	make build
//	go run ./devtools/fleetbench -exporter bin/dbhealth-exporter -postgres-exporter /tmp/pge/postgres_exporter
//
// It starts a PostgreSQL cluster (internal/pgtest, autovacuum off,
// max_connections 1200, TLS on) and creates the databases fb0000, fb0001,
// ... in it, and a second cluster for a single-target exporter (the
// sidecar) whose /readyz is the reference for probe latency. Then, for
// each round, with the order of the two exporters alternating:
//
//  1. for each size, the exporter in fleet mode over that many targets
//     (one label each; interval 10s, timeout 2s: the defaults): after
//     every target has run once and one more interval, a steady window
//     with no request at all (its CPU from /proc/<pid>/stat, the
//     cluster's, every backend included, check runs and transactions from
//     pg_stat_database, VmRSS at the end), then /metrics scraped back to
//     back over one connection with Prometheus's Accept header,
//     uncompressed and with gzip in turn (latency, size, CPU per scrape),
//     /targets the same way, and the probes under a modest load: the
//     fleet's /targets/<name>/readyz, its /readyz and the single-target
//     exporter's /readyz in turn;
//  2. for each size, postgres_exporter v0.20.1 with every collector off but
//     pg_up (the database check's equivalent), each target's /probe
//     scraped once an interval, spread over it, with Prometheus's headers:
//     the same steady window;
//  3. with -tls-size, the exporter again over that many targets connecting
//     as a scram-sha-256 role over TLS (the password in a password_file);
//  4. the connection cost: the database check's work in a child process,
//     at the fleet's rate (-conn-rate operations a second over
//     -conn-targets databases), on a fresh connection per run (what the
//     exporter does) and on a connection held per target, for trust,
//     scram-sha-256, and scram-sha-256 over TLS: the child's CPU and the
//     server's per operation, and what held connections cost the server;
//  5. with -blackholed, the largest fleet with that many targets pointing
//     at a server that accepts TCP and never answers: whether the other
//     targets keep their schedule (--fleet.max-concurrent-checks, 32).
//
// Finally one /probe of postgres_exporter with its default collectors,
// for scale. The report gives medians over the rounds.
//
// It needs the PostgreSQL server binaries, a built exporter and,
// optionally, a postgres_exporter binary; no wrk. The databases take about
// 7 MiB each: the clusters go to $DBHEALTH_PGTEST_DIR, by default
// /var/tmp here (disk, not /dev/shm's memory). With the defaults a run
// takes about 35 minutes.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/dbhealth/dbhealth-exporter/devtools/internal/benchkit"
	"github.com/dbhealth/dbhealth-exporter/internal/pgtest"
)

type options struct {
	exporter, pge   string
	sizes           []int
	rounds          int
	interval        time.Duration
	timeout         time.Duration
	window          time.Duration
	block           time.Duration
	probeRate       int
	probeWorkers    int
	probeDuration   time.Duration
	tlsSize         int
	connRate        int
	connTargets     int
	connDuration    time.Duration
	connModes       []string
	blackholed      []int
	blackholeWindow time.Duration
	pgeDefault      int
	waitQuiet       time.Duration
	pgDir           string
	out             string
}

func main() {
	if len(os.Args) > 1 && os.Args[1] == "connload" {
		os.Exit(connloadMain(os.Args[2:]))
	}
	os.Exit(run())
}

func run() int {
	var o options
	var sizes, blackholed string
	flag.StringVar(&o.exporter, "exporter", "bin/dbhealth-exporter", "exporter binary (make build)")
	flag.StringVar(&o.pge, "postgres-exporter", "", "postgres_exporter binary (v0.20.1 built from source); empty: leave it out")
	flag.StringVar(&sizes, "sizes", "1,100,1000", "fleet sizes (targets), comma-separated")
	flag.IntVar(&o.rounds, "rounds", 3, "rounds; the report gives medians")
	flag.DurationVar(&o.interval, "interval", 10*time.Second, "check interval (and postgres_exporter's scrape interval)")
	flag.DurationVar(&o.timeout, "timeout", 2*time.Second, "check timeout")
	flag.DurationVar(&o.window, "window", 30*time.Second, "steady window")
	flag.DurationVar(&o.block, "block", 3*time.Second, "duration of each back-to-back scrape block (two per encoding)")
	flag.IntVar(&o.probeRate, "probe-rate", 300, "probe requests a second, all three paths together")
	flag.IntVar(&o.probeWorkers, "probe-workers", 4, "concurrent probe clients")
	flag.DurationVar(&o.probeDuration, "probe-duration", 10*time.Second, "probe load duration")
	flag.IntVar(&o.tlsSize, "tls-size", 1000, "also measure the exporter over this many targets with scram-sha-256 over TLS; 0: not")
	flag.IntVar(&o.connRate, "conn-rate", 100, "connection-cost phase: operations a second (1000 targets every 10s: 100)")
	flag.IntVar(&o.connTargets, "conn-targets", 1000, "connection-cost phase: databases taken in turn; 0: skip the phase")
	flag.DurationVar(&o.connDuration, "conn-duration", 20*time.Second, "connection-cost phase: duration of each measurement")
	var modes string
	flag.StringVar(&modes, "conn-modes", "fresh,warm", "connection-cost phase: modes, comma-separated, of "+strings.Join(connModes, ", "))
	flag.StringVar(&blackholed, "blackholed", "0,300", "blackholed targets in the largest fleet, comma-separated; empty: skip")
	flag.DurationVar(&o.blackholeWindow, "blackhole-window", 40*time.Second, "window of each blackhole measurement")
	flag.IntVar(&o.pgeDefault, "pge-default-probes", 3, "probes of postgres_exporter with its default collectors; 0: none")
	flag.DurationVar(&o.waitQuiet, "wait-quiet", 3*time.Minute, "before starting, wait at most this long for other processes to leave the CPUs idle")
	flag.StringVar(&o.pgDir, "pgtest-dir", "/var/tmp", "where the clusters go unless $DBHEALTH_PGTEST_DIR is set")
	flag.StringVar(&o.out, "out", "", "also write the report to this file")
	flag.Parse()
	var err error
	if o.sizes, err = intList(sizes); err != nil || len(o.sizes) == 0 {
		fmt.Fprintln(os.Stderr, "fleetbench: -sizes:", err)
		return 2
	}
	for _, m := range strings.Split(modes, ",") {
		if m = strings.TrimSpace(m); m != "" {
			if !slices.Contains(connModes, m) {
				fmt.Fprintf(os.Stderr, "fleetbench: -conn-modes: %q is not one of %s\n", m, strings.Join(connModes, ", "))
				return 2
			}
			o.connModes = append(o.connModes, m)
		}
	}
	if o.blackholed, err = intList(blackholed); err != nil {
		fmt.Fprintln(os.Stderr, "fleetbench: -blackholed:", err)
		return 2
	}
	if o.timeout >= o.interval {
		fmt.Fprintln(os.Stderr, "fleetbench: -timeout must be shorter than -interval")
		return 2
	}
	for _, bin := range []*string{&o.exporter, &o.pge} {
		if *bin == "" {
			continue
		}
		abs, err := filepath.Abs(*bin)
		if err == nil {
			_, err = os.Stat(abs)
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "fleetbench:", err)
			return 2
		}
		*bin = abs
	}
	if os.Getenv(pgtest.EnvDir) == "" {
		os.Setenv(pgtest.EnvDir, o.pgDir)
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	res, err := measure(ctx, o)
	if err != nil {
		fmt.Fprintln(os.Stderr, "fleetbench:", err)
		return 1
	}
	md := res.markdown()
	fmt.Print(md)
	if o.out != "" {
		if err := os.WriteFile(o.out, []byte(md), 0o644); err != nil {
			fmt.Fprintln(os.Stderr, "fleetbench:", err)
			return 1
		}
	}
	return 0
}

// intList parses "1,100,1000".
func intList(s string) ([]int, error) {
	var out []int
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f == "" {
			continue
		}
		n, err := strconv.Atoi(f)
		if err != nil || n < 0 {
			return nil, fmt.Errorf("%q is not a count", f)
		}
		out = append(out, n)
	}
	return out, nil
}

// largest is the largest fleet size.
func (o options) largest() int { return slices.Max(o.sizes) }

// databases is how many databases the run needs.
func (o options) databases() int { return max(o.largest(), o.tlsSize, o.connTargets) }

var started = time.Now()

// logf reports progress on stderr; the report goes to stdout.
func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "fleetbench [%6.1fs] %s\n", time.Since(started).Seconds(), fmt.Sprintf(format, args...))
}

// measure does the whole run.
func measure(ctx context.Context, o options) (*results, error) {
	res := &results{o: o, machine: describeMachine(), started: time.Now(),
		fleet: map[fleetKey][]*fleetRun{}, pge: map[int][]*pgeRun{}, conn: map[string][]*connRun{}, blackhole: map[int][]*blackholeRun{}}
	res.machine.LoadStart = benchkit.LoadAvg()
	logf("waiting for a quiet machine (at most %s)", o.waitQuiet)
	res.machine.OthersAtStart = benchkit.WaitQuiet(o.waitQuiet, logf)

	dir, err := os.MkdirTemp("", "fleetbench-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	t := time.Now()
	c, err := startCluster(o.databases())
	if err != nil {
		return nil, err
	}
	defer c.close()
	res.created, res.createTime = len(c.dbs), time.Since(t)
	side, err := pgtest.Start()
	if err != nil {
		return nil, err
	}
	defer side.Close()
	bn := &bench{o: o, c: c, dir: dir}
	if bn.pwFile, err = writePasswordFile(dir); err != nil {
		return nil, err
	}
	bn.sidecar, err = startProc("dbhealth-single", dir, o.exporter, []string{"--web.shutdown-delay=0s"},
		[]string{"DATABASE_URL=" + side.DSN("postgres")})
	if err != nil {
		return nil, err
	}
	defer bn.sidecar.Stop()
	if err := waitOK(ctx, bn.sidecar, "/readyz", 30*time.Second); err != nil {
		return nil, err
	}

	// The fleet's cluster idle, and the single-target exporter, with
	// nothing else running.
	m := startMeter([]int{bn.sidecar.PID()}, []int{c.postmaster()})
	if err := sleep(ctx, o.window); err != nil {
		return nil, err
	}
	u := m.stop()
	res.sidecarCPU, res.serverIdle = u.procs[0], u.trees[0]
	res.sidecarRSS = readMemory(bn.sidecar.PID())
	logf("idle: cluster %.3f cores, single-target exporter %.4f cores, %.1f MiB", res.serverIdle, res.sidecarCPU, res.sidecarRSS.MiB())

	for r := range o.rounds {
		logf("round %d of %d", r+1, o.rounds)
		for _, n := range o.sizes {
			steps := []func() error{
				func() error {
					fr, err := bn.measureFleet(ctx, n, false)
					if err == nil {
						res.fleet[fleetKey{n, false}] = append(res.fleet[fleetKey{n, false}], fr)
					}
					return err
				},
			}
			if o.pge != "" {
				steps = append(steps, func() error {
					pr, err := bn.measurePGE(ctx, n)
					if err == nil {
						res.pge[n] = append(res.pge[n], pr)
					}
					return err
				})
			}
			if r%2 == 1 {
				slices.Reverse(steps)
			}
			for _, step := range steps {
				if err := step(); err != nil {
					return nil, err
				}
			}
		}
		if o.tlsSize > 0 {
			fr, err := bn.measureFleet(ctx, o.tlsSize, true)
			if err != nil {
				return nil, err
			}
			res.fleet[fleetKey{o.tlsSize, true}] = append(res.fleet[fleetKey{o.tlsSize, true}], fr)
		}
		if o.connTargets > 0 {
			modes := slices.Clone(o.connModes)
			if r%2 == 1 {
				slices.Reverse(modes)
			}
			for _, v := range connVariants {
				for _, mode := range modes {
					cr, err := bn.measureConn(ctx, v, mode, o.connTargets)
					if err != nil {
						return nil, err
					}
					res.conn[v.name+"/"+mode] = append(res.conn[v.name+"/"+mode], cr)
				}
			}
		}
		for _, b := range o.blackholed {
			br, err := bn.measureBlackhole(ctx, o.largest(), b)
			if err != nil {
				return nil, err
			}
			res.blackhole[b] = append(res.blackhole[b], br)
		}
	}
	if o.pge != "" && o.pgeDefault > 0 {
		if res.pgeDefault, err = bn.measurePGEDefault(ctx, o.pgeDefault); err != nil {
			return nil, err
		}
	}
	res.machine.LoadEnd = benchkit.LoadAvg()
	res.finished = time.Now()
	return res, nil
}
