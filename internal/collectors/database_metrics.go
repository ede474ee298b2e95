package collectors

import "github.com/prometheus/client_golang/prometheus"

var (
	descInRecovery = prometheus.NewDesc("dbhealth_database_in_recovery",
		"1 if the server was in recovery (a replica) at the last database check that reached it.", []string{"target"}, nil)
	descInfo = prometheus.NewDesc("dbhealth_database_info",
		"Server seen by the last database check that reached it; always 1.", []string{"target", "server_version", "database"}, nil)
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

// CollectMetrics exports what the last database check saw. Facts the run
// could not learn are left out rather than reported as zero.
func (d *DatabaseDetails) CollectMetrics(target string, ch chan<- prometheus.Metric) {
	if d.InRecovery != nil {
		ch <- prometheus.MustNewConstMetric(descInRecovery, prometheus.GaugeValue, boolFloat(*d.InRecovery), target)
	}
	if d.ServerVersion != "" {
		ch <- prometheus.MustNewConstMetric(descInfo, prometheus.GaugeValue, 1, target, d.ServerVersion, d.Database)
	}
	if d.ConnectSeconds > 0 {
		ch <- prometheus.MustNewConstMetric(descConnect, prometheus.GaugeValue, d.ConnectSeconds, target)
	}
	if d.PingSeconds > 0 {
		ch <- prometheus.MustNewConstMetric(descPing, prometheus.GaugeValue, d.PingSeconds, target)
	}
	if d.Pool != nil {
		for _, m := range poolMetrics {
			ch <- prometheus.MustNewConstMetric(m.desc, m.kind, m.value(d), target)
		}
	}
}

func boolFloat(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
