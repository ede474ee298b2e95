package migrations

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/dbhealth/dbhealth-exporter/internal/health"
	"github.com/dbhealth/dbhealth-exporter/internal/metrics"
)

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

var _ metrics.CheckCollector = (*Check)(nil)

// CollectMetrics exports the report of the last run that read the history,
// from the check's entry in the snapshot being scraped; nothing when the
// last run could not read it.
func (*Check) CollectMetrics(tgt string, check health.CheckSnapshot, ch chan<- prometheus.Metric) {
	if check.Last == nil {
		return
	}
	r, ok := check.Last.Details.(*Report)
	if !ok {
		return
	}
	ch <- metrics.Gauge(descPending, float64(len(r.Pending)), tgt)
	ch <- metrics.Gauge(descApplied, float64(r.AppliedCount), tgt)
	ch <- metrics.Gauge(descUnknown, float64(len(r.Unknown)), tgt)
	ch <- metrics.Gauge(descDirty, float64(len(r.Dirty)), tgt)
	ch <- metrics.Gauge(descMismatch, float64(len(r.ChecksumMismatches)), tgt)
	ch <- metrics.Gauge(descLocked, metrics.Bool(r.Locked), tgt)
	ch <- metrics.Gauge(descInfo, 1, tgt, r.Tool, r.LatestApplied, r.LatestOnDisk)
}
