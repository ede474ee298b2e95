package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/dbhealth/dbhealth-exporter/devtools/internal/benchkit"
	"github.com/dbhealth/dbhealth-exporter/internal/pgtest"
)

// The role the authenticated variants connect as (scram-sha-256 over TCP,
// as pgtest's pg_hba.conf requires of every role but postgres).
const (
	authRole     = "fleetbench"
	authPassword = "fleetbench-password"
)

// cluster is the throwaway PostgreSQL cluster holding the fleet's
// databases, and a connection that reads its statistics.
type cluster struct {
	*pgtest.Cluster
	addr  string    // host:port of its TCP listener
	stats *pgx.Conn // in database fleetbench_stats, which no target uses
	dbs   []string  // fb0000, fb0001, ...
}

// clusterSettings are the fleet cluster's settings beyond pgtest's (fsync
// off): room for every connection the conncost phase holds, and no
// autovacuum, whose workers would visit every one of the idle databases
// once a minute and blur the server's CPU.
var clusterSettings = [][2]string{
	{"max_connections", "1200"},
	{"autovacuum", "off"},
}

// startCluster starts a cluster (with TLS, for the scram+TLS variants)
// and creates n databases in it.
func startCluster(n int) (*cluster, error) {
	opts := []pgtest.Option{pgtest.WithSSL()}
	for _, s := range clusterSettings {
		opts = append(opts, pgtest.WithSetting(s[0], s[1]))
	}
	c, err := pgtest.Start(opts...)
	if err != nil {
		return nil, err
	}
	cl := &cluster{Cluster: c, addr: c.Addr()}
	ctx := context.Background()
	admin, err := pgx.Connect(ctx, c.DSN("postgres"))
	if err != nil {
		c.Close()
		return nil, err
	}
	defer admin.Close(ctx)
	start := time.Now()
	for _, sql := range []string{
		"CREATE DATABASE fleetbench_stats",
		fmt.Sprintf("CREATE ROLE %s LOGIN PASSWORD '%s'", authRole, authPassword),
	} {
		if _, err := admin.Exec(ctx, sql); err != nil {
			c.Close()
			return nil, fmt.Errorf("%s: %w", sql, err)
		}
	}
	for i := range n {
		name := dbName(i)
		if _, err := admin.Exec(ctx, "CREATE DATABASE "+name); err != nil {
			c.Close()
			return nil, fmt.Errorf("CREATE DATABASE %s (after %d of %d): %w", name, i, n, err)
		}
		cl.dbs = append(cl.dbs, name)
		if (i+1)%200 == 0 {
			logf("created %d databases in %s", i+1, time.Since(start).Round(time.Second))
		}
	}
	logf("created %d databases in %s", n, time.Since(start).Round(100*time.Millisecond))
	if cl.stats, err = pgx.Connect(ctx, c.DSN("fleetbench_stats")); err != nil {
		c.Close()
		return nil, err
	}
	return cl, nil
}

func dbName(i int) string { return fmt.Sprintf("fb%04d", i) }

func (c *cluster) close() {
	if c.stats != nil {
		_ = c.stats.Close(context.Background())
	}
	_ = c.Close()
}

// dsn is the URL of database db for role postgres (trusted over TCP, no
// TLS) or, with auth, for the scram role over TLS (sslmode=require: TLS
// without verifying the certificate's name, the password from a file).
func (c *cluster) dsn(db string, auth bool) string {
	if auth {
		return fmt.Sprintf("postgres://%s@%s/%s?sslmode=require", authRole, c.addr, db)
	}
	return fmt.Sprintf("postgres://postgres@%s/%s?sslmode=disable", c.addr, db)
}

// passwordDSN is dsn with the password in it, for clients without a
// password file (the conncost phase).
func (c *cluster) passwordDSN(db string, tls bool) string {
	mode := "disable"
	if tls {
		mode = "require"
	}
	return fmt.Sprintf("postgres://%s:%s@%s/%s?sslmode=%s", authRole, authPassword, c.addr, db, mode)
}

// postmaster is the cluster's postmaster pid (postmaster.pid's first
// line).
func (c *cluster) postmaster() int {
	line, _, _ := strings.Cut(benchkit.ReadFile(filepath.Join(c.DataDir(), "postmaster.pid")), "\n")
	pid, _ := strconv.Atoi(strings.TrimSpace(line))
	return pid
}

// dbStats are cumulative pg_stat_database counters summed over some
// databases.
type dbStats struct {
	sessions, xacts float64
	perDB           map[string]float64 // sessions by database
}

// readStats sums pg_stat_database over the databases in dbs: sessions
// (one per backend start: a connection opened) and transactions.
func (c *cluster) readStats(ctx context.Context, dbs []string) (dbStats, error) {
	rows, err := c.stats.Query(ctx, "SELECT datname, sessions, xact_commit + xact_rollback FROM pg_stat_database WHERE datname = ANY($1)", dbs)
	if err != nil {
		return dbStats{}, err
	}
	defer rows.Close()
	s := dbStats{perDB: make(map[string]float64, len(dbs))}
	for rows.Next() {
		var name string
		var sessions, xacts int64
		if err := rows.Scan(&name, &sessions, &xacts); err != nil {
			return dbStats{}, err
		}
		s.sessions += float64(sessions)
		s.xacts += float64(xacts)
		s.perDB[name] = float64(sessions)
	}
	return s, rows.Err()
}

// waitSessions waits until every database in dbs has seen a session
// since before: every target has run its first check.
func (c *cluster) waitSessions(ctx context.Context, dbs []string, before dbStats, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		now, err := c.readStats(ctx, dbs)
		if err != nil {
			return err
		}
		missing := 0
		for _, db := range dbs {
			if now.perDB[db] <= before.perDB[db] {
				missing++
			}
		}
		if missing == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%d of %d databases saw no connection within %s", missing, len(dbs), timeout)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Second):
		}
	}
}

// writePasswordFile writes the scram role's password for the exporter's
// password_file.
func writePasswordFile(dir string) (string, error) {
	path := filepath.Join(dir, "password")
	return path, os.WriteFile(path, []byte(authPassword+"\n"), 0o600)
}
