package main

import (
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/dbhealth/dbhealth-exporter/internal/pgtest"
)

// readyz is the part of the readiness payload the tests read.
type readyz struct {
	Status        string                     `json:"status"`
	Database      string                     `json:"database"`
	DatabaseError string                     `json:"database_error"`
	Generation    uint64                     `json:"generation"`
	Checks        map[string]json.RawMessage `json:"checks"`
}

func (p *exporterProc) readyz() (int, readyz) {
	p.t.Helper()
	code, body := p.get("/readyz")
	var r readyz
	if err := json.Unmarshal([]byte(body), &r); err != nil {
		p.t.Fatalf("/readyz body is not JSON: %v\n%s", err, body)
	}
	return code, r
}

const fastChecks = "--check.interval=300ms"

func TestExporter_DatabaseStoppedAndRestarted_ReadinessFollowsLivenessStays(t *testing.T) {
	cluster, dsn := canaryCluster(t)
	p := startExporter(t, []string{"DATABASE_URL=" + dsn}, fastChecks, "--check.timeout=200ms", "--web.shutdown-delay=1s")

	p.eventually("ready", 10*time.Second, func() bool { code, _ := p.readyz(); return code == http.StatusOK })
	_, r := p.readyz()
	if r.Status != "ready" || r.Database != "ok" || r.Generation == 0 {
		t.Fatalf("healthy payload: %+v", r)
	}
	if up, _ := p.metric(`dbhealth_up{target="default"}`); up != 1 {
		t.Fatalf("dbhealth_up = %v while the database runs", up)
	}

	cluster.Stop(t)
	took := p.eventually("not ready after the database stopped", 10*time.Second, func() bool {
		code, _ := p.readyz()
		return code == http.StatusServiceUnavailable
	})
	t.Logf("readiness turned off %s after the stop returned (interval 300ms + timeout 200ms)", took)
	_, r = p.readyz()
	if r.Status != "not_ready" || r.Database != "error" || !strings.Contains(r.DatabaseError, "connection refused") {
		t.Fatalf("outage payload: %+v", r)
	}
	var check struct{ Reason, Status string }
	_ = json.Unmarshal(r.Checks["database"], &check)
	if check.Reason != "refused" || check.Status != "failing" {
		t.Fatalf("database check during the outage: %+v", check)
	}
	for _, path := range []string{"/healthz", "/livez", "/-/healthy"} {
		if code, body := p.get(path); code != http.StatusOK || strings.TrimSpace(body) != `{"status":"ok"}` {
			t.Fatalf("%s during the outage: %d %s", path, code, body)
		}
	}
	for _, series := range []string{`dbhealth_up{target="default"}`, `dbhealth_ready`} {
		if v, ok := p.metric(series); !ok || v != 0 {
			t.Fatalf("%s = %v (present %v) during the outage, want 0", series, v, ok)
		}
	}

	cluster.Start(t)
	p.eventually("ready again after the database restarted", 10*time.Second, func() bool {
		code, _ := p.readyz()
		return code == http.StatusOK
	})
	if v, _ := p.metric(`dbhealth_ready`); v != 1 {
		t.Fatalf("dbhealth_ready = %v after recovery", v)
	}
	p.get("/")
	p.get("/readyz?verbose")
	p.assertNoCanary()
}

func TestExporter_SIGTERM_ReadinessFailsAtOnceWhileServingThroughTheDrain(t *testing.T) {
	_, dsn := canaryCluster(t)
	p := startExporter(t, []string{"DATABASE_URL=" + dsn}, fastChecks, "--check.timeout=200ms", "--web.shutdown-delay=2s")
	p.eventually("ready", 10*time.Second, func() bool { code, _ := p.readyz(); return code == http.StatusOK })

	p.signal(syscall.SIGTERM)
	p.eventually("shutting_down", 2*time.Second, func() bool {
		_, r := p.readyz()
		return r.Status == "shutting_down"
	})
	if code, _ := p.readyz(); code != http.StatusServiceUnavailable {
		t.Fatalf("/readyz while draining: %d", code)
	}
	if code, _ := p.get("/livez"); code != http.StatusOK {
		t.Fatalf("/livez while draining: %d", code)
	}
	if v, _ := p.metric("dbhealth_ready"); v != 0 {
		t.Fatalf("dbhealth_ready while draining = %v", v)
	}
	if code := p.waitExit(10 * time.Second); code != 0 {
		t.Fatalf("exit code %d after SIGTERM", code)
	}
	if !strings.Contains(p.output.String(), "draining") || !strings.Contains(p.output.String(), "stopped") {
		t.Fatalf("no drain in the log:\n%s", p.output.String())
	}
}

func TestExporter_ColdStart_IsStartingNotFailedWhileLivenessIsOK(t *testing.T) {
	// A proxy that accepts and never answers holds the first check for its
	// whole timeout: that window is the cold start.
	cluster := pgtest.New(t)
	proxy := pgtest.NewProxy(t, cluster.Addr())
	proxy.Blackhole()
	dsn := "postgres://postgres@" + proxy.Addr() + "/postgres?sslmode=disable"
	p := startExporter(t, []string{"DATABASE_URL=" + dsn}, "--check.interval=10s", "--check.timeout=3s")

	code, r := p.readyz()
	if code != http.StatusServiceUnavailable || r.Status != "starting" || r.Database != "unknown" {
		t.Fatalf("before the first result: %d %+v", code, r)
	}
	if code, _ := p.get("/healthz"); code != http.StatusOK {
		t.Fatalf("/healthz during cold start: %d", code)
	}
	p.eventually("the first run to time out", 10*time.Second, func() bool {
		_, r := p.readyz()
		return r.Status == "not_ready"
	})
	_, r = p.readyz()
	var check struct{ Reason string }
	_ = json.Unmarshal(r.Checks["database"], &check)
	if check.Reason != "timeout" {
		t.Fatalf("blackholed database: reason %q, want timeout", check.Reason)
	}
}

func TestExporter_CheckItselfErrors_Returns503WithTheError(t *testing.T) {
	cluster := pgtest.New(t)
	dsn := cluster.DSN("no_such_database")
	p := startExporter(t, []string{"DATABASE_URL=" + dsn}, fastChecks, "--check.timeout=200ms")
	p.eventually("not ready", 10*time.Second, func() bool { _, r := p.readyz(); return r.Status == "not_ready" })
	code, r := p.readyz()
	if code != http.StatusServiceUnavailable || r.Database != "error" || !strings.Contains(r.DatabaseError, `database "no_such_database" does not exist`) {
		t.Fatalf("%d %+v", code, r)
	}
}

func TestExporter_ProbesNeedNoAuthWhileMetricsDo(t *testing.T) {
	cluster := pgtest.New(t)
	hash, err := bcrypt.GenerateFromPassword([]byte("scrape-secret"), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	webConfig := filepath.Join(t.TempDir(), "web.yml")
	if err := os.WriteFile(webConfig, []byte("basic_auth_users:\n  prometheus: "+string(hash)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	p := startExporter(t, []string{"DATABASE_URL=" + cluster.DSN("postgres")}, fastChecks, "--check.timeout=200ms", "--web.config.file="+webConfig)
	p.eventually("ready", 10*time.Second, func() bool { code, _ := p.tryGet("/readyz", nil); return code == http.StatusOK })

	for _, path := range []string{"/healthz", "/livez", "/-/healthy", "/readyz", "/-/ready", "/readyz/database", "/readyz?verbose"} {
		if code, _ := p.get(path); code != http.StatusOK {
			t.Errorf("%s without credentials: %d, want 200", path, code)
		}
	}
	for _, path := range []string{"/metrics", "/"} {
		if code, _ := p.get(path); code != http.StatusUnauthorized {
			t.Errorf("%s without credentials: %d, want 401", path, code)
		}
	}
	auth := http.Header{}
	req, _ := http.NewRequest(http.MethodGet, "/", nil)
	req.SetBasicAuth("prometheus", "scrape-secret")
	auth.Set("Authorization", req.Header.Get("Authorization"))
	if code, body := p.tryGet("/metrics", auth); code != http.StatusOK || !strings.Contains(body, "dbhealth_ready 1") {
		t.Errorf("/metrics with credentials: %d", code)
	}
	wrong := http.Header{}
	req.SetBasicAuth("prometheus", "wrong")
	wrong.Set("Authorization", req.Header.Get("Authorization"))
	if code, _ := p.tryGet("/metrics", wrong); code != http.StatusUnauthorized {
		t.Errorf("/metrics with a wrong password: %d", code)
	}

	// --web.probes-require-auth puts the probes behind the same users.
	locked := startExporter(t, []string{"DATABASE_URL=" + cluster.DSN("postgres")}, fastChecks, "--check.timeout=200ms",
		"--web.config.file="+webConfig, "--web.probes-require-auth")
	for _, path := range []string{"/livez", "/readyz", "/readyz/database"} {
		if code, _ := locked.tryGet(path, nil); code != http.StatusUnauthorized {
			t.Errorf("%s without credentials under --web.probes-require-auth: %d, want 401", path, code)
		}
		if code, _ := locked.tryGet(path, auth); code == http.StatusUnauthorized {
			t.Errorf("%s with credentials under --web.probes-require-auth: %d", path, code)
		}
	}
}

func TestExporter_ProbeBurst_AddsNoDatabaseWork(t *testing.T) {
	cluster := pgtest.New(t)
	proxy := pgtest.NewProxy(t, cluster.Addr())
	dsn := "postgres://postgres@" + proxy.Addr() + "/postgres?sslmode=disable"
	p := startExporter(t, []string{"DATABASE_URL=" + dsn}, "--check.interval=1s", "--check.timeout=500ms")
	p.eventually("ready", 10*time.Second, func() bool { code, _ := p.readyz(); return code == http.StatusOK })

	_, before := p.readyz()
	connsBefore := proxy.Connections()
	client := http.Client{Timeout: 5 * time.Second}
	for i := 0; i < 2000; i++ {
		resp, err := client.Get("http://" + p.addr + "/readyz")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("probe %d: %d", i, resp.StatusCode)
		}
	}
	_, after := p.readyz()
	conns := proxy.Connections() - connsBefore
	runs := after.Generation - before.Generation
	t.Logf("2000 probes: %d database connections, %d check runs", conns, runs)
	// Each check run opens one connection, plus one for pgx's cancel
	// request when a run times out on a loaded machine; probes open none.
	// (+1: a run may have connected before its generation was published.)
	if uint64(conns) > 2*runs+1 {
		t.Fatalf("2000 probes opened %d connections for %d check runs", conns, runs)
	}
}
