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

// ReasonConnectionHeadroom is the failure reason of the connections check.
const ReasonConnectionHeadroom = "connection_headroom"

// DefaultMaxUsedRatio is the connections check's bound when none is set.
const DefaultMaxUsedRatio = 0.9

// ConnectionsOptions bound the connections in use; with neither set,
// MaxUsedRatio is DefaultMaxUsedRatio.
type ConnectionsOptions struct {
	// MaxUsedRatio fails the check when more than this share of the slots
	// open to ordinary roles is in use (0 < ratio <= 1).
	MaxUsedRatio float64
	// MinFree fails the check when fewer slots than this are left.
	MinFree int
}

// Connections is the connection headroom check: client connections in use
// against max_connections less the slots reserved for superusers
// (superuser_reserved_connections) and, from PostgreSQL 16, for roles with
// pg_use_reserved_connections (reserved_connections). Those are the slots
// the service's own role can have; when they run out, its new connections
// are refused with SQLSTATE 53300 (which the database check reports as
// too_many_connections). The exporter's own connection is not counted.
type Connections struct {
	pool *pgxpool.Pool
	opts ConnectionsOptions
}

// NewConnections returns the check over pool. It does not connect.
func NewConnections(pool *pgxpool.Pool, opts ConnectionsOptions) *Connections {
	if opts.MaxUsedRatio == 0 && opts.MinFree == 0 {
		opts.MaxUsedRatio = DefaultMaxUsedRatio
	}
	return &Connections{pool: pool, opts: opts}
}

// ConnectionsDetails are what the connections check saw.
type ConnectionsDetails struct {
	Used           int `json:"used"`
	Limit          int `json:"limit"` // slots open to ordinary roles
	MaxConnections int `json:"max_connections"`
	Reserved       int `json:"reserved"` // for superusers and pg_use_reserved_connections
}

// connectionsQuery counts client backends other than this one, and reads
// the limits; reserved_connections is missing before PostgreSQL 16.
const connectionsQuery = `
SELECT (SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend' AND pid <> pg_backend_pid())::int,
       current_setting('max_connections')::int,
       current_setting('superuser_reserved_connections')::int
         + COALESCE(current_setting('reserved_connections', true), '0')::int`

// Run performs one check under ctx's deadline.
func (c *Connections) Run(ctx context.Context) health.Result {
	d := &ConnectionsDetails{}
	err := WithFreshConn(ctx, c.pool, func(conn *pgx.Conn, _ time.Time) error {
		return conn.QueryRow(ctx, connectionsQuery).Scan(&d.Used, &d.MaxConnections, &d.Reserved)
	})
	if err != nil {
		res := Failure(ctx, err)
		res.Details = d
		return res
	}
	d.Limit = max(d.MaxConnections-d.Reserved, 0)
	res := health.Result{Details: d}
	free := d.Limit - d.Used
	switch {
	case c.opts.MinFree > 0 && free < c.opts.MinFree:
		res.Err = fmt.Errorf("%d of %d connection slots free, want at least %d", max(free, 0), d.Limit, c.opts.MinFree)
	case c.opts.MaxUsedRatio > 0 && d.Limit > 0 && float64(d.Used) > c.opts.MaxUsedRatio*float64(d.Limit):
		res.Err = fmt.Errorf("%d of %d connection slots in use (%.0f%%, max_used_ratio %g)", d.Used, d.Limit, 100*float64(d.Used)/float64(d.Limit), c.opts.MaxUsedRatio)
	}
	if res.Err != nil {
		res.Reason = ReasonConnectionHeadroom
	}
	return res
}

var (
	descConnUsed = prometheus.NewDesc("dbhealth_connections_used",
		"Client connections to the server at the last connections check, the exporter's own excluded.", []string{"target"}, nil)
	descConnLimit = prometheus.NewDesc("dbhealth_connections_limit",
		"Connection slots open to ordinary roles: max_connections less superuser_reserved_connections and reserved_connections.", []string{"target"}, nil)
)

var _ metrics.CheckCollector = (*Connections)(nil)

// CollectMetrics exports the counts of the last run that read them.
func (*Connections) CollectMetrics(target string, check health.CheckSnapshot, ch chan<- prometheus.Metric) {
	if check.Last == nil {
		return
	}
	if d, ok := check.Last.Details.(*ConnectionsDetails); ok && d.MaxConnections > 0 {
		ch <- metrics.Gauge(descConnUsed, float64(d.Used), target)
		ch <- metrics.Gauge(descConnLimit, float64(d.Limit), target)
	}
}

// Reasons are the failure reasons the connections check can report.
func (*Connections) Reasons() []string {
	return append([]string{ReasonConnectionHeadroom}, ConnectionReasons()...)
}
