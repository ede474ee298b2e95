package main

import (
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/dbhealth/dbhealth-exporter/internal/pgtest"
)

// A wrong password (here: the canary itself) is rejected by the server; the
// pgx error, the logs, every probe body, the metrics and the landing page
// must still never show it.
func TestExporter_RejectedPassword_NeverShownAnywhere(t *testing.T) {
	c := pgtest.New(t)
	c.CreateRole(t, "app", "the-right-one")
	p := startExporter(t, []string{"DATABASE_URL=" + c.RoleDSN("app", canary, "postgres")}, fastChecks, "--check.timeout=200ms")
	p.eventually("auth_failed", 10*time.Second, func() bool {
		_, body := p.get("/readyz")
		return strings.Contains(body, `"reason":"auth_failed"`)
	})
	for _, path := range []string{"/readyz", "/readyz?verbose", "/readyz/database", "/livez", "/metrics", "/"} {
		p.get(path)
	}
	if v, _ := p.metric(`dbhealth_check_failures_total{check="database",reason="auth_failed",target="default"}`); v < 1 {
		t.Fatalf("auth_failed not counted: %v", v)
	}
	p.assertNoCanary()
}

func TestExporter_VerifyFullTLS_IsReady(t *testing.T) {
	c := pgtest.New(t, pgtest.WithSSL())
	dsn := "postgres://postgres@localhost:" + itoa(c.Port()) + "/postgres?sslmode=verify-full&sslrootcert=" + c.CACertFile()
	p := startExporter(t, []string{"DATABASE_URL=" + dsn}, fastChecks, "--check.timeout=250ms")
	p.eventually("ready over verified TLS", 10*time.Second, func() bool { code, _ := p.readyz(); return code == http.StatusOK })
}

func itoa(n int) string { return strconv.Itoa(n) }
