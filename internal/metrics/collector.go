// Package metrics turns the current health.Snapshot into Prometheus metrics
// at scrape time. Every value comes from one snapshot read once per scrape,
// so a scrape always shows a single generation, the same one /readyz serves.
//
//	reg.MustRegister(metrics.NewCollector(engine.Store().Snapshot))
package metrics

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/dbhealth/dbhealth-exporter/internal/health"
)

// DetailsCollector is implemented by check Details that export metrics of
// their own (see package collectors).
type DetailsCollector interface {
	CollectMetrics(target string, ch chan<- prometheus.Metric)
}

// Collector is an unchecked prometheus.Collector over the snapshot source.
type Collector struct {
	snapshot func() *health.Snapshot
	upCheck  string
}

// NewCollector returns a collector reading snapshots from snapshot. The
// last-run success of the check named "database" is exported as
// dbhealth_up.
func NewCollector(snapshot func() *health.Snapshot) *Collector {
	return &Collector{snapshot: snapshot, upCheck: "database"}
}

var (
	target      = []string{"target"}
	checkLabels = []string{"target", "check"}

	descUp = prometheus.NewDesc("dbhealth_up",
		"1 if the last database check succeeded (a fresh connection and SELECT 1), 0 otherwise.", target, nil)
	descReady = prometheus.NewDesc("dbhealth_ready",
		"1 if /readyz answers ready right now, 0 otherwise (not_ready, starting or shutting_down).", nil, nil)
	descGeneration = prometheus.NewDesc("dbhealth_snapshot_generation",
		"Generation of the snapshot this scrape was built from; /readyz reports the same number.", nil, nil)
	descSuccess = prometheus.NewDesc("dbhealth_check_success",
		"1 if the check's last run passed, 0 if it failed. Checks run in the background; see dbhealth_check_last_run_timestamp_seconds for the age.", checkLabels, nil)
	descStatus = prometheus.NewDesc("dbhealth_check_status",
		"1 for the check's current status after thresholds and staleness (ok, failing, unknown, stale), 0 for the others.", []string{"target", "check", "status"}, nil)
	descCritical = prometheus.NewDesc("dbhealth_check_critical",
		"1 if the check decides readiness, 0 if it is reported only.", checkLabels, nil)
	descConsecutive = prometheus.NewDesc("dbhealth_check_consecutive_failures",
		"Failed runs in a row; 0 after a success.", checkLabels, nil)
	descLastRun = prometheus.NewDesc("dbhealth_check_last_run_timestamp_seconds",
		"When the check's last run finished (Unix time). Absent before the first run.", checkLabels, nil)
	descLastSuccess = prometheus.NewDesc("dbhealth_check_last_success_timestamp_seconds",
		"When the check last passed (Unix time). Absent until it has passed once.", checkLabels, nil)
	descDuration = prometheus.NewDesc("dbhealth_check_duration_seconds",
		"How long check runs took.", checkLabels, nil)
	descRuns = prometheus.NewDesc("dbhealth_check_runs_total",
		"Check runs by result (success or failure).", []string{"target", "check", "result"}, nil)
	descFailures = prometheus.NewDesc("dbhealth_check_failures_total",
		"Failed check runs by reason.", []string{"target", "check", "reason"}, nil)
)

// Describe sends nothing: the collector is unchecked, because check details
// bring metrics of their own.
func (c *Collector) Describe(chan<- *prometheus.Desc) {}

// Collect builds every metric from one snapshot.
func (c *Collector) Collect(ch chan<- prometheus.Metric) {
	snap := c.snapshot()
	ch <- gauge(descReady, boolFloat(snap.Readiness == health.ReadinessReady))
	ch <- gauge(descGeneration, float64(snap.Generation))
	for _, check := range snap.Checks {
		c.collectCheck(ch, snap.Target, check)
	}
}

func (c *Collector) collectCheck(ch chan<- prometheus.Metric, tgt string, check health.CheckSnapshot) {
	labels := []string{tgt, check.Name}
	for _, s := range health.AllStatuses {
		ch <- gauge(descStatus, boolFloat(check.Status() == s), tgt, check.Name, string(s))
	}
	ch <- gauge(descCritical, boolFloat(check.Critical), labels...)
	ch <- gauge(descConsecutive, float64(check.Streak.Failures), labels...)
	stats := check.Stats
	ch <- prometheus.MustNewConstMetric(descRuns, prometheus.CounterValue, float64(stats.Successes), tgt, check.Name, "success")
	ch <- prometheus.MustNewConstMetric(descRuns, prometheus.CounterValue, float64(stats.Failures), tgt, check.Name, "failure")
	for reason, n := range stats.FailuresByReason {
		ch <- prometheus.MustNewConstMetric(descFailures, prometheus.CounterValue, float64(n), tgt, check.Name, reason)
	}
	buckets := make(map[float64]uint64, len(health.DurationBuckets))
	for i, bound := range health.DurationBuckets {
		buckets[bound] = stats.DurationBuckets[i]
	}
	ch <- prometheus.MustNewConstHistogram(descDuration, stats.DurationCount, stats.DurationSum, buckets, labels...)
	if !check.LastSuccess.IsZero() {
		ch <- gauge(descLastSuccess, unixSeconds(check.LastSuccess), labels...)
	}

	last := check.Last
	if last == nil {
		if check.Name == c.upCheck {
			ch <- gauge(descUp, 0, tgt)
		}
		return
	}
	ch <- gauge(descSuccess, boolFloat(last.OK()), labels...)
	ch <- gauge(descLastRun, unixSeconds(last.Finished), labels...)
	if check.Name == c.upCheck {
		ch <- gauge(descUp, boolFloat(last.OK()), tgt)
	}
	if d, ok := last.Details.(DetailsCollector); ok {
		d.CollectMetrics(tgt, ch)
	}
}

func gauge(desc *prometheus.Desc, v float64, labels ...string) prometheus.Metric {
	return prometheus.MustNewConstMetric(desc, prometheus.GaugeValue, v, labels...)
}

func boolFloat(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

func unixSeconds(t time.Time) float64 { return float64(t.UnixNano()) / 1e9 }
