package exporter_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dbhealth/dbhealth-exporter/internal/exporter"
	"github.com/dbhealth/dbhealth-exporter/internal/pgtest"
	"github.com/dbhealth/dbhealth-exporter/internal/testtools"
)

// readiness returns /readyz's status and the database check's reason.
func (p *inProcess) readiness(t *testing.T) (status, reason string) {
	_, body := p.get(t, "/readyz")
	var r struct {
		Status string
		Checks map[string]struct{ Reason string }
	}
	_ = json.Unmarshal([]byte(body), &r)
	return r.Status, r.Checks["database"].Reason
}

// until polls cond every 20ms for at most limit and returns how long it
// took; the test fails if it never holds.
func until(t *testing.T, what string, limit time.Duration, cond func() bool) time.Duration {
	t.Helper()
	start := time.Now()
	for !cond() {
		if time.Since(start) > limit {
			t.Fatalf("%s: not within %s", what, limit)
		}
		time.Sleep(20 * time.Millisecond)
	}
	return time.Since(start)
}

// rotation is a way an operator's tooling replaces a secret file.
type rotation struct {
	name    string
	prepare func(t *testing.T, dir, content string) (path string) // the first version
	replace func(t *testing.T, dir, content string)               // a new version
}

var rotations = []rotation{
	{
		// A Kubernetes Secret volume: the file is a symlink into ..data,
		// itself a symlink to a timestamped directory, swapped atomically.
		name: "Kubernetes Secret volume (..data swap)",
		prepare: func(t *testing.T, dir, content string) string {
			k8sWrite(t, dir, content, "..2026_11_29_00_00_00.1")
			if err := os.Symlink("..data/secret", filepath.Join(dir, "secret")); err != nil {
				t.Fatal(err)
			}
			return filepath.Join(dir, "secret")
		},
		replace: func(t *testing.T, dir, content string) {
			k8sWrite(t, dir, content, "..2026_11_29_00_00_00.2")
		},
	},
	{
		// A Vault agent (or any atomic writer): a new file renamed into place.
		name: "rename into place",
		prepare: func(t *testing.T, dir, content string) string {
			path := filepath.Join(dir, "secret")
			mustWrite(t, path, content)
			return path
		},
		replace: func(t *testing.T, dir, content string) {
			tmp := filepath.Join(dir, ".secret.tmp")
			mustWrite(t, tmp, content)
			if err := os.Rename(tmp, filepath.Join(dir, "secret")); err != nil {
				t.Fatal(err)
			}
		},
	},
	{
		// An editor or a script writing the file in place.
		name: "written in place",
		prepare: func(t *testing.T, dir, content string) string {
			path := filepath.Join(dir, "secret")
			mustWrite(t, path, content)
			return path
		},
		replace: func(t *testing.T, dir, content string) {
			f, err := os.OpenFile(filepath.Join(dir, "secret"), os.O_WRONLY|os.O_TRUNC, 0)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := f.WriteString(content); err != nil {
				t.Fatal(err)
			}
			if err := f.Close(); err != nil {
				t.Fatal(err)
			}
		},
	},
}

func mustWrite(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

// k8sWrite writes content as the kubelet updates a Secret volume: into a
// new timestamped directory, then ..data is swapped to it by a rename.
func k8sWrite(t *testing.T, dir, content, version string) {
	t.Helper()
	if err := os.Mkdir(filepath.Join(dir, version), 0o755); err != nil {
		t.Fatal(err)
	}
	mustWrite(t, filepath.Join(dir, version, "secret"), content)
	tmp := filepath.Join(dir, "..data_tmp")
	if err := os.Symlink(version, tmp); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, filepath.Join(dir, "..data")); err != nil {
		t.Fatal(err)
	}
}

// A role's password is changed on the server, then the file holding it is
// replaced: readiness comes back within interval + timeout + 1s, with no
// restart, and neither password appears in any output.
func TestReload_RotatedCredentials_AreUsedWithoutARestart(t *testing.T) {
	const interval, timeout = 500 * time.Millisecond, 300 * time.Millisecond
	cluster := pgtest.New(t)
	type secretFile struct {
		name  string
		write func(cluster *pgtest.Cluster, password string) string // the file's content
		cfg   func(path string) exporter.Config
	}
	files := []secretFile{
		{"connection string file", func(c *pgtest.Cluster, pw string) string { return c.RoleDSN("app", pw, "postgres") + "\n" },
			func(path string) exporter.Config {
				cfg := schedule("", interval, timeout)
				cfg.Database.DSNFile = path
				return cfg
			}},
		{"password file", func(_ *pgtest.Cluster, pw string) string { return pw + "\n" },
			func(path string) exporter.Config {
				cfg := schedule(cluster.RoleDSN("app", "", "postgres"), interval, timeout)
				cfg.Database.PasswordFile = path
				return cfg
			}},
	}
	round := 0
	for _, file := range files {
		for _, rot := range rotations {
			t.Run(file.name+", "+rot.name, func(t *testing.T) {
				round++
				role := "app"
				old, rotated := "Old-Pw-"+strings.Repeat("q", round), "Rotated-Pw-"+strings.Repeat("z", round)
				cluster.Exec(t, "postgres", "DROP ROLE IF EXISTS app")
				cluster.CreateRole(t, role, old)
				dir := t.TempDir()
				path := rot.prepare(t, dir, file.write(cluster, old))
				log := &testtools.Buffer{}
				ex := startInProcess(t, file.cfg(path), exporter.WithLogOutput(log))
				until(t, "ready with the first password", 10*time.Second, func() bool { s, _ := ex.readiness(t); return s == "ready" })

				cluster.Exec(t, "postgres", "ALTER ROLE app PASSWORD '"+rotated+"'")
				until(t, "auth_failed after the server's rotation", 10*time.Second, func() bool {
					s, r := ex.readiness(t)
					return s == "not_ready" && r == "auth_failed"
				})
				rot.replace(t, dir, file.write(cluster, rotated))
				took := until(t, "ready with the new password", interval+timeout+time.Second, func() bool { s, _ := ex.readiness(t); return s == "ready" })
				t.Logf("ready %s after the file was replaced (bound %s)", took, interval+timeout+time.Second)

				var seen strings.Builder
				for _, p := range []string{"/readyz", "/readyz?verbose", "/readyz/database", "/livez", "/metrics", "/"} {
					_, body := ex.get(t, p)
					seen.WriteString(body)
				}
				seen.WriteString(log.String())
				for _, pw := range []string{old, rotated} {
					if strings.Contains(seen.String(), pw) {
						t.Fatalf("the password %q appears in the output", pw)
					}
				}
				if !strings.Contains(log.String(), "connection settings changed") {
					t.Errorf("the log does not say the connection settings changed:\n%s", log)
				}
			})
		}
	}
}

// POST /-/reload with --web.enable-lifecycle reloads; a refused reload keeps
// the running configuration and sets the reload metric to 0.
func TestReload_Lifecycle_AppliesAndRefuses(t *testing.T) {
	cluster := pgtest.New(t)
	cfg := schedule(cluster.DSN("postgres"), time.Hour, time.Second)
	cfg.Web.EnableLifecycle = true
	var mu sync.Mutex
	next, nextErr := cfg, error(nil)
	ex := startInProcess(t, cfg, exporter.WithReload(func() (exporter.Config, error) {
		mu.Lock()
		defer mu.Unlock()
		return next, nextErr
	}))
	until(t, "ready", 10*time.Second, func() bool { s, _ := ex.readiness(t); return s == "ready" })
	post := func() (int, string) {
		t.Helper()
		resp, err := http.Post(ex.url+"/-/reload", "", nil)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var b bytes.Buffer
		_, _ = b.ReadFrom(resp.Body)
		return resp.StatusCode, b.String()
	}
	metric := func() string {
		_, body := ex.get(t, "/metrics")
		for _, line := range strings.Split(body, "\n") {
			if strings.HasPrefix(line, "dbhealth_config_last_reload_successful ") {
				return strings.TrimPrefix(line, "dbhealth_config_last_reload_successful ")
			}
		}
		return ""
	}
	if code, _ := ex.get(t, "/-/reload"); code != http.StatusMethodNotAllowed {
		t.Errorf("GET /-/reload: %d", code)
	}
	gen := ex.Snapshot().Generation
	if code, body := post(); code != http.StatusOK || metric() != "1" || ex.Snapshot().Generation != gen {
		t.Fatalf("an unchanged reload: %d %q, metric %s, generation %d -> %d", code, body, metric(), gen, ex.Snapshot().Generation)
	}

	mu.Lock()
	next = schedule(cluster.DSN("postgres"), time.Hour, time.Second)
	next.Checks.Migrations.Tool = "flywheel"
	mu.Unlock()
	if code, body := post(); code != http.StatusInternalServerError || !strings.Contains(body, "flywheel") || metric() != "0" {
		t.Fatalf("a bad configuration: %d %q, metric %s", code, body, metric())
	}
	if s, _ := ex.readiness(t); s != "ready" || ex.Snapshot().Generation != gen {
		t.Fatalf("a refused reload changed the running exporter: %s, generation %d", s, ex.Snapshot().Generation)
	}

	mu.Lock()
	next = schedule(cluster.DSN("postgres"), time.Hour, time.Second)
	next.Checks.Database.Interval = 30 * time.Minute
	mu.Unlock()
	if code, body := post(); code != http.StatusOK || metric() != "1" {
		t.Fatalf("a good configuration after a bad one: %d %q, metric %s", code, body, metric())
	}
	if g := ex.Snapshot().Generation; g != gen+1 {
		t.Fatalf("changing one check's interval: generation %d -> %d, want exactly one more", gen, g)
	}
	if c, _ := ex.Snapshot().Check("database"); c.Interval != 30*time.Minute || c.Last == nil {
		t.Fatalf("the database check after the reload: %+v", c)
	}
}

// libpq's passfile (PGPASSFILE) is watched like the other credential files.
func TestReload_RotatedPassfile_IsUsedWithoutARestart(t *testing.T) {
	const interval, timeout = 500 * time.Millisecond, 300 * time.Millisecond
	cluster := pgtest.New(t)
	cluster.CreateRole(t, "app", "passfile-first")
	dir := t.TempDir()
	passfile := filepath.Join(dir, "pgpass")
	line := func(pw string) string { return "127.0.0.1:*:*:app:" + pw + "\n" }
	mustWrite(t, passfile, line("passfile-first"))
	t.Setenv("PGPASSFILE", passfile) // pgx reads it from the process environment
	ex := startInProcess(t, schedule(cluster.RoleDSN("app", "", "postgres"), interval, timeout),
		exporter.WithGetenv(func(k string) string {
			if k == "PGPASSFILE" {
				return passfile
			}
			return ""
		}))
	until(t, "ready with the passfile's password", 10*time.Second, func() bool { s, _ := ex.readiness(t); return s == "ready" })
	cluster.Exec(t, "postgres", "ALTER ROLE app PASSWORD 'passfile-second'")
	until(t, "auth_failed", 10*time.Second, func() bool { _, r := ex.readiness(t); return r == "auth_failed" })
	tmp := filepath.Join(dir, ".pgpass.tmp") // renamed into place
	mustWrite(t, tmp, line("passfile-second"))
	mustRename(t, tmp, passfile)
	until(t, "ready with the new password", interval+timeout+time.Second, func() bool { s, _ := ex.readiness(t); return s == "ready" })
}

func mustRename(t *testing.T, from, to string) {
	t.Helper()
	if err := os.Rename(from, to); err != nil {
		t.Fatal(err)
	}
}
