package collectors

import (
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/dbhealth/dbhealth-exporter/internal/health"
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
