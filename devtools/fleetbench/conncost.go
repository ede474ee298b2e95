package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/dbhealth/dbhealth-exporter/devtools/internal/benchkit"
	"github.com/dbhealth/dbhealth-exporter/internal/collectors"
	"github.com/dbhealth/dbhealth-exporter/internal/health"
)

// The connection-cost phase runs the database check's work in a child
// process of its own (this program, "connload"), so that its CPU time is
// the work's alone, in one of these modes:
//
//   - fresh: as the exporter does it (collectors.Database.Run: a
//     connection from the target's pool, SELECT 1 and the recovery query,
//     the connection closed);
//   - fresh-1q: the same with one query instead of two (the recovery
//     query alone), through collectors.WithFreshConn;
//   - direct: a connection opened by pgx.ConnectConfig without a pool, the
//     two queries, closed;
//   - warm: the two queries on a connection opened once per target and
//     held.
var connModes = []string{"fresh", "fresh-1q", "direct", "warm"}

// warmQueries are the database check's queries (collectors.Database).
var warmQueries = []string{
	"SELECT 1",
	"SELECT pg_is_in_recovery(), current_setting('transaction_read_only') = 'on'",
}

// connloadMain is the child: it prepares every target, says READY, waits
// for a line on stdin, runs -rate operations a second for -duration over
// the targets in turn (at most -concurrency at once, like the exporter's
// bound), prints DONE with the counts and latencies, and exits when stdin
// closes.
func connloadMain(args []string) int {
	fs := flag.NewFlagSet("connload", flag.ExitOnError)
	mode := fs.String("mode", "fresh", strings.Join(connModes, ", "))
	dsnFile := fs.String("dsns", "", "file with one connection string per line")
	rate := fs.Int("rate", 100, "operations a second")
	duration := fs.Duration("duration", 20*time.Second, "how long")
	concurrency := fs.Int("concurrency", 32, "operations in flight at most")
	_ = fs.Parse(args)
	dsns := strings.Fields(benchkit.ReadFile(*dsnFile))
	if len(dsns) == 0 {
		fmt.Fprintln(os.Stderr, "connload: no connection strings")
		return 2
	}
	ctx := context.Background()
	ops := make([]func(context.Context) error, len(dsns))
	var conns []*pgx.Conn
	var pools []*pgxpool.Pool
	var mu sync.Mutex
	var wg sync.WaitGroup
	sem := make(chan struct{}, 16)
	var setupErr error
	for i, dsn := range dsns {
		cfg, err := collectors.PoolConfig(dsn, collectors.WithConnectTimeout(health.DefaultTimeout))
		if err != nil {
			fmt.Fprintln(os.Stderr, "connload:", err)
			return 1
		}
		switch *mode {
		case "fresh":
			pool, err := pgxpool.NewWithConfig(ctx, cfg)
			if err != nil {
				fmt.Fprintln(os.Stderr, "connload:", err)
				return 1
			}
			pools = append(pools, pool)
			check := collectors.NewDatabase(pool, collectors.DatabaseOptions{})
			ops[i] = func(ctx context.Context) error { return check.Run(ctx).Err }
		case "fresh-1q":
			pool, err := pgxpool.NewWithConfig(ctx, cfg)
			if err != nil {
				fmt.Fprintln(os.Stderr, "connload:", err)
				return 1
			}
			pools = append(pools, pool)
			ops[i] = func(ctx context.Context) error {
				return collectors.WithFreshConn(ctx, pool, func(conn *pgx.Conn, _ time.Time) error {
					var inRecovery, readOnly bool
					return conn.QueryRow(ctx, warmQueries[1]).Scan(&inRecovery, &readOnly)
				})
			}
		case "direct":
			ops[i] = func(ctx context.Context) error {
				conn, err := pgx.ConnectConfig(ctx, cfg.ConnConfig)
				if err != nil {
					return err
				}
				defer conn.Close(context.WithoutCancel(ctx))
				return queries(ctx, conn)
			}
		case "warm":
			sem <- struct{}{}
			wg.Go(func() {
				defer func() { <-sem }()
				conn, err := pgx.ConnectConfig(ctx, cfg.ConnConfig)
				mu.Lock()
				defer mu.Unlock()
				if err != nil {
					setupErr = err
					return
				}
				conns = append(conns, conn)
				ops[i] = func(ctx context.Context) error { return queries(ctx, conn) }
			})
		default:
			fmt.Fprintln(os.Stderr, "connload: -mode is one of", strings.Join(connModes, ", "))
			return 2
		}
	}
	wg.Wait()
	if setupErr != nil {
		fmt.Fprintln(os.Stderr, "connload:", setupErr)
		return 1
	}
	fmt.Println("READY")
	in := bufio.NewReader(os.Stdin)
	if _, err := in.ReadString('\n'); err != nil {
		return 1
	}

	var lat []time.Duration
	errs := 0
	slots := make(chan struct{}, *concurrency)
	every := time.Second / time.Duration(*rate)
	next := time.Now()
	stop := next.Add(*duration)
	for i := 0; time.Now().Before(stop); i++ {
		time.Sleep(time.Until(next))
		next = next.Add(every)
		op := ops[i%len(ops)]
		slots <- struct{}{}
		wg.Go(func() {
			defer func() { <-slots }()
			ctx, cancel := context.WithTimeout(ctx, health.DefaultTimeout)
			defer cancel()
			t := time.Now()
			err := op(ctx)
			d := time.Since(t)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				errs++
				return
			}
			lat = append(lat, d)
		})
	}
	wg.Wait()
	slices.Sort(lat)
	fmt.Printf("DONE %d %d %d %d\n", len(lat)+errs, errs, int64(benchkit.Quantile(lat, 0.5)), int64(benchkit.Quantile(lat, 0.99)))
	_, _ = io.Copy(io.Discard, in)
	for _, c := range conns {
		_ = c.Close(ctx)
	}
	for _, p := range pools {
		p.Close()
	}
	return 0
}

// queries runs the database check's two queries on conn.
func queries(ctx context.Context, conn *pgx.Conn) error {
	for _, q := range warmQueries {
		if _, err := conn.Exec(ctx, q); err != nil {
			return err
		}
	}
	return nil
}

// connVariant is how the connections authenticate.
type connVariant struct {
	name string
	dsn  func(c *cluster, db string) string
}

var connVariants = []connVariant{
	{"trust, no TLS", func(c *cluster, db string) string { return c.dsn(db, false) }},
	{"scram-sha-256, no TLS", func(c *cluster, db string) string { return c.passwordDSN(db, false) }},
	{"scram-sha-256 + TLS", func(c *cluster, db string) string { return c.passwordDSN(db, true) }},
}

// connRun is one child's measurement.
type connRun struct {
	variant, mode string
	ops, errs     int
	client        time.Duration // the child's CPU per operation
	server        time.Duration // the cluster's CPU per operation
	p50, p99      time.Duration
	sessions      float64         // backend starts per operation
	childRSS      benchkit.Memory // after setup (warm: with every connection held)
	heldPrivate   int64           // KiB the server's idle backends hold beyond the baseline (warm)
	held          int             // idle backends counted
}

// measureConn runs one child for variant and mode over the first n
// databases.
func (bn *bench) measureConn(ctx context.Context, v connVariant, mode string, n int) (*connRun, error) {
	o := bn.o
	dsnFile := filepath.Join(bn.dir, "dsns")
	var b strings.Builder
	for i := range n {
		b.WriteString(v.dsn(bn.c, dbName(i)) + "\n")
	}
	if err := os.WriteFile(dsnFile, []byte(b.String()), 0o600); err != nil {
		return nil, err
	}
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	pm := bn.c.postmaster()
	baseHeld, baseCount := idleBackends(pm)
	cmd := exec.CommandContext(ctx, self, "connload", "-mode", mode, "-dsns", dsnFile,
		"-rate", strconv.Itoa(o.connRate), "-duration", o.connDuration.String())
	cmd.Env = cleanEnv()
	cmd.Stderr = os.Stderr
	cmd.SysProcAttr = benchkit.ChildAttr()
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	defer func() { stdin.Close(); _ = cmd.Wait() }()
	out := bufio.NewReader(stdout)
	if line, err := out.ReadString('\n'); err != nil || strings.TrimSpace(line) != "READY" {
		return nil, fmt.Errorf("connload %s %s did not get ready: %q %v", v.name, mode, line, err)
	}
	r := &connRun{variant: v.name, mode: mode, childRSS: readMemory(cmd.Process.Pid)}
	if mode == "warm" {
		held, count := idleBackends(pm)
		r.heldPrivate, r.held = held-baseHeld, count-baseCount
	}
	dbs := bn.c.dbs[:n]
	s0, err := bn.c.readStats(ctx, dbs)
	if err != nil {
		return nil, err
	}
	m := startMeter([]int{cmd.Process.Pid}, []int{pm})
	if _, err := io.WriteString(stdin, "GO\n"); err != nil {
		return nil, err
	}
	line, err := out.ReadString('\n')
	u := m.stop()
	if err != nil {
		return nil, err
	}
	f := strings.Fields(line)
	if len(f) != 5 || f[0] != "DONE" {
		return nil, fmt.Errorf("connload: %q", line)
	}
	r.ops, _ = strconv.Atoi(f[1])
	r.errs, _ = strconv.Atoi(f[2])
	p50, _ := strconv.ParseInt(f[3], 10, 64)
	p99, _ := strconv.ParseInt(f[4], 10, 64)
	r.p50, r.p99 = time.Duration(p50), time.Duration(p99)
	if r.ops == 0 {
		return nil, fmt.Errorf("connload %s %s: no operation", v.name, mode)
	}
	r.client = u.procCPU[0] / time.Duration(r.ops)
	r.server = u.treeCPU[0] / time.Duration(r.ops)
	if err := sleep(ctx, time.Second); err != nil { // backends report their session as they end
		return nil, err
	}
	s1, err := bn.c.readStats(ctx, dbs)
	if err != nil {
		return nil, err
	}
	r.sessions = (s1.sessions - s0.sessions) / float64(r.ops)
	logf("conncost %s, %s: %d ops (%d errors), client %s, server %s per op, p50 %s",
		v.name, mode, r.ops, r.errs, r.client, r.server, r.p50)
	return r, nil
}

// idleBackends sums what the cluster's idle client backends hold
// privately (KiB), and counts them.
func idleBackends(postmaster int) (int64, int) {
	var total int64
	n := 0
	for _, pid := range childrenOf(postmaster) {
		cmdline := strings.ReplaceAll(benchkit.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid)), "\x00", " ")
		if strings.HasPrefix(cmdline, "postgres: ") && strings.HasSuffix(strings.TrimSpace(cmdline), " idle") {
			total += privateKiB(pid)
			n++
		}
	}
	return total, n
}
