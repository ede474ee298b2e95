package collectors

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/dbhealth/dbhealth-exporter/internal/health"
	"github.com/dbhealth/dbhealth-exporter/internal/metrics"
)

var (
	descUp = prometheus.NewDesc("dbhealth_up",
		"1 if the last database check succeeded (a fresh connection and SELECT 1), 0 otherwise.", []string{"target"}, nil)
	descInRecovery = prometheus.NewDesc("dbhealth_database_in_recovery",
		"1 if the server was in recovery (a replica) at the last database check that reached it, 0 if it was a primary; kept while the server is unreachable (see dbhealth_database_last_seen_timestamp_seconds).", []string{"target"}, nil)
	descInfo = prometheus.NewDesc("dbhealth_database_info",
		"Server version and database seen by the last database check that reached the server, kept while it is unreachable; always 1.", []string{"target", "server_version", "database"}, nil)
	descLastSeen = prometheus.NewDesc("dbhealth_database_last_seen_timestamp_seconds",
		"When a database check last reached the server and read its version and recovery state (Unix time): the age of dbhealth_database_info and dbhealth_database_in_recovery.", []string{"target"}, nil)
	descConnect = prometheus.NewDesc("dbhealth_database_connect_duration_seconds",
		"Time the last successful connect took, including TLS and authentication.", []string{"target"}, nil)
	descPing = prometheus.NewDesc("dbhealth_database_ping_duration_seconds",
		"Round trip of SELECT 1 in the last database check that got that far.", []string{"target"}, nil)
)

// poolMetric is one figure of pgxpool.Stat.
type poolMetric struct {
	desc  *prometheus.Desc
	kind  prometheus.ValueType
	value func(*DatabaseDetails) float64
}

func newPoolMetric(name, help string, kind prometheus.ValueType, value func(*DatabaseDetails) float64) poolMetric {
	return poolMetric{prometheus.NewDesc(name, help, []string{"target"}, nil), kind, value}
}

var poolMetrics = []poolMetric{
	newPoolMetric("dbhealth_pool_max_connections", "Maximum size of the exporter's connection pool.",
		prometheus.GaugeValue, func(d *DatabaseDetails) float64 { return float64(d.Pool.MaxConns()) }),
	newPoolMetric("dbhealth_pool_total_connections", "Connections in the exporter's pool after the last database check.",
		prometheus.GaugeValue, func(d *DatabaseDetails) float64 { return float64(d.Pool.TotalConns()) }),
	newPoolMetric("dbhealth_pool_idle_connections", "Idle connections in the exporter's pool after the last database check.",
		prometheus.GaugeValue, func(d *DatabaseDetails) float64 { return float64(d.Pool.IdleConns()) }),
	newPoolMetric("dbhealth_pool_acquired_connections", "Connections in use in the exporter's pool after the last database check.",
		prometheus.GaugeValue, func(d *DatabaseDetails) float64 { return float64(d.Pool.AcquiredConns()) }),
	newPoolMetric("dbhealth_pool_constructing_connections", "Connections being opened by the exporter's pool after the last database check.",
		prometheus.GaugeValue, func(d *DatabaseDetails) float64 { return float64(d.Pool.ConstructingConns()) }),
	newPoolMetric("dbhealth_pool_acquires_total", "Successful connection acquisitions from the exporter's pool.",
		prometheus.CounterValue, func(d *DatabaseDetails) float64 { return float64(d.Pool.AcquireCount()) }),
	newPoolMetric("dbhealth_pool_empty_acquires_total", "Acquisitions that had to wait for a new connection to be opened.",
		prometheus.CounterValue, func(d *DatabaseDetails) float64 { return float64(d.Pool.EmptyAcquireCount()) }),
	newPoolMetric("dbhealth_pool_canceled_acquires_total", "Acquisitions abandoned because their context ended (timeout or shutdown).",
		prometheus.CounterValue, func(d *DatabaseDetails) float64 { return float64(d.Pool.CanceledAcquireCount()) }),
	newPoolMetric("dbhealth_pool_new_connections_total", "Connections the exporter's pool has opened.",
		prometheus.CounterValue, func(d *DatabaseDetails) float64 { return float64(d.Pool.NewConnsCount()) }),
	newPoolMetric("dbhealth_pool_acquire_duration_seconds_total", "Total time spent acquiring connections from the exporter's pool.",
		prometheus.CounterValue, func(d *DatabaseDetails) float64 { return d.Pool.AcquireDuration().Seconds() }),
}

var _ metrics.CheckCollector = (*Database)(nil)

// CollectMetrics exports dbhealth_up (0 before the first run) and what the
// last run saw, from the check's entry in the snapshot being scraped. The
// server's facts are those of the last run that reached it (they stay
// through an outage, with their timestamp); other figures the run could
// not learn are left out rather than reported as zero.
func (*Database) CollectMetrics(target string, check health.CheckSnapshot, ch chan<- prometheus.Metric) {
	ch <- metrics.Gauge(descUp, metrics.Bool(check.Last != nil && check.Last.OK()), target)
	if check.Last == nil {
		return
	}
	d, ok := check.Last.Details.(*DatabaseDetails)
	if !ok {
		return
	}
	if seen := d.LastSeen; seen != nil {
		ch <- metrics.Gauge(descInRecovery, metrics.Bool(seen.InRecovery), target)
		ch <- metrics.Gauge(descInfo, 1, target, seen.ServerVersion, d.Database)
		ch <- metrics.Gauge(descLastSeen, metrics.UnixSeconds(seen.At), target)
	}
	if d.ConnectSeconds > 0 {
		ch <- metrics.Gauge(descConnect, d.ConnectSeconds, target)
	}
	if d.PingSeconds > 0 {
		ch <- metrics.Gauge(descPing, d.PingSeconds, target)
	}
	if d.Pool != nil {
		for _, m := range poolMetrics {
			ch <- prometheus.MustNewConstMetric(m.desc, m.kind, m.value(d), target)
		}
	}
}
