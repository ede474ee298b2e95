package main

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/dbhealth/dbhealth-exporter/internal/pgtest"
)

// dbCounters are a database's cumulative counters from pg_stat_database.
type dbCounters struct {
	Xacts    int64 // xact_commit + xact_rollback
	Sessions int64 // sessions established (PostgreSQL 14+): one per backend start
}

// pgStats is one reading of pg_stat_database for some databases, and when
// it was taken.
type pgStats struct {
	at time.Time
	db map[string]dbCounters
}

// readStats reads the counters of dbs from a connection to the postgres
// database, so that reading costs none of them a transaction or session.
func readStats(ctx context.Context, c *pgtest.Cluster, dbs []string) (pgStats, error) {
	conn, err := pgx.Connect(ctx, c.DSN("postgres"))
	if err != nil {
		return pgStats{}, err
	}
	defer conn.Close(ctx)
	rows, err := conn.Query(ctx,
		`SELECT datname, xact_commit + xact_rollback, sessions FROM pg_stat_database WHERE datname = ANY($1)`, dbs)
	if err != nil {
		return pgStats{}, err
	}
	s := pgStats{at: time.Now(), db: map[string]dbCounters{}}
	for rows.Next() {
		var name string
		var v dbCounters
		if err := rows.Scan(&name, &v.Xacts, &v.Sessions); err != nil {
			return pgStats{}, err
		}
		s.db[name] = v
	}
	if err := rows.Err(); err != nil {
		return pgStats{}, err
	}
	for _, d := range dbs {
		if _, ok := s.db[d]; !ok {
			return pgStats{}, fmt.Errorf("no statistics for database %q", d)
		}
	}
	return s, nil
}

// dbCost is what a database saw between two readings.
type dbCost struct {
	window   time.Duration
	xacts    int64
	sessions int64
}

func cost(before, after pgStats, db string) dbCost {
	return dbCost{
		window:   after.at.Sub(before.at),
		xacts:    after.db[db].Xacts - before.db[db].Xacts,
		sessions: after.db[db].Sessions - before.db[db].Sessions,
	}
}

func (c dbCost) perMinute(n int64) float64 {
	if c.window <= 0 {
		return 0
	}
	return float64(n) / c.window.Minutes()
}

func createDatabases(ctx context.Context, c *pgtest.Cluster, names ...string) error {
	conn, err := pgx.Connect(ctx, c.DSN("postgres"))
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	for _, n := range names {
		if _, err := conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{n}.Sanitize()); err != nil {
			return err
		}
	}
	return nil
}

func serverVersion(ctx context.Context, c *pgtest.Cluster) string {
	conn, err := pgx.Connect(ctx, c.DSN("postgres"))
	if err != nil {
		return "unknown: " + err.Error()
	}
	defer conn.Close(ctx)
	var v string
	if err := conn.QueryRow(ctx, "SELECT version()").Scan(&v); err != nil {
		return "unknown: " + err.Error()
	}
	return v
}
