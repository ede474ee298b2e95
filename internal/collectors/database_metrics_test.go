package collectors

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
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

	now := time.Unix(1700000000, 0)
	seen := &LastSeen{ServerVersion: "15.18", InRecovery: true, At: now.Add(-time.Millisecond)}
	after := before
	after.Status = health.StatusOK
	after.Last = &health.Outcome{Started: now, Finished: now, Details: &DatabaseDetails{
		Database: "app", LastSeen: seen, ConnectSeconds: 0.004, PingSeconds: 0.0005,
	}}
	if err := testutil.CollectAndCompare(after, strings.NewReader(serverMetrics(1, seen, "app")), serverFamilies...); err != nil {
		t.Fatal(err)
	}
}

// entry is the check's entry of a snapshot after a run with res.
func entry(res health.Result, finished time.Time) collectDatabase {
	last := &health.Outcome{Started: finished, Finished: finished, Details: res.Details}
	if !res.OK() {
		last.Error, last.Reason = res.Err.Error(), res.Reason
	}
	return collectDatabase{Definition: health.Definition{Name: "database"}, Last: last}
}

// serverMetrics is the golden text of dbhealth_up and the server's facts.
func serverMetrics(up int, seen *LastSeen, database string) string {
	return fmt.Sprintf(`
# HELP dbhealth_up 1 if the last database check succeeded (a fresh connection and SELECT 1), 0 otherwise.
# TYPE dbhealth_up gauge
dbhealth_up{target="orders"} %d
# HELP dbhealth_database_info Server version and database seen by the last database check that reached the server, kept while it is unreachable; always 1.
# TYPE dbhealth_database_info gauge
dbhealth_database_info{database=%q,server_version=%q,target="orders"} 1
# HELP dbhealth_database_in_recovery 1 if the server was in recovery (a replica) at the last database check that reached it, 0 if it was a primary; kept while the server is unreachable (see dbhealth_database_last_seen_timestamp_seconds).
# TYPE dbhealth_database_in_recovery gauge
dbhealth_database_in_recovery{target="orders"} %d
# HELP dbhealth_database_last_seen_timestamp_seconds When a database check last reached the server and read its version and recovery state (Unix time): the age of dbhealth_database_info and dbhealth_database_in_recovery.
# TYPE dbhealth_database_last_seen_timestamp_seconds gauge
dbhealth_database_last_seen_timestamp_seconds{target="orders"} %s
`, up, database, seen.ServerVersion, int(metrics.Bool(seen.InRecovery)), strconv.FormatFloat(metrics.UnixSeconds(seen.At), 'g', -1, 64))
}

var serverFamilies = []string{"dbhealth_up", "dbhealth_database_info", "dbhealth_database_in_recovery", "dbhealth_database_last_seen_timestamp_seconds"}

func TestDatabaseMetrics_ServerFactsOutliveAnOutage_WithWhenTheyWereSeen(t *testing.T) {
	cluster := pgtest.New(t)
	check := newCheck(t, cluster.DSN("postgres"), DatabaseOptions{})

	res, before := runCheck(check)
	if !res.OK() || before.LastSeen == nil {
		t.Fatalf("healthy run: %v, last seen %+v", res.Err, before.LastSeen)
	}
	seen := *before.LastSeen
	if err := testutil.CollectAndCompare(entry(res, time.Now()), strings.NewReader(serverMetrics(1, &seen, "postgres")), serverFamilies...); err != nil {
		t.Fatal(err)
	}

	cluster.Stop(t)
	res, during := runCheck(check)
	if res.OK() || res.Reason != ReasonRefused {
		t.Fatalf("run against the stopped server: %v (%s)", res.Err, res.Reason)
	}
	// The same facts, untouched: carried over, not copied or modified.
	if during.LastSeen != before.LastSeen || *during.LastSeen != seen {
		t.Fatalf("during the outage: last seen %+v, want %+v", during.LastSeen, seen)
	}
	if err := testutil.CollectAndCompare(entry(res, time.Now()), strings.NewReader(serverMetrics(0, &seen, "postgres")), serverFamilies...); err != nil {
		t.Fatal(err)
	}
	body, err := json.Marshal(during)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"server_version":"` + seen.ServerVersion + `"`, `"in_recovery":false`, `"last_seen":"`} {
		if !strings.Contains(string(body), want) {
			t.Errorf("probe details %s lack %s", body, want)
		}
	}

	cluster.Start(t)
	res, after := runCheck(check)
	if !res.OK() || after.LastSeen == before.LastSeen || !after.At.After(seen.At) {
		t.Fatalf("after the restart: %v, last seen %+v (before %+v)", res.Err, after.LastSeen, seen)
	}
}

func TestDatabaseMetrics_NeverReached_NoServerFacts(t *testing.T) {
	cluster := pgtest.New(t)
	cluster.Stop(t)
	res, details := runCheck(newCheck(t, cluster.DSN("postgres"), DatabaseOptions{}))
	if res.OK() || details.LastSeen != nil {
		t.Fatalf("never reached: %v, last seen %+v", res.Err, details.LastSeen)
	}
	want := `
# HELP dbhealth_up 1 if the last database check succeeded (a fresh connection and SELECT 1), 0 otherwise.
# TYPE dbhealth_up gauge
dbhealth_up{target="orders"} 0
`
	if err := testutil.CollectAndCompare(entry(res, time.Now()), strings.NewReader(want), serverFamilies...); err != nil {
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
dbhealth_check_failures_total{check="database",reason="database_missing",target="orders"} 0
dbhealth_check_failures_total{check="database",reason="dns",target="orders"} 0
dbhealth_check_failures_total{check="database",reason="not_replica",target="orders"} 0
dbhealth_check_failures_total{check="database",reason="other",target="orders"} 0
dbhealth_check_failures_total{check="database",reason="panic",target="orders"} 0
dbhealth_check_failures_total{check="database",reason="read_only",target="orders"} 0
dbhealth_check_failures_total{check="database",reason="refused",target="orders"} %d
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
