package collectors

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/dbhealth/dbhealth-exporter/internal/health"
	"github.com/dbhealth/dbhealth-exporter/internal/metrics"
	"github.com/dbhealth/dbhealth-exporter/internal/pgtest"
)

// collectDatabase gathers what the database check exports for one entry of
// a snapshot.
type collectDatabase health.CheckSnapshot

func (c collectDatabase) Describe(chan<- *prometheus.Desc) {}
func (c collectDatabase) Collect(ch chan<- prometheus.Metric) {
	(*Database)(nil).CollectMetrics("orders", health.CheckSnapshot(c), ch)
}

func TestDatabaseMetrics_UpIsZeroBeforeTheFirstRunAndFollowsTheLastRun(t *testing.T) {
	before := collectDatabase{Definition: health.Definition{Name: "database"}, Status: health.StatusUnknown}
	want := `
# HELP dbhealth_up 1 if the last database check succeeded (a fresh connection and SELECT 1), 0 otherwise.
# TYPE dbhealth_up gauge
dbhealth_up{target="orders"} 0
`
	if err := testutil.CollectAndCompare(before, strings.NewReader(want)); err != nil {
		t.Fatal(err)
	}

	inRecovery := true
	now := time.Unix(1700000000, 0)
	after := before
	after.Status = health.StatusOK
	after.Last = &health.Outcome{Started: now, Finished: now, Details: &DatabaseDetails{
		Database: "app", ServerVersion: "15.18", InRecovery: &inRecovery, ConnectSeconds: 0.004, PingSeconds: 0.0005,
	}}
	want = `
# HELP dbhealth_up 1 if the last database check succeeded (a fresh connection and SELECT 1), 0 otherwise.
# TYPE dbhealth_up gauge
dbhealth_up{target="orders"} 1
# HELP dbhealth_database_info Server seen by the last database check that reached it; always 1.
# TYPE dbhealth_database_info gauge
dbhealth_database_info{database="app",server_version="15.18",target="orders"} 1
# HELP dbhealth_database_in_recovery 1 if the server was in recovery (a replica) at the last database check that reached it.
# TYPE dbhealth_database_in_recovery gauge
dbhealth_database_in_recovery{target="orders"} 1
`
	if err := testutil.CollectAndCompare(after, strings.NewReader(want), "dbhealth_up", "dbhealth_database_info", "dbhealth_database_in_recovery"); err != nil {
		t.Fatal(err)
	}
}

func TestDatabaseMetrics_FailureCounters_ExistAtZeroBeforeTheFirstFailure(t *testing.T) {
	cluster := pgtest.New(t)
	cluster.Stop(t)
	engine, err := health.NewEngine([]health.Definition{{
		Name: "database", Critical: true, Checker: newCheck(t, cluster.DSN("postgres"), DatabaseOptions{}),
		Interval: time.Hour, Timeout: 2 * time.Second, // one run
	}}, health.WithTarget("orders"))
	if err != nil {
		t.Fatal(err)
	}
	collector := metrics.NewCollector(engine.Snapshot)
	failures := func(refused int) string {
		return fmt.Sprintf(`
# HELP dbhealth_check_failures_total Failed check runs by reason.
# TYPE dbhealth_check_failures_total counter
dbhealth_check_failures_total{check="database",reason="auth_failed",target="orders"} 0
dbhealth_check_failures_total{check="database",reason="dns",target="orders"} 0
dbhealth_check_failures_total{check="database",reason="other",target="orders"} 0
dbhealth_check_failures_total{check="database",reason="panic",target="orders"} 0
dbhealth_check_failures_total{check="database",reason="refused",target="orders"} %d
dbhealth_check_failures_total{check="database",reason="replica",target="orders"} 0
dbhealth_check_failures_total{check="database",reason="shutting_down",target="orders"} 0
dbhealth_check_failures_total{check="database",reason="starting_up",target="orders"} 0
dbhealth_check_failures_total{check="database",reason="timeout",target="orders"} 0
dbhealth_check_failures_total{check="database",reason="tls",target="orders"} 0
dbhealth_check_failures_total{check="database",reason="too_many_connections",target="orders"} 0
`, refused)
	}
	if err := testutil.CollectAndCompare(collector, strings.NewReader(failures(0)), "dbhealth_check_failures_total"); err != nil {
		t.Fatalf("before the first run: %v", err)
	}

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { engine.Run(ctx); close(done) }()
	for engine.Snapshot().Generation == 0 {
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	<-done
	if err := testutil.CollectAndCompare(collector, strings.NewReader(failures(1)), "dbhealth_check_failures_total"); err != nil {
		t.Fatalf("after the first failure: %v", err)
	}
}
