package metrics

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/dbhealth/dbhealth-exporter/internal/health"
)

// CheckCollector is implemented by the Checker of a check that exports
// metrics of its own, such as the database check's dbhealth_up. The
// Collector calls CollectMetrics on every scrape with the check's entry of
// the snapshot being scraped; the metrics must be built from that entry
// (its Last.Details) alone, never from state the Checker keeps, so that
// they show the same generation as everything else.
type CheckCollector interface {
	CollectMetrics(target string, check health.CheckSnapshot, ch chan<- prometheus.Metric)
}

// Collector is an unchecked prometheus.Collector over the snapshot source.
type Collector struct {
	snapshot func() *health.Snapshot
}

// NewCollector returns a collector reading snapshots from snapshot.
func NewCollector(snapshot func() *health.Snapshot) *Collector {
	return &Collector{snapshot: snapshot}
}

var (
	checkLabels = []string{"target", "check"}

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

// Describe sends nothing: the collector is unchecked, because checks bring
// metrics of their own.
func (c *Collector) Describe(chan<- *prometheus.Desc) {}

// Collect builds every metric from one snapshot.
func (c *Collector) Collect(ch chan<- prometheus.Metric) {
	snap := c.snapshot()
	ch <- Gauge(descReady, Bool(snap.Readiness == health.ReadinessReady))
	ch <- Gauge(descGeneration, float64(snap.Generation))
	for _, check := range snap.Checks {
		collectCheck(ch, snap.Target, check)
	}
}

func collectCheck(ch chan<- prometheus.Metric, tgt string, check health.CheckSnapshot) {
	if own, ok := check.Checker.(CheckCollector); ok {
		own.CollectMetrics(tgt, check, ch)
	}
	labels := []string{tgt, check.Name}
	for _, s := range health.AllStatuses {
		ch <- Gauge(descStatus, Bool(check.Status == s), tgt, check.Name, string(s))
	}
	ch <- Gauge(descCritical, Bool(check.Critical), labels...)
	ch <- Gauge(descConsecutive, float64(check.ConsecutiveFailures), labels...)
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
		ch <- Gauge(descLastSuccess, UnixSeconds(check.LastSuccess), labels...)
	}

	if last := check.Last; last != nil {
		ch <- Gauge(descSuccess, Bool(last.OK()), labels...)
		ch <- Gauge(descLastRun, UnixSeconds(last.Finished), labels...)
	}
}
