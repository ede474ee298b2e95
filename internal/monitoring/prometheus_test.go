package monitoring

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/dbhealth/dbhealth-exporter/internal/pgtest"
	"github.com/dbhealth/dbhealth-exporter/internal/testtools"
)

var exporterBinary string

func TestMain(m *testing.M) { os.Exit(testtools.MainWithExporter(m, &exporterBinary)) }

// start runs a command until the test ends and returns its output buffer.
func start(t *testing.T, name string, args []string, env ...string) *strings.Builder {
	t.Helper()
	var out strings.Builder
	cmd := exec.Command(name, args...)
	cmd.Env = append(os.Environ(), env...)
	pr, pw := io.Pipe()
	cmd.Stdout, cmd.Stderr = pw, pw
	done := make(chan struct{})
	go func() { _, _ = io.Copy(&syncWriter{b: &out}, pr); close(done) }()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		pw.Close()
		<-done
		if t.Failed() {
			t.Logf("%s output:\n%s", filepath.Base(name), out.String())
		}
	})
	return &out
}

type syncWriter struct{ b *strings.Builder }

func (w *syncWriter) Write(p []byte) (int, error) { return w.b.Write(p) }

// prometheus is a real Prometheus server's HTTP API.
type prometheus struct {
	t    *testing.T
	base string
}

// query runs an instant query and returns the number of series; a query
// error fails the test.
func (p prometheus) query(expr string) int {
	p.t.Helper()
	var r struct {
		Status    string `json:"status"`
		Error     string `json:"error"`
		ErrorType string `json:"errorType"`
		Data      struct {
			Result []json.RawMessage `json:"result"`
		} `json:"data"`
	}
	p.get("/api/v1/query?query="+url.QueryEscape(expr), &r)
	if r.Status != "success" {
		p.t.Fatalf("query %q: %s: %s", expr, r.ErrorType, r.Error)
	}
	return len(r.Data.Result)
}

func (p prometheus) get(path string, into any) {
	p.t.Helper()
	resp, err := http.Get(p.base + path)
	if err != nil {
		p.t.Fatal(err)
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(into); err != nil {
		p.t.Fatalf("GET %s: %v", path, err)
	}
}

// alert is an alert as Prometheus' API lists it.
type alert struct {
	Labels      map[string]string `json:"labels"`
	Annotations map[string]string `json:"annotations"`
	State       string            `json:"state"`
}

// alerts returns the firing alerts of one name.
func (p prometheus) alerts(name string) []alert {
	p.t.Helper()
	var r struct {
		Data struct {
			Alerts []alert `json:"alerts"`
		} `json:"data"`
	}
	p.get("/api/v1/alerts", &r)
	var out []alert
	for _, a := range r.Data.Alerts {
		if a.Labels["alertname"] == name && a.State == "firing" {
			out = append(out, a)
		}
	}
	return out
}

// firing reports whether an alert is firing.
func (p prometheus) firing(alert string) bool {
	p.t.Helper()
	return len(p.alerts(alert)) > 0
}

func (p prometheus) waitFor(what string, cond func() bool) {
	p.t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			p.t.Fatalf("waited 60s for %s", what)
		}
		time.Sleep(250 * time.Millisecond)
	}
}

// startPrometheus runs Prometheus scraping the exporters as one job every
// second, with a copy of the rules whose for: durations are one second.
func startPrometheus(t *testing.T, job string, exporterAddrs ...string) prometheus {
	t.Helper()
	bin, err := exec.LookPath("prometheus")
	if err != nil {
		t.Fatal("prometheus not found: install the prometheus package (apt-get install -y prometheus)")
	}
	dir := t.TempDir()
	rules := regexp.MustCompile(`(?m)^(\s+for:) \S+$`).ReplaceAll(read(t, "alerts/dbhealth.rules.yml"), []byte("$1 1s"))
	if err := os.WriteFile(filepath.Join(dir, "rules.yml"), rules, 0o644); err != nil {
		t.Fatal(err)
	}
	config := fmt.Sprintf(`global:
  scrape_interval: 1s
  evaluation_interval: 1s
rule_files: [rules.yml]
scrape_configs:
  - job_name: %q
    static_configs:
      - targets: [%s]
`, job, strings.Join(quoted(exporterAddrs), ", "))
	if err := os.WriteFile(filepath.Join(dir, "prometheus.yml"), []byte(config), 0o644); err != nil {
		t.Fatal(err)
	}
	addr := testtools.FreeAddr(t)
	start(t, bin, []string{"--config.file=" + filepath.Join(dir, "prometheus.yml"), "--storage.tsdb.path=" + filepath.Join(dir, "data"),
		"--web.listen-address=" + addr, "--log.level=warn"})
	p := prometheus{t: t, base: "http://" + addr}
	p.waitFor("Prometheus to be ready", func() bool {
		resp, err := http.Get(p.base + "/-/ready")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})
	return p
}

func quoted(ss []string) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = fmt.Sprintf("%q", s)
	}
	return out
}

// grafanaVariables are what a dashboard's variables expand to here, with
// the job Prometheus scrapes the exporter as.
func grafanaVariables(job string) *strings.Replacer {
	return strings.NewReplacer(
		"$__rate_interval", "1m", "$__range", "5m", "${job}", job, "$job", job,
		"${instance}", ".+", "$instance", ".+", "${target}", ".+", "$target", ".+",
	)
}

// dashboardExprs returns every PromQL expression of a dashboard, variables
// expanded for job.
func dashboardExprs(t *testing.T, file, job string) map[string]string {
	t.Helper()
	var dash struct {
		Panels []struct {
			Title   string `json:"title"`
			Targets []struct {
				Expr string `json:"expr"`
			} `json:"targets"`
		} `json:"panels"`
	}
	if err := json.Unmarshal(read(t, file), &dash); err != nil {
		t.Fatal(err)
	}
	vars := grafanaVariables(job)
	exprs := map[string]string{}
	for _, p := range dash.Panels {
		for i, target := range p.Targets {
			exprs[fmt.Sprintf("%s #%d", p.Title, i+1)] = vars.Replace(target.Expr)
		}
	}
	return exprs
}

// rulesText is the text of rules that can name metrics: expressions and
// annotations (whose templates query).
func rulesText(rules []rule) string {
	var b strings.Builder
	for _, r := range rules {
		b.WriteString(r.Expr + "\n")
		for _, a := range r.Annotations {
			b.WriteString(a + "\n")
		}
	}
	return b.String()
}

// checkQueries checks that every dashboard expression returns data, and
// that every rule expression runs and each series it selects exists.
func checkQueries(t *testing.T, prom prometheus, dashboard, job string, rules []rule) {
	t.Helper()
	for name, expr := range dashboardExprs(t, dashboard, job) {
		if n := prom.query(expr); n == 0 {
			t.Errorf("%s: panel %s: no data for %s", dashboard, name, expr)
		}
	}
	for _, r := range rules {
		prom.query(r.Expr)
		for _, sel := range selectorRE.FindAllString(r.Expr, -1) {
			if n := prom.query(sel); n == 0 {
				t.Errorf("rule %s: no series for %s", r.Alert, sel)
			}
		}
	}
}

// fleetOnlyMetrics are the metrics docs/metrics.md names that only an
// exporter with targets exposes.
var fleetOnlyMetrics = []string{"dbhealth_target_ready", "dbhealth_target_snapshot_generation", "dbhealth_targets"}

// checkNamesExposed checks that every dbhealth_ metric the sources name,
// except those in absent, is one the exporter exposes.
func checkNamesExposed(t *testing.T, prom prometheus, sources map[string]string, absent ...string) {
	t.Helper()
	var names struct {
		Data []string `json:"data"`
	}
	prom.get("/api/v1/label/__name__/values", &names)
	exposed := map[string]bool{}
	for _, n := range names.Data {
		exposed[n] = true
	}
	for source, text := range sources {
		for _, name := range metricNameRE.FindAllString(text, -1) {
			if !exposed[name] && !exposed[name+"_bucket"] && !slices.Contains(absent, name) {
				t.Errorf("%s names %s, which the exporter does not expose", source, name)
			}
		}
	}
}

// selectors finds the vector selectors of an expression: metric names with
// their label matchers.
var selectorRE = regexp.MustCompile(`\b((?:dbhealth_[a-z_]+)|up)(\{[^}]*\})?`)

// metricNames finds the dbhealth_ names a text mentions.
var metricNameRE = regexp.MustCompile(`\bdbhealth_[a-z_]+`)

func TestPrometheus_DashboardsAndRulesQueryWhatTheExporterExposes(t *testing.T) {
	cluster := pgtest.New(t)
	// A golang-migrate history with examples/migrations applied, so that the
	// migrations metrics are exposed.
	cluster.Exec(t, "postgres", "CREATE TABLE schema_migrations (version bigint PRIMARY KEY, dirty boolean NOT NULL); INSERT INTO schema_migrations VALUES (2, false)")
	exporterAddr := testtools.FreeAddr(t)
	examples, _ := filepath.Abs(filepath.Join(root, "examples", "migrations"))
	// Every check, so that every panel and rule has its series: the lag
	// check on a primary (lag 0), the headroom check, a custom check.
	config := filepath.Join(t.TempDir(), "dbhealth.yml")
	if err := os.WriteFile(config, []byte(`checks:
  replication_lag: {max_lag: 30s}
  connections: {max_used_ratio: 0.9}
  custom:
    - {name: tables, sql: "select count(*) from pg_class", min: 1}
`), 0o600); err != nil {
		t.Fatal(err)
	}
	start(t, exporterBinary, []string{"--web.listen-address=" + exporterAddr, "--check.interval=500ms", "--check.timeout=250ms",
		"--migrations.dir=" + examples, "--config.file=" + config}, "DATABASE_URL="+cluster.DSN("postgres"))
	prom := startPrometheus(t, "dbhealth", exporterAddr)
	prom.waitFor("the exporter to be scraped ready", func() bool { return prom.query("dbhealth_ready == 1") == 1 })

	// (b) The database stops: DBHealthDatabaseDown fires in Prometheus.
	cluster.Stop(t)
	prom.waitFor("DBHealthDatabaseDown to fire", func() bool { return prom.firing("DBHealthDatabaseDown") })
	cluster.Start(t)
	prom.waitFor("every check to be ok again", func() bool { return prom.query("dbhealth_ready == 1") == 1 })
	prom.waitFor("the alert to resolve", func() bool { return !prom.firing("DBHealthDatabaseDown") })

	// (a) Every dashboard expression returns data; every rule expression
	// runs, and each series it selects exists. The fleet's rules select
	// nothing here: they never fire for a single database.
	checkQueries(t, prom, "dashboards/dbhealth-overview.json", "dbhealth", rulesOf(t, mainGroup))
	for _, r := range rulesOf(t, fleetGroup) {
		if n := prom.query(r.Expr); n != 0 {
			t.Errorf("fleet rule %s: %d series from a single-target exporter, want none", r.Alert, n)
		}
		for _, name := range metricNameRE.FindAllString(r.Expr, -1) {
			if n := prom.query(name); n != 0 {
				t.Errorf("fleet rule %s selects %s, which a single-target exporter exposes too", r.Alert, name)
			}
		}
	}

	// (c) Every dbhealth_ metric named by the dashboard, the rules or
	// docs/metrics.md is one the exporter exposes.
	checkNamesExposed(t, prom, map[string]string{
		"dashboards/dbhealth-overview.json":                   string(read(t, "dashboards/dbhealth-overview.json")),
		"alerts/dbhealth.rules.yml (group " + mainGroup + ")": rulesText(rulesOf(t, mainGroup)),
		"docs/metrics.md": string(read(t, "docs/metrics.md")),
	}, fleetOnlyMetrics...)
}
