package exporter_test

import (
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/dbhealth/dbhealth-exporter/internal/pgtest"
)

// With basic-auth users in the web configuration, an anonymous probe learns
// a failure's reason class, not its message (user, host, database), and
// not the server's build; an authenticated one learns everything.
func TestProbes_WithUsers_AnonymousBodiesWithholdDetails(t *testing.T) {
	cluster := pgtest.New(t)
	cluster.CreateRole(t, "app", "right-password")
	cluster.Exec(t, "postgres", "CREATE DATABASE ledger")
	hash, err := bcrypt.GenerateFromPassword([]byte("scrape-pw"), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	webConfig := filepath.Join(t.TempDir(), "web.yml")
	if err := os.WriteFile(webConfig, []byte("basic_auth_users:\n  prom: "+string(hash)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := schedule(cluster.RoleDSN("app", "wrong-password", "ledger"), 200*time.Millisecond, 150*time.Millisecond)
	cfg.Web.ConfigFile = webConfig
	ex := startInProcess(t, cfg)
	get := func(path string, auth bool) string {
		t.Helper()
		req, _ := http.NewRequest(http.MethodGet, ex.url+path, nil)
		if auth {
			req.SetBasicAuth("prom", "scrape-pw")
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return string(body)
	}
	until(t, "auth_failed", 10*time.Second, func() bool { return strings.Contains(get("/readyz", false), "auth_failed") })
	for _, path := range []string{"/readyz", "/readyz?verbose", "/readyz/database"} {
		anonymous := get(path, false)
		for _, secret := range []string{cluster.Addr(), `"app`, "ledger"} {
			if strings.Contains(anonymous, secret) {
				t.Errorf("anonymous %s shows %q: %s", path, secret, anonymous)
			}
		}
		if !strings.Contains(anonymous, "auth_failed (details withheld)") {
			t.Errorf("anonymous %s: %s", path, anonymous)
		}
		if full := get(path, true); !strings.Contains(full, cluster.Addr()) || !strings.Contains(full, `user \"app\"`) && !strings.Contains(full, `user "app"`) {
			t.Errorf("authenticated %s lacks the message: %s", path, full)
		}
	}

	// Reached: the server's version, without its distribution's suffix
	// for anonymous clients.
	cluster.Exec(t, "postgres", "ALTER ROLE app PASSWORD 'wrong-password'")
	until(t, "ready", 10*time.Second, func() bool { return strings.Contains(get("/readyz", false), `"status":"ready"`) })
	full, anonymous := get("/readyz", true), get("/readyz", false)
	t.Logf("authenticated: %s\nanonymous: %s", full, anonymous)
	if !strings.Contains(full, `"database":"ledger"`) || strings.Contains(anonymous, "ledger") ||
		strings.Contains(anonymous, "(") || !strings.Contains(anonymous, `"server_version":"1`) {
		t.Errorf("server facts: authenticated %s, anonymous %s", full, anonymous)
	}
}
