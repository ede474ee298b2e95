package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/dbhealth/dbhealth-exporter/internal/pgtest"
)

// generation returns /readyz's generation and the checked_at of each check.
func (p *exporterProc) generation() (uint64, map[string]string) {
	p.t.Helper()
	_, body := p.get("/readyz")
	var r struct {
		Generation uint64
		Checks     map[string]struct {
			CheckedAt string `json:"checked_at"`
		}
	}
	if err := json.Unmarshal([]byte(body), &r); err != nil {
		p.t.Fatalf("/readyz: %v: %s", err, body)
	}
	checked := map[string]string{}
	for name, c := range r.Checks {
		checked[name] = c.CheckedAt
	}
	return r.Generation, checked
}

// A running exporter survives a SIGHUP with a broken configuration file (it
// keeps the old one and says so) and applies a SIGHUP that changes one
// check's interval in exactly one new generation, the other check keeping
// its state.
func TestSIGHUP_BrokenFileIsRefused_ChangedIntervalIsOneGeneration(t *testing.T) {
	cluster := pgtest.New(t)
	cluster.Exec(t, "postgres", "CREATE TABLE schema_migrations (version bigint PRIMARY KEY, dirty boolean NOT NULL); INSERT INTO schema_migrations VALUES (3, false)")
	path := filepath.Join(t.TempDir(), "dbhealth.yml")
	// Long intervals: nothing runs after start but what the test causes.
	good := func(databaseInterval string) string {
		return "defaults: {interval: 1h, timeout: 1s}\n" +
			"checks:\n" +
			"  database: {interval: " + databaseInterval + "}\n" +
			"  migrations: {tool: golang-migrate, expected_version: '3'}\n"
	}
	if err := os.WriteFile(path, []byte(good("1h")), 0o600); err != nil {
		t.Fatal(err)
	}
	p := startExporter(t, []string{"DATABASE_URL=" + cluster.DSN("postgres")}, "--config.file="+path)
	p.eventually("ready", 10*time.Second, func() bool { code, _ := p.get("/readyz"); return code == 200 })
	gen, checked := p.generation()

	if err := os.WriteFile(path, []byte("checks:\n  database:\n    interval: ten\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	p.signal(syscall.SIGHUP)
	p.eventually("the refused reload in the log", 10*time.Second, func() bool {
		return strings.Contains(p.output.String(), "reload refused, the previous configuration stays: "+path+":3: checks.database.interval")
	})
	if v, _ := p.metric("dbhealth_config_last_reload_successful"); v != 0 {
		t.Fatalf("dbhealth_config_last_reload_successful = %v after a refused reload", v)
	}
	if code, _ := p.get("/readyz"); code != 200 {
		t.Fatalf("a refused reload changed readiness: %d", code)
	}
	if g, _ := p.generation(); g != gen {
		t.Fatalf("a refused reload published: generation %d -> %d", gen, g)
	}

	if err := os.WriteFile(path, []byte(good("30m")), 0o600); err != nil {
		t.Fatal(err)
	}
	p.signal(syscall.SIGHUP)
	p.eventually("the reload metric back at 1", 10*time.Second, func() bool {
		v, _ := p.metric("dbhealth_config_last_reload_successful")
		return v == 1
	})
	g, after := p.generation()
	if g != gen+1 {
		t.Fatalf("changing one check's interval: generation %d -> %d, want exactly one more", gen, g)
	}
	if after["migrations"] != checked["migrations"] || after["database"] != checked["database"] {
		t.Fatalf("the checks' last results changed with the reload: %v -> %v", checked, after)
	}
	if code, _ := p.get("/readyz"); code != 200 {
		t.Fatalf("readiness after the reload: %d", code)
	}
}

// --config.check validates without starting: exit 0 for a good file, 2 and
// one line naming the file, line and key for a bad one.
func TestConfigCheck_ExitsZeroOrTwoWithoutStarting(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.yml")
	bad := filepath.Join(dir, "bad.yml")
	if err := os.WriteFile(good, []byte("defaults: {interval: 5s, timeout: 1s}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bad, []byte("defaults:\n  interval: 5s\n  retries: 3\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	env := func(string) string { return "" }
	var stdout, stderr bytes.Buffer
	// The listen address is taken: --config.check must not try it.
	if code := run(context.Background(), []string{"--config.file=" + good, "--config.check", "--web.listen-address=127.0.0.1:1"}, env, &stdout, &stderr); code != exitOK ||
		!strings.Contains(stdout.String(), "valid") || stderr.Len() != 0 {
		t.Fatalf("a good file: exit %d, stdout %q, stderr %q", code, stdout.String(), stderr.String())
	}
	stdout.Reset()
	code := run(context.Background(), []string{"--config.file=" + bad, "--config.check"}, env, &stdout, &stderr)
	if code != exitUsage || stderr.String() != "dbhealth-exporter: error: "+bad+":3: defaults.retries: unknown key\n" {
		t.Fatalf("a bad file: exit %d, stderr %q", code, stderr.String())
	}
	stderr.Reset()
	// The same file at start: exit 2 with the same line.
	if code := run(context.Background(), []string{"--config.file=" + bad, "--web.listen-address=127.0.0.1:0"}, env, &stdout, &stderr); code != exitUsage ||
		!strings.Contains(stderr.String(), bad+":3: defaults.retries: unknown key") {
		t.Fatalf("a bad file at start: exit %d, stderr %q", code, stderr.String())
	}
}
