// Command devrun is `make run`: it runs the exporter for a newcomer. With
// DATABASE_URL (or --db.dsn / --db.dsn-file among the exporter's flags) it
// runs the exporter against that database. Otherwise it starts a throwaway
// PostgreSQL cluster from the installed server binaries, applies the example
// migrations, runs the exporter against it (watching those migrations), and
// removes the cluster when the exporter stops (Ctrl-C).
//
//	go run ./devtools/devrun -exporter bin/dbhealth-exporter -- [exporter flags]
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"syscall"

	"github.com/jackc/pgx/v5"

	"github.com/dbhealth/dbhealth-exporter/internal/pgtest"
)

const demoDB = "dbhealth_demo"

func main() { os.Exit(run()) }

func run() int {
	exporter := flag.String("exporter", "bin/dbhealth-exporter", "exporter binary to run")
	migrations := flag.String("migrations", "examples/migrations", "golang-migrate style migrations to apply to the throwaway database")
	flag.Parse()
	args := flag.Args()

	env := os.Environ()
	if !databaseConfigured(args) {
		cluster, err := pgtest.Start()
		if err != nil {
			fmt.Fprintln(os.Stderr, "devrun: cannot start a throwaway PostgreSQL:", err)
			return 1
		}
		defer cluster.Close()
		dsn, err := prepareDemo(cluster, *migrations)
		if err != nil {
			fmt.Fprintln(os.Stderr, "devrun:", err)
			return 1
		}
		fmt.Printf("devrun: throwaway PostgreSQL on %s (data in %s), example migrations applied to %q\n",
			cluster.Addr(), cluster.DataDir(), demoDB)
		fmt.Printf("devrun: try `psql %q`, or stop it to watch readiness fail: pg_ctl -D %s stop\n", dsn, cluster.DataDir())
		env = append(env, "DATABASE_URL="+dsn)
		if !slices.ContainsFunc(args, func(a string) bool { return strings.HasPrefix(a, "--migrations.") }) {
			abs, err := filepath.Abs(*migrations)
			if err != nil {
				fmt.Fprintln(os.Stderr, "devrun:", err)
				return 1
			}
			args = append(args, "--migrations.dir="+abs)
			fmt.Printf("devrun: watching migrations in %s: add a file there to see readiness fail\n", abs)
		}
	}
	addr := listenAddress(args)
	fmt.Printf("devrun: exporter on %s — probes: %[1]s/readyz?verbose %[1]s/livez  metrics: %[1]s/metrics  landing page: %[1]s/\n", addr)
	fmt.Println("devrun: Ctrl-C stops the exporter (after its shutdown delay; twice to stop at once) and the throwaway database")
	return runExporter(*exporter, args, env)
}

// databaseConfigured reports whether the user named a database.
func databaseConfigured(args []string) bool {
	if os.Getenv("DATABASE_URL") != "" {
		return true
	}
	return slices.ContainsFunc(args, func(a string) bool {
		return strings.HasPrefix(a, "--db.dsn")
	})
}

// listenAddress returns a URL base for the exporter's first listen address.
func listenAddress(args []string) string {
	addr := ":9720"
	for i, a := range args {
		if v, ok := strings.CutPrefix(a, "--web.listen-address="); ok {
			addr = v
			break
		}
		if a == "--web.listen-address" && i+1 < len(args) {
			addr = args[i+1]
			break
		}
	}
	if strings.HasPrefix(addr, ":") {
		addr = "localhost" + addr
	}
	return "http://" + addr
}

// prepareDemo creates the demo database and applies the migrations the way
// golang-migrate does: each up file in version order, then one row in
// schema_migrations(version bigint, dirty boolean) for the latest version.
func prepareDemo(c *pgtest.Cluster, dir string) (string, error) {
	ctx := context.Background()
	admin, err := pgx.Connect(ctx, c.DSN("postgres"))
	if err != nil {
		return "", err
	}
	defer admin.Close(ctx)
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+demoDB); err != nil {
		return "", err
	}
	dsn := c.DSN(demoDB)
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return "", err
	}
	defer conn.Close(ctx)

	files, err := filepath.Glob(filepath.Join(dir, "*.up.sql"))
	if err != nil || len(files) == 0 {
		return "", fmt.Errorf("no migrations in %s", dir)
	}
	slices.Sort(files)
	if _, err := conn.Exec(ctx, "CREATE TABLE schema_migrations (version bigint NOT NULL PRIMARY KEY, dirty boolean NOT NULL)"); err != nil {
		return "", err
	}
	var latest int64
	for _, f := range files {
		sql, err := os.ReadFile(f)
		if err != nil {
			return "", err
		}
		if _, err := fmt.Sscanf(filepath.Base(f), "%d_", &latest); err != nil {
			return "", fmt.Errorf("%s: no version number: %w", f, err)
		}
		if _, err := conn.Exec(ctx, string(sql)); err != nil {
			return "", fmt.Errorf("%s: %w", f, err)
		}
	}
	_, err = conn.Exec(ctx, "INSERT INTO schema_migrations (version, dirty) VALUES ($1, false)", latest)
	return dsn, err
}

// runExporter runs the exporter in the foreground, passing on Ctrl-C and
// SIGTERM; a second signal kills it.
func runExporter(binary string, args, env []string) int {
	cmd := exec.Command(binary, args...)
	cmd.Env = env
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	// Own process group: the terminal's Ctrl-C reaches devrun only, which
	// decides what the exporter gets.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	signals := make(chan os.Signal, 2)
	signal.Notify(signals, syscall.SIGINT, syscall.SIGTERM)
	defer signal.Stop(signals)
	if err := cmd.Start(); err != nil {
		fmt.Fprintln(os.Stderr, "devrun:", err)
		return 1
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	for received := 0; ; {
		select {
		case <-done:
			return cmd.ProcessState.ExitCode()
		case <-signals:
			received++
			if received == 1 {
				_ = cmd.Process.Signal(syscall.SIGTERM)
			} else {
				_ = cmd.Process.Kill()
			}
		}
	}
}
