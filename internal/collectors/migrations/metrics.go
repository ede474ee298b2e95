package migrations

import "github.com/prometheus/client_golang/prometheus"

var (
	target      = []string{"target"}
	descPending = prometheus.NewDesc("dbhealth_migrations_pending",
		"Migrations on disk that the database has not applied.", target, nil)
	descApplied = prometheus.NewDesc("dbhealth_migrations_applied",
		"Migrations the database records as applied.", target, nil)
	descUnknown = prometheus.NewDesc("dbhealth_migrations_unknown",
		"Migrations the database has applied that are not on disk (the database is ahead of this code).", target, nil)
	descDirty = prometheus.NewDesc("dbhealth_migrations_dirty",
		"Migrations recorded as failed or half-applied (dirty).", target, nil)
	descMismatch = prometheus.NewDesc("dbhealth_migrations_checksum_mismatches",
		"Applied migrations whose file has changed since (for tools that store checksums).", target, nil)
	descLocked = prometheus.NewDesc("dbhealth_migrations_locked",
		"1 if the migration tool's lock is held (a run may have died holding it).", target, nil)
	descInfo = prometheus.NewDesc("dbhealth_migrations_info",
		"The migration tool and versions seen by the last migrations check; always 1.", []string{"target", "tool", "applied_version", "latest_version"}, nil)
)

// CollectMetrics exports the report of the last successful read.
func (r *Report) CollectMetrics(tgt string, ch chan<- prometheus.Metric) {
	gauge := func(d *prometheus.Desc, v float64) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, tgt)
	}
	gauge(descPending, float64(len(r.Pending)))
	gauge(descApplied, float64(r.AppliedCount))
	gauge(descUnknown, float64(len(r.Unknown)))
	gauge(descDirty, float64(len(r.Dirty)))
	gauge(descMismatch, float64(len(r.ChecksumMismatches)))
	locked := 0.0
	if r.Locked {
		locked = 1
	}
	gauge(descLocked, locked)
	ch <- prometheus.MustNewConstMetric(descInfo, prometheus.GaugeValue, 1, tgt, r.Tool, r.LatestApplied, r.LatestOnDisk)
}
