package bench

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/dbhealth/dbhealth-exporter/internal/collectors"
	"github.com/dbhealth/dbhealth-exporter/internal/health"
	"github.com/dbhealth/dbhealth-exporter/internal/metrics"
)

// FleetOptions shape the targets of FleetTargets.
type FleetOptions struct {
	// Labels gives each target one configured label (team), as a
	// platform's targets would have.
	Labels bool
	// Lean leaves out what a fleet's scrape carries per target without
	// telling much at that scale: the pool gauges and counters (a pool
	// that never keeps a connection) and the failure counters still at 0.
	// It is not what the exporter exports: it measures what those series
	// cost.
	Lean bool
}

// FleetTargets returns n hand-made targets as a fleet scrape sees them
// (metrics.Target): each a snapshot with one database check that has run
// 360 times (an hour at the default interval), passed, and counts every
// failure reason from 0, as the real check's snapshot does after an hour.
// No database is touched: the checks' pool is never connected. Close the
// pool with the returned function.
func FleetTargets(n int, opts FleetOptions) ([]metrics.Target, func(), error) {
	cfg, err := collectors.PoolConfig("postgres://dbhealth@127.0.0.1:1/postgres?sslmode=disable")
	if err != nil {
		return nil, nil, err
	}
	pool, err := pgxpool.NewWithConfig(context.Background(), cfg) // does not connect
	if err != nil {
		return nil, nil, err
	}
	check := collectors.NewDatabase(pool, collectors.DatabaseOptions{})
	stat := pool.Stat()
	now := time.Now()
	reasons := map[string]uint64{"other": 0, "panic": 0, "timeout": 0}
	for _, r := range check.Reasons() {
		reasons[r] = 0
	}
	poolStat := stat
	if opts.Lean {
		reasons, poolStat = map[string]uint64{}, nil
	}
	buckets := make([]uint64, len(health.DurationBuckets))
	for i, bound := range health.DurationBuckets {
		if bound >= 0.005 {
			buckets[i] = 360
		}
	}
	out := make([]metrics.Target, n)
	for i := range out {
		name := fmt.Sprintf("db%04d", i)
		last := &health.Outcome{
			Started: now.Add(-5 * time.Millisecond), Finished: now,
			Details: &collectors.DatabaseDetails{
				Database:       name,
				LastSeen:       &collectors.LastSeen{ServerVersion: "15.18 (Debian 15.18-0+deb12u1)", At: now},
				ConnectSeconds: 0.0031, PingSeconds: 0.0002, Pool: poolStat,
			},
		}
		snap := &health.Snapshot{
			Generation: 361, Target: name, PublishedAt: now, Readiness: health.ReadinessReady,
			Checks: []health.CheckSnapshot{{
				Definition: health.Definition{Name: "database", Critical: true, Checker: check,
					Interval: health.DefaultInterval, Timeout: health.DefaultTimeout},
				Status: health.StatusOK, Last: last, LastSuccess: now, Since: now.Add(-time.Hour),
				Stats: &health.Stats{Successes: 360, FailuresByReason: reasons, DurationBuckets: buckets,
					DurationCount: 360, DurationSum: 1.8},
			}},
		}
		out[i] = metrics.Target{Snapshot: snap}
		if opts.Labels {
			out[i].Labels = map[string]string{"team": fmt.Sprintf("team%02d", i%20)}
		}
	}
	return out, pool.Close, nil
}
