package exporter_test

import (
	"os"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	dto "github.com/prometheus/client_model/go"

	"github.com/dbhealth/dbhealth-exporter/internal/exporter"
	"github.com/dbhealth/dbhealth-exporter/internal/health"
	"github.com/dbhealth/dbhealth-exporter/internal/pgtest"
)

// documented is one row of docs/metrics.md.
type documented struct {
	kind   string
	labels []string
}

var docRow = regexp.MustCompile("^\\| `(dbhealth_[a-z_]+)` \\| (gauge|counter|histogram) \\|([^|]*)\\|")

func readMetricsDocs(t *testing.T) map[string]documented {
	t.Helper()
	raw, err := os.ReadFile("../../docs/metrics.md")
	if err != nil {
		t.Fatal(err)
	}
	docs := map[string]documented{}
	for _, line := range strings.Split(string(raw), "\n") {
		m := docRow.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		var labels []string
		for _, l := range regexp.MustCompile("`([a-z_]+)`").FindAllStringSubmatch(m[3], -1) {
			labels = append(labels, l[1])
		}
		sort.Strings(labels)
		docs[m[1]] = documented{kind: m[2], labels: labels}
	}
	return docs
}

// exposedFamilies gathers the exporter's dbhealth_ families.
func exposedFamilies(t *testing.T, ex *inProcess, into map[string]*dto.MetricFamily) {
	t.Helper()
	families, err := ex.Gatherer().Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		if strings.HasPrefix(f.GetName(), "dbhealth_") {
			into[f.GetName()] = f
		}
	}
	problems, err := testutil.GatherAndLint(ex.Gatherer())
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		t.Errorf("lint: %s: %s", p.Metric, p.Text)
	}
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("timed out")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// families returns which of names got has.
func families(got []*dto.MetricFamily, names ...string) []string {
	var out []string
	for _, f := range got {
		if slices.Contains(names, f.GetName()) {
			out = append(out, f.GetName())
		}
	}
	return out
}

// hasSample reports whether an unlabelled-or-single family has value v.
func hasSample(families []*dto.MetricFamily, name string, v float64) bool {
	for _, f := range families {
		if f.GetName() == name {
			for _, m := range f.GetMetric() {
				if m.GetGauge().GetValue() == v {
					return true
				}
			}
		}
	}
	return false
}

func TestMetricsDocs_MatchWhatTheExporterExposes(t *testing.T) {
	cluster := pgtest.New(t)
	// A golang-migrate history one migration behind examples/migrations, so
	// the migrations metrics are exposed too.
	cluster.Exec(t, "postgres", "CREATE TABLE schema_migrations (version bigint PRIMARY KEY, dirty boolean NOT NULL); INSERT INTO schema_migrations VALUES (1, false)")
	// Timeouts generous enough for a loaded machine: every check must get
	// its result, or its metrics are missing.
	cfg := schedule(cluster.DSN("postgres"), 500*time.Millisecond, 400*time.Millisecond)
	cfg.Checks.Migrations.Dir = "../../examples/migrations"
	// Every other check too, with their own metrics.
	cfg.Checks.ReplicationLag = &exporter.ReplicationLag{MaxLag: time.Minute}
	cfg.Checks.Connections = &exporter.Connections{}
	cfg.Checks.Custom = []exporter.Custom{{Name: "tables", SQL: "select count(*) from pg_class", Min: ptr(1.0)}}
	ex := startInProcess(t, cfg)
	exposed := map[string]*dto.MetricFamily{}

	// What only a reachable database shows: every check's own metrics,
	// with one migration pending.
	waitFor(t, func() bool {
		got, _ := ex.Gatherer().Gather()
		return hasSample(got, "dbhealth_up", 1) && hasSample(got, "dbhealth_migrations_pending", 1) && hasSample(got, "dbhealth_replication_lag_seconds", 0) &&
			len(families(got, "dbhealth_check_value", "dbhealth_connections_limit")) == 2
	})
	exposedFamilies(t, ex, exposed)
	cluster.Stop(t)
	waitFor(t, func() bool { up, _ := ex.Gatherer().Gather(); return hasSample(up, "dbhealth_up", 0) })
	exposedFamilies(t, ex, exposed) // connection failure counters appear

	compareWithDocs(t, exposed, nil)
	for name := range readMetricsDocs(t) {
		if _, ok := exposed[name]; !ok && !slices.Contains(fleetOnly, name) {
			t.Errorf("%s is in docs/metrics.md but the exporter does not expose it", name)
		}
	}
}

// fleetOnly are the families only fleet mode exposes.
var fleetOnly = []string{"dbhealth_target_ready", "dbhealth_target_snapshot_generation", "dbhealth_targets"}

// In fleet mode every exposed family is documented, with the labels
// documented plus the targets' own, and the fleet families are exposed.
func TestMetricsDocs_FleetMode(t *testing.T) {
	cluster := pgtest.New(t)
	cfg := schedule("", 500*time.Millisecond, 400*time.Millisecond)
	cfg.Targets = []exporter.Target{
		{Name: "orders", Database: exporter.Database{DSN: cluster.DSN("postgres")}, Labels: map[string]string{"team": "payments"}},
		{Name: "reports", Database: exporter.Database{DSN: cluster.DSN("postgres")}},
	}
	ex := startInProcess(t, cfg)
	waitFor(t, func() bool { // both targets checked: first runs are spread over the interval
		for _, name := range []string{"orders", "reports"} {
			if snap, ok := ex.TargetSnapshot(name); !ok || snap.Readiness != health.ReadinessReady {
				return false
			}
		}
		return true
	})
	exposed := map[string]*dto.MetricFamily{}
	exposedFamilies(t, ex, exposed)
	if _, ok := exposed["dbhealth_snapshot_generation"]; ok {
		t.Error("fleet mode exposes dbhealth_snapshot_generation; each target has its own")
	}
	compareWithDocs(t, exposed, []string{"team"})
	for _, name := range fleetOnly {
		if _, ok := exposed[name]; !ok {
			t.Errorf("%s is not exposed in fleet mode", name)
		}
	}
}

// compareWithDocs checks each exposed family against docs/metrics.md: its
// type, and its labels (with extra, the targets' own labels, on families
// that carry target).
func compareWithDocs(t *testing.T, exposed map[string]*dto.MetricFamily, extra []string) {
	t.Helper()
	docs := readMetricsDocs(t)
	for name, f := range exposed {
		doc, ok := docs[name]
		if !ok {
			t.Errorf("%s is exposed but not in docs/metrics.md", name)
			continue
		}
		if kind := strings.ToLower(f.GetType().String()); kind != doc.kind {
			t.Errorf("%s is a %s; docs/metrics.md says %s", name, kind, doc.kind)
		}
		var labels []string
		for _, m := range f.GetMetric() {
			for _, lp := range m.GetLabel() {
				if !slices.Contains(labels, lp.GetName()) {
					labels = append(labels, lp.GetName())
				}
			}
		}
		sort.Strings(labels)
		want := doc.labels
		if slices.Contains(want, "target") {
			want = append(slices.Clone(want), extra...)
			sort.Strings(want)
		}
		if !slices.Equal(labels, want) {
			t.Errorf("%s has labels %v; docs/metrics.md says %v", name, labels, want)
		}
	}
}
