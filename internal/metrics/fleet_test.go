package metrics

import (
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/dbhealth/dbhealth-exporter/internal/health"
)

func TestFleetCollector_EveryTargetWithItsLabels_OneExporterReadiness(t *testing.T) {
	target := func(name string, ready bool) *health.Snapshot {
		r := health.ReadinessNotReady
		if ready {
			r = health.ReadinessReady
		}
		return &health.Snapshot{Target: name, Generation: 3, Readiness: r, Checks: []health.CheckSnapshot{{
			Definition: health.Definition{Name: "database", Critical: true, Checker: ownMetrics{}},
			Status:     health.StatusOK, Stats: emptyStats(),
		}}}
	}
	c := NewFleetCollector(func() []Target {
		return []Target{
			{Snapshot: target("orders", true), Labels: map[string]string{"team": "payments", "tier": "gold"}},
			{Snapshot: target("reports", false)},
		}
	}, func() bool { return true })
	want := `
# HELP dbhealth_ready 1 if /readyz answers ready right now, 0 otherwise (not_ready, starting or shutting_down).
# TYPE dbhealth_ready gauge
dbhealth_ready 1
# HELP dbhealth_target_ready 1 if the target's readiness (/targets/<target>/readyz) is ready right now, 0 otherwise.
# TYPE dbhealth_target_ready gauge
dbhealth_target_ready{target="orders",team="payments",tier="gold"} 1
dbhealth_target_ready{target="reports"} 0
# HELP dbhealth_targets Targets this exporter (this shard) watches.
# TYPE dbhealth_targets gauge
dbhealth_targets 2
# HELP dbhealth_test_detail A detail.
# TYPE dbhealth_test_detail gauge
dbhealth_test_detail{target="orders",team="payments",tier="gold"} 0
dbhealth_test_detail{target="reports"} 0
`
	if err := testutil.CollectAndCompare(c, strings.NewReader(want), "dbhealth_ready", "dbhealth_target_ready", "dbhealth_targets", "dbhealth_test_detail"); err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(c)
	if _, err := reg.Gather(); err != nil {
		t.Fatalf("gather: %v", err)
	}
}
