package monitoring

import (
	"fmt"
	"hash/fnv"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/dbhealth/dbhealth-exporter/internal/pgtest"
	"github.com/dbhealth/dbhealth-exporter/internal/testtools"
)

// fleetJob is the job the Helm chart's fleet mode scrapes its shards as.
const fleetJob = "dbhealth-fleet"

// fleetTargets are the targets of the fleet test, by shard of two: each
// shard watches some (the exporter's FNV-1a hash of the name, modulo the
// shards), and the broken one is on the other shard than the one with
// pending migrations.
var fleetTargets = map[string]int{"orders": 0, "reports": 0, "inventory": 1, "missing": 1}

// A fleet of four databases on a real cluster, watched by two shards of a
// real exporter and scraped by a real Prometheus: the fleet dashboard's
// and the rules' expressions query what a fleet exposes; the fleet alert
// fires once for the broken database, with its failing checks, while the
// per-check alerts fire per target.
func TestPrometheus_FleetDashboardAndRulesQueryWhatAFleetExposes(t *testing.T) {
	for name, shard := range fleetTargets {
		h := fnv.New32a()
		h.Write([]byte(name))
		if got := int(h.Sum32() % 2); got != shard {
			t.Fatalf("target %s hashes to shard %d, not %d: pick other names", name, got, shard)
		}
	}
	cluster := pgtest.New(t)
	for _, db := range []string{"orders", "reports", "inventory"} {
		cluster.Exec(t, "postgres", "CREATE DATABASE "+db)
	}
	// orders has applied the first of examples/migrations' two: one is
	// pending, a non-critical check, so orders stays ready. missing names a
	// database that does not exist.
	cluster.Exec(t, "orders", "CREATE TABLE schema_migrations (version bigint PRIMARY KEY, dirty boolean NOT NULL); INSERT INTO schema_migrations VALUES (1, false)")
	examples, _ := filepath.Abs(filepath.Join(root, "examples", "migrations"))
	config := filepath.Join(t.TempDir(), "fleet.yml")
	var file strings.Builder
	file.WriteString(`checks:
  replication_lag: {max_lag: 30s}
targets:
`)
	for _, name := range []string{"orders", "reports", "inventory", "missing"} {
		fmt.Fprintf(&file, "  - name: %s\n    database: {dsn: %q}\n", name, cluster.DSN(name))
		switch name {
		case "orders":
			fmt.Fprintf(&file, `    labels: {team: payments}
    checks:
      migrations: {dir: %q, critical: false}
      connections: {max_used_ratio: 0.9}
      custom:
        - {name: tables, sql: "select count(*) from pg_class", min: 1}
`, examples)
		}
	}
	if err := os.WriteFile(config, []byte(file.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	var addrs []string
	for shard := range 2 {
		addr := testtools.FreeAddr(t)
		addrs = append(addrs, addr)
		start(t, exporterBinary, []string{"--web.listen-address=" + addr, "--check.interval=500ms", "--check.timeout=250ms",
			"--config.file=" + config, fmt.Sprintf("--shard=%d", shard), "--total-shards=2"})
	}
	prom := startPrometheus(t, fleetJob, addrs...)

	// Both shards are scraped, each with its share, and every target is
	// watched exactly once.
	prom.waitFor("both shards to be scraped with their targets", func() bool {
		return prom.query(`sum(dbhealth_targets) == 4 and count(dbhealth_targets > 0) == 2`) == 1
	})
	prom.waitFor("the three databases that exist to be ready", func() bool {
		return prom.query(`count(dbhealth_target_ready == 1) == 3`) == 1
	})
	if n := prom.query(`count by (target) (dbhealth_target_ready) > 1`); n != 0 {
		t.Errorf("%d targets are watched by both shards", n)
	}
	if n := prom.query(`count by (target) (dbhealth_target_ready)`); n != len(fleetTargets) {
		t.Errorf("%d targets in Prometheus, want %d", n, len(fleetTargets))
	}

	// One alert for the broken database, however many of its checks fail,
	// without the shard's instance, naming the checks that fail.
	var notReady []alert
	prom.waitFor("DBHealthTargetNotReady to fire for missing with its failing checks", func() bool {
		notReady = prom.alerts("DBHealthTargetNotReady")
		return len(notReady) == 1 && strings.Contains(notReady[0].Annotations["description"], "replication_lag failing (")
	})
	a := notReady[0]
	if a.Labels["target"] != "missing" || a.Labels["job"] != fleetJob || a.Labels["instance"] != "" || a.Labels["severity"] != "critical" {
		t.Errorf("DBHealthTargetNotReady labels %v: want target missing, job %s, severity critical and no instance", a.Labels, fleetJob)
	}
	if d := a.Annotations["description"]; !strings.Contains(d, ": database failing (") || !strings.Contains(d, "; replication_lag failing (") {
		t.Errorf("DBHealthTargetNotReady description %q: want the failing checks database and replication_lag with their reasons", d)
	}
	// The per-check alerts still fire per target, with the shard: the
	// database check of missing, and orders' pending migration (not
	// critical, so no DBHealthTargetNotReady for orders).
	prom.waitFor("DBHealthDatabaseDown for missing and DBHealthMigrationsPending for orders", func() bool {
		return prom.firing("DBHealthDatabaseDown") && prom.firing("DBHealthMigrationsPending")
	})
	for name, want := range map[string]map[string]string{
		"DBHealthDatabaseDown":      {"target": "missing", "instance": addrs[fleetTargets["missing"]]},
		"DBHealthMigrationsPending": {"target": "orders", "instance": addrs[fleetTargets["orders"]], "team": "payments"},
	} {
		got := prom.alerts(name)
		if len(got) != 1 {
			t.Errorf("%s: %d alerts, want 1", name, len(got))
			continue
		}
		for k, v := range want {
			if got[0].Labels[k] != v {
				t.Errorf("%s: label %s=%q, want %q (labels %v)", name, k, got[0].Labels[k], v, got[0].Labels)
			}
		}
	}

	// Every fleet dashboard expression returns data, every rule of both
	// groups runs and selects series that exist, and every metric they name
	// is exposed.
	all := rulesOf(t, mainGroup, fleetGroup)
	checkQueries(t, prom, "dashboards/dbhealth-fleet.json", fleetJob, all)
	checkNamesExposed(t, prom, map[string]string{
		"dashboards/dbhealth-fleet.json": string(read(t, "dashboards/dbhealth-fleet.json")),
		"alerts/dbhealth.rules.yml":      rulesText(all),
	})
	if !slices.ContainsFunc(all, func(r rule) bool { return r.Group == fleetGroup }) {
		t.Errorf("no rule in group %s", fleetGroup)
	}
}
