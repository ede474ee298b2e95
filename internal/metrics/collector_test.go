package metrics

import (
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/dbhealth/dbhealth-exporter/internal/health"
)

// ownMetrics is a Checker exporting one metric of its own from its
// details: the length of the string it reported, 0 before its first run.
type ownMetrics struct{ health.Checker }

var descDetail = prometheus.NewDesc("dbhealth_test_detail", "A detail.", []string{"target"}, nil)

func (ownMetrics) CollectMetrics(target string, c health.CheckSnapshot, ch chan<- prometheus.Metric) {
	v := 0
	if c.Last != nil {
		v = len(c.Last.Details.(string))
	}
	ch <- Gauge(descDetail, float64(v), target)
}

func snapshotOf(checks ...health.CheckSnapshot) func() *health.Snapshot {
	snap := &health.Snapshot{Generation: 5, Target: "orders", Checks: checks, Readiness: health.Verdict(checks, false, nil)}
	return func() *health.Snapshot { return snap }
}

func emptyStats() *health.Stats {
	return &health.Stats{DurationBuckets: make([]uint64, len(health.DurationBuckets))}
}

func TestCollector_BeforeTheFirstRun_StatusIsUnknownAndRunMetricsAreAbsent(t *testing.T) {
	c := NewCollector(snapshotOf(health.CheckSnapshot{
		Definition: health.Definition{Name: "database", Critical: true, Checker: ownMetrics{}},
		Status:     health.StatusUnknown, Stats: emptyStats(),
	}))
	want := `
# HELP dbhealth_ready 1 if /readyz answers ready right now, 0 otherwise (not_ready, starting or shutting_down).
# TYPE dbhealth_ready gauge
dbhealth_ready 0
# HELP dbhealth_test_detail A detail.
# TYPE dbhealth_test_detail gauge
dbhealth_test_detail{target="orders"} 0
# HELP dbhealth_check_status 1 for the check's current status after thresholds and staleness (ok, failing, unknown, stale), 0 for the others.
# TYPE dbhealth_check_status gauge
dbhealth_check_status{check="database",status="failing",target="orders"} 0
dbhealth_check_status{check="database",status="ok",target="orders"} 0
dbhealth_check_status{check="database",status="stale",target="orders"} 0
dbhealth_check_status{check="database",status="unknown",target="orders"} 1
`
	if err := testutil.CollectAndCompare(c, strings.NewReader(want), "dbhealth_ready", "dbhealth_test_detail", "dbhealth_check_status"); err != nil {
		t.Fatal(err)
	}
	for _, absent := range []string{"dbhealth_check_success", "dbhealth_check_last_run_timestamp_seconds", "dbhealth_check_last_success_timestamp_seconds"} {
		if n := testutil.CollectAndCount(c, absent); n != 0 {
			t.Errorf("%s present before the first run", absent)
		}
	}
}

func TestCollector_AfterRuns_ExportsCountersHistogramAndTheChecksOwnMetrics(t *testing.T) {
	finished := time.Unix(1700000000, 500_000_000)
	stats := &health.Stats{
		Successes: 3, Failures: 2, FailuresByReason: map[string]uint64{"refused": 2},
		DurationBuckets: []uint64{0, 0, 0, 4, 5, 5, 5, 5, 5, 5, 5, 5, 5}, DurationCount: 5, DurationSum: 0.04,
	}
	c := NewCollector(snapshotOf(health.CheckSnapshot{
		Definition: health.Definition{Name: "database", Critical: true, Checker: ownMetrics{}},
		Status:     health.StatusFailing, ConsecutiveFailures: 2,
		Last: &health.Outcome{Started: finished.Add(-10 * time.Millisecond), Finished: finished,
			Error: "refused", Reason: "refused", Details: "forty-two characters of details, precisely"},
		LastSuccess: finished.Add(-time.Minute), Stats: stats,
	}))
	want := `
# HELP dbhealth_check_runs_total Check runs by result (success or failure).
# TYPE dbhealth_check_runs_total counter
dbhealth_check_runs_total{check="database",result="failure",target="orders"} 2
dbhealth_check_runs_total{check="database",result="success",target="orders"} 3
# HELP dbhealth_check_failures_total Failed check runs by reason.
# TYPE dbhealth_check_failures_total counter
dbhealth_check_failures_total{check="database",reason="refused",target="orders"} 2
# HELP dbhealth_check_consecutive_failures Failed runs in a row; 0 after a success.
# TYPE dbhealth_check_consecutive_failures gauge
dbhealth_check_consecutive_failures{check="database",target="orders"} 2
# HELP dbhealth_check_last_run_timestamp_seconds When the check's last run finished (Unix time). Absent before the first run.
# TYPE dbhealth_check_last_run_timestamp_seconds gauge
dbhealth_check_last_run_timestamp_seconds{check="database",target="orders"} 1.7000000005e+09
# HELP dbhealth_snapshot_generation Generation of the snapshot this scrape was built from; /readyz reports the same number.
# TYPE dbhealth_snapshot_generation gauge
dbhealth_snapshot_generation 5
# HELP dbhealth_test_detail A detail.
# TYPE dbhealth_test_detail gauge
dbhealth_test_detail{target="orders"} 42
`
	names := []string{"dbhealth_check_runs_total", "dbhealth_check_failures_total", "dbhealth_check_consecutive_failures",
		"dbhealth_check_last_run_timestamp_seconds", "dbhealth_snapshot_generation", "dbhealth_test_detail"}
	if err := testutil.CollectAndCompare(c, strings.NewReader(want), names...); err != nil {
		t.Fatal(err)
	}
	if n := testutil.CollectAndCount(c, "dbhealth_check_duration_seconds"); n != 1 {
		t.Fatalf("histogram series: %d", n)
	}
	problems, err := testutil.CollectAndLint(c)
	if err != nil || len(problems) > 0 {
		t.Fatalf("lint: %v %v", err, problems)
	}
}
