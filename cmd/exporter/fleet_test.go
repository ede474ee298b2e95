package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/dbhealth/dbhealth-exporter/internal/pgtest"
)

// fleetTarget is one entry of GET /targets.
type fleetTarget struct {
	Name       string
	Status     string
	Generation uint64
	Checks     map[string]struct{ Status, Reason string }
}

func (p *exporterProc) targets() map[string]fleetTarget {
	p.t.Helper()
	_, body := p.get("/targets")
	var list struct{ Targets []fleetTarget }
	if err := json.Unmarshal([]byte(body), &list); err != nil {
		p.t.Fatalf("/targets: %v: %.200s", err, body)
	}
	out := map[string]fleetTarget{}
	for _, t := range list.Targets {
		out[t.Name] = t
	}
	return out
}

// createDatabases creates n databases named prefix000... on c, in one
// session.
func createDatabases(t *testing.T, c *pgtest.Cluster, prefix string, n int) {
	t.Helper()
	conn, err := pgx.Connect(context.Background(), c.DSN("postgres"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	for i := range n {
		if _, err := conn.Exec(context.Background(), fmt.Sprintf("CREATE DATABASE %s%03d", prefix, i)); err != nil {
			t.Fatal(err)
		}
	}
}

// Fleet mode with 200 targets: one database dropped and one cluster stopped
// are reported not ready with their reasons within interval + timeout while
// the other targets stay ready and the exporter's own /readyz stays 200; a
// target added to the file and a SIGHUP make it appear without touching the
// others.
func TestFleet_200Targets_FailuresStayWithTheirTargets_SIGHUPAddsOne(t *testing.T) {
	const interval, timeout = 3 * time.Second, time.Second
	main, other := pgtest.New(t), pgtest.New(t)
	createDatabases(t, main, "db", 200)
	write := func(extra string) string {
		var b strings.Builder
		fmt.Fprintf(&b, "defaults: {interval: %s, timeout: %s}\ntargets:\n", interval, timeout)
		for i := range 199 {
			fmt.Fprintf(&b, "  - {name: db%03d, database: {dsn: %q}, labels: {team: t%d}}\n", i, main.DSN(fmt.Sprintf("db%03d", i)), i%4)
		}
		fmt.Fprintf(&b, "  - {name: other, database: {dsn: %q}}\n", other.DSN("postgres"))
		b.WriteString(extra)
		return b.String()
	}
	path := filepath.Join(t.TempDir(), "fleet.yml")
	if err := os.WriteFile(path, []byte(write("")), 0o600); err != nil {
		t.Fatal(err)
	}
	p := startExporter(t, nil, "--config.file="+path)
	p.eventually("every target ready", 60*time.Second, func() bool {
		ts := p.targets()
		for _, tg := range ts {
			if tg.Status != "ready" {
				return false
			}
		}
		return len(ts) == 200
	})
	before := p.targets()

	main.Exec(t, "postgres", "DROP DATABASE db007 WITH (FORCE)")
	other.Stop(t)
	broken := time.Now()
	reasons := map[string]string{"db007": "database_missing", "other": "refused"}
	took := p.eventually("the two targets not ready with their reasons", 30*time.Second, func() bool {
		ts := p.targets()
		for name, reason := range reasons {
			if ts[name].Status != "not_ready" || ts[name].Checks["database"].Reason != reason {
				return false
			}
		}
		return true
	})
	t.Logf("both reported %s after the failures (bound interval + timeout = %s)", took, interval+timeout)
	if time.Since(broken) > interval+timeout+2*time.Second {
		t.Errorf("reported %s after the failures; want within interval + timeout (%s), with 2s for the polling", time.Since(broken), interval+timeout)
	}
	if code, body := p.get("/readyz"); code != 200 {
		t.Fatalf("the exporter's own /readyz with two databases down: %d %s", code, body)
	}
	if code, body := p.get("/targets/db007/readyz?verbose"); code != 503 || !strings.Contains(body, "database") {
		t.Fatalf("/targets/db007/readyz: %d %s", code, body)
	}
	if code, _ := p.get("/targets/db008/readyz"); code != 200 {
		t.Fatalf("/targets/db008/readyz: %d", code)
	}
	after := p.targets()
	for name, tg := range after {
		if _, failed := reasons[name]; !failed && tg.Status != "ready" {
			t.Errorf("target %s is %s while others fail", name, tg.Status)
		}
	}

	// A target added to the file, then SIGHUP.
	if err := os.WriteFile(path, []byte(write(fmt.Sprintf("  - {name: added, database: {dsn: %q}}\n", main.DSN("db199")))), 0o600); err != nil {
		t.Fatal(err)
	}
	p.signal(syscall.SIGHUP)
	p.eventually("the added target ready", 30*time.Second, func() bool { return p.targets()["added"].Status == "ready" })
	now := p.targets()
	if len(now) != 201 {
		t.Fatalf("%d targets after adding one", len(now))
	}
	for name, tg := range before {
		if now[name].Generation < tg.Generation {
			t.Fatalf("target %s started over: generation %d, was %d", name, now[name].Generation, tg.Generation)
		}
	}
	_, metrics := p.get("/metrics")
	for _, series := range []string{`dbhealth_target_ready{target="added"} 1`, `dbhealth_target_ready{target="db007",team="t3"} 0`, "dbhealth_ready 1", "dbhealth_targets 201"} {
		if !strings.Contains(metrics, series) {
			t.Errorf("/metrics lacks %s", series)
		}
	}
}
