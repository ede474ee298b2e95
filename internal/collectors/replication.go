package collectors

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/dbhealth/dbhealth-exporter/internal/health"
	"github.com/dbhealth/dbhealth-exporter/internal/metrics"
)

// ReasonReplicationLag is the failure reason of the replication lag check.
const ReasonReplicationLag = "replication_lag"

// ReplicationLagOptions bound the lag; a zero bound is not checked.
type ReplicationLagOptions struct {
	MaxLag      time.Duration
	MaxLagBytes int64
}

// ReplicationLag is the replication lag check, for a service that reads
// from a replica: how stale the replica's data is, in time and in bytes of
// WAL received but not yet replayed. On a primary both are 0.
//
// Time lag is measured from when the replica first received WAL it has not
// replayed yet: everything received is replayed, the lag is 0, however long
// ago the primary last wrote (an idle primary is not lag); otherwise the
// data is as old as the moment the first un-replayed WAL arrived, which the
// check knows from its own earlier runs (it remembers the received position
// at each, with the server's clock). The time since the last replayed
// transaction committed is no measure on its own: after an hour without
// writes it says "an hour" for a replica that is milliseconds behind. It
// is the bound when the check's memory does not reach back far enough.
type ReplicationLag struct {
	pool    *pgxpool.Pool
	opts    ReplicationLagOptions
	history []walSample // oldest first; at most historySize; only the check's own runs touch it
}

// walSample is the received WAL position at one run, by the server's clock.
type walSample struct {
	at       float64 // server time, Unix seconds
	received float64 // bytes since 0/0
}

// historySize bounds the remembered runs: 128 runs, 21 minutes at the
// default interval.
const historySize = 128

// NewReplicationLag returns the check over pool. It does not connect.
func NewReplicationLag(pool *pgxpool.Pool, opts ReplicationLagOptions) *ReplicationLag {
	return &ReplicationLag{pool: pool, opts: opts}
}

// ReplicationDetails are what the lag check saw.
type ReplicationDetails struct {
	InRecovery   bool     `json:"in_recovery"`
	LagSeconds   *float64 `json:"lag_seconds,omitempty"`
	LagBytes     *int64   `json:"lag_bytes,omitempty"`
	ReplayPaused bool     `json:"replay_paused,omitempty"`
	// Receiver is pg_stat_wal_receiver's status ("streaming", ...), empty
	// when no WAL receiver runs (a primary, or a replica restoring from an
	// archive only).
	Receiver string `json:"wal_receiver,omitempty"`
}

// lagQuery reads, in one round trip, everything the check needs, with the
// server's clock. On a primary the recovery functions return NULL.
const lagQuery = `
SELECT pg_is_in_recovery(),
       EXTRACT(EPOCH FROM clock_timestamp())::float8,
       COALESCE(pg_wal_lsn_diff(pg_last_wal_receive_lsn(), '0/0'), -1)::float8,
       COALESCE(pg_wal_lsn_diff(pg_last_wal_replay_lsn(), '0/0'), -1)::float8,
       COALESCE(EXTRACT(EPOCH FROM pg_last_xact_replay_timestamp()), 0)::float8,
       pg_is_in_recovery() AND pg_is_wal_replay_paused(),
       COALESCE((SELECT status FROM pg_stat_wal_receiver), '')`

// Run performs one check under ctx's deadline.
func (c *ReplicationLag) Run(ctx context.Context) health.Result {
	d := &ReplicationDetails{}
	var now, received, replayed, replayedAt float64
	err := WithFreshConn(ctx, c.pool, func(conn *pgx.Conn, _ time.Time) error {
		return conn.QueryRow(ctx, lagQuery).Scan(&d.InRecovery, &now, &received, &replayed, &replayedAt, &d.ReplayPaused, &d.Receiver)
	})
	if err != nil {
		res := Failure(ctx, err)
		res.Details = d
		return res
	}
	var seconds float64
	var bytes int64
	if d.InRecovery {
		if received >= 0 {
			c.history = append(c.history, walSample{at: now, received: received})
			if len(c.history) > historySize {
				c.history = c.history[len(c.history)-historySize:]
			}
		}
		seconds, bytes = replicationLag(now, received, replayed, replayedAt, c.history)
	} else {
		c.history = nil
	}
	d.LagSeconds, d.LagBytes = &seconds, &bytes
	res := health.Result{Details: d}
	lag := time.Duration(seconds * float64(time.Second))
	switch {
	case c.opts.MaxLag > 0 && lag > c.opts.MaxLag:
		res.Err = fmt.Errorf("replay is %s behind (max_lag %s)%s", lag.Round(time.Millisecond), c.opts.MaxLag, paused(d))
	case c.opts.MaxLagBytes > 0 && bytes > c.opts.MaxLagBytes:
		res.Err = fmt.Errorf("replay is %d bytes of WAL behind (max_lag_bytes %d)%s", bytes, c.opts.MaxLagBytes, paused(d))
	}
	if res.Err != nil {
		res.Reason = ReasonReplicationLag
	}
	return res
}

// replicationLag computes a replica's lag at server time now, from the WAL
// positions received and replayed (bytes; -1 when unknown), the commit time
// of the last replayed transaction (Unix seconds; 0 when none) and the
// received positions of earlier runs (oldest first, the current run last).
func replicationLag(now, received, replayed, replayedAt float64, history []walSample) (seconds float64, bytes int64) {
	switch {
	case replayed < 0:
		return 0, 0 // nothing replayed yet: a replica still starting
	case received < 0:
		// Restoring from an archive, no WAL receiver: only the commit
		// time of the last replayed transaction is known.
		if replayedAt > 0 {
			return max(now-replayedAt, 0), 0
		}
		return 0, 0
	case received <= replayed:
		return 0, 0 // caught up, however old the last write
	}
	bytes = int64(received - replayed)
	// The first remembered run that had received WAL beyond what is
	// replayed now: the data has been stale since about then.
	for i, s := range history {
		if s.received > replayed {
			if i == 0 && replayedAt > 0 {
				// Memory does not reach back to when replay was at this
				// position (the check has just started, or the lag is
				// longer than it remembers): the last replayed commit
				// bounds the staleness.
				return max(now-replayedAt, now-s.at, 0), bytes
			}
			return max(now-s.at, 0), bytes
		}
	}
	return 0, bytes
}

func paused(d *ReplicationDetails) string {
	if d.ReplayPaused {
		return "; replay is paused (pg_wal_replay_pause())"
	}
	return ""
}

var (
	descLagSeconds = prometheus.NewDesc("dbhealth_replication_lag_seconds",
		"How far replay on this replica is behind its primary: 0 when everything received is replayed, else the time since the last replayed transaction committed. 0 on a primary.",
		[]string{"target"}, nil)
	descLagBytes = prometheus.NewDesc("dbhealth_replication_lag_bytes",
		"Bytes of WAL received but not yet replayed. 0 on a primary.", []string{"target"}, nil)
	descReplayPaused = prometheus.NewDesc("dbhealth_replication_replay_paused",
		"1 if replay is paused on this replica (pg_wal_replay_pause()).", []string{"target"}, nil)
)

var _ metrics.CheckCollector = (*ReplicationLag)(nil)

// CollectMetrics exports the lag of the last run that measured it.
func (*ReplicationLag) CollectMetrics(target string, check health.CheckSnapshot, ch chan<- prometheus.Metric) {
	if check.Last == nil {
		return
	}
	d, ok := check.Last.Details.(*ReplicationDetails)
	if !ok || d.LagSeconds == nil {
		return
	}
	ch <- metrics.Gauge(descLagSeconds, *d.LagSeconds, target)
	ch <- metrics.Gauge(descLagBytes, float64(*d.LagBytes), target)
	ch <- metrics.Gauge(descReplayPaused, metrics.Bool(d.ReplayPaused), target)
}

// Reasons are the failure reasons the lag check can report.
func (*ReplicationLag) Reasons() []string {
	return append([]string{ReasonReplicationLag}, ConnectionReasons()...)
}
