package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dbhealth/dbhealth-exporter/internal/exporter"
)

func TestResolve_Targets_TopLevelChecksAreEachTargetsDefaults(t *testing.T) {
	path := filepath.Join(t.TempDir(), "fleet.yml")
	if err := os.WriteFile(path, []byte(`
defaults: {interval: 20s}
checks:
  connections: {max_used_ratio: 0.8}
  custom: [{name: q, sql: select true}]
targets:
  - name: orders
    database: {dsn: "postgres://db/orders"}
    labels: {team: payments}
    checks:
      connections: {min_free: 5}
      custom: [{name: q, sql: select false}, {name: r, sql: select true}]
  - name: reports
    database: {dsn: "postgres://db/reports", expect: replica}
`), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := Resolve(exporter.Config{}, map[string]bool{}, path, func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.Targets) != 2 {
		t.Fatalf("%d targets", len(cfg.Targets))
	}
	orders, reports := cfg.Targets[0], cfg.Targets[1]
	switch {
	case orders.Labels["team"] != "payments" || orders.Database.DSN != "postgres://db/orders":
		t.Errorf("orders: %+v", orders)
	case orders.Checks.Defaults.Interval != 20*time.Second:
		t.Errorf("orders' defaults: %+v", orders.Checks.Defaults)
	case orders.Checks.Connections.MaxUsedRatio != 0.8 || orders.Checks.Connections.MinFree != 5:
		t.Errorf("orders' connections: the target's keys over the top-level ones: %+v", orders.Checks.Connections)
	case len(orders.Checks.Custom) != 2 || orders.Checks.Custom[0].SQL != "select false":
		t.Errorf("orders' custom checks: the target's q replaces the top-level q: %+v", orders.Checks.Custom)
	case reports.Database.Expect != "replica" || len(reports.Checks.Custom) != 1 || reports.Checks.Custom[0].SQL != "select true":
		t.Errorf("reports: %+v", reports)
	case cfg.Checks.Connections.MinFree != 0:
		t.Errorf("a target's block leaked into the top-level checks: %+v", cfg.Checks.Connections)
	}

	if _, err := Resolve(exporter.Config{}, map[string]bool{"db.dsn": true}, path, func(string) string { return "" }); err == nil ||
		!strings.Contains(err.Error(), "--db.dsn: applies to one database") {
		t.Errorf("--db.dsn with targets: %v", err)
	}
}

func TestShard_FromTheFlagOrAStatefulSetPodsOrdinal(t *testing.T) {
	env := func(pod string) func(string) string {
		return func(k string) string {
			if k == "POD_NAME" {
				return pod
			}
			return ""
		}
	}
	cases := []struct {
		flag, total int
		pod         string
		want        int
		err         string
	}{
		{1, 3, "", 1, ""},
		{-1, 1, "", 0, ""},
		{-1, 3, "dbhealth-2", 2, ""},
		{-1, 3, "dbhealth-exporter-0", 0, ""},
		{-1, 3, "dbhealth-3", 0, "not below --total-shards 3"},
		{-1, 3, "dbhealth", 0, "does not end with a StatefulSet ordinal"},
		{3, 3, "", 0, "--shard: 3 is not below --total-shards 3"},
		{0, 0, "", 0, "--total-shards: must be at least 1"},
	}
	for _, tc := range cases {
		got, err := Shard(tc.flag, tc.total, env(tc.pod))
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("Shard(%d, %d, %q) = %d, %v; want an error saying %q", tc.flag, tc.total, tc.pod, got, err, tc.err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("Shard(%d, %d, %q) = %d, %v; want %d", tc.flag, tc.total, tc.pod, got, err, tc.want)
		}
	}
}
