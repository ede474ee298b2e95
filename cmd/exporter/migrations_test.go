package main

import (
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dbhealth/dbhealth-exporter/internal/pgtest"
	"github.com/dbhealth/dbhealth-exporter/internal/testtools"
)

// migrationsFixture is a database migrated by the real golang-migrate.
type migrationsFixture struct {
	t       *testing.T
	migrate string
	dir     string
	dsn     string
}

func newMigrationsFixture(t *testing.T) *migrationsFixture {
	t.Helper()
	f := &migrationsFixture{t: t, migrate: testtools.Require(t, "migrate"), dir: t.TempDir(), dsn: pgtest.Shared(t).NewDatabase(t)}
	f.write("000001_create_accounts.up.sql", "CREATE TABLE accounts (id serial PRIMARY KEY);")
	f.write("000002_add_name.up.sql", "ALTER TABLE accounts ADD COLUMN name text;")
	f.up()
	return f
}

func (f *migrationsFixture) write(name, sql string) {
	f.t.Helper()
	if err := os.WriteFile(filepath.Join(f.dir, name), []byte(sql), 0o644); err != nil {
		f.t.Fatal(err)
	}
}

func (f *migrationsFixture) up() {
	f.t.Helper()
	out, err := tool(f.migrate, "-path", f.dir, "-database", f.dsn, "up")
	if err != nil {
		f.t.Fatalf("migrate up: %v\n%s", err, out)
	}
}

func TestExporter_PendingMigrationAppears_503UntilAppliedWithTheTool(t *testing.T) {
	f := newMigrationsFixture(t)
	p := startExporter(t, []string{"DATABASE_URL=" + f.dsn}, fastChecks, "--check.timeout=200ms", "--migrations.dir="+f.dir)
	p.eventually("ready", 10*time.Second, func() bool { code, _ := p.readyz(); return code == http.StatusOK })
	if code, body := p.get("/readyz"); !strings.Contains(body, `"migrations":"ok"`) || code != http.StatusOK {
		t.Fatalf("%d %s", code, body)
	}

	// A new migration file is mounted while the exporter runs.
	f.write("000003_add_index.up.sql", "CREATE INDEX accounts_name ON accounts (name);")
	p.eventually("not ready with a pending migration", 10*time.Second, func() bool { code, _ := p.readyz(); return code == http.StatusServiceUnavailable })
	code, body := p.get("/readyz?verbose")
	if code != http.StatusServiceUnavailable || !strings.Contains(body, "[-]migrations failed: 1 pending (000003_add_index)\n") || !strings.Contains(body, "[+]database ok") {
		t.Fatalf("%d %q", code, body)
	}
	if _, body := p.get("/readyz"); !strings.Contains(body, `"migrations":"error"`) || !strings.Contains(body, `"migrations_error":"1 pending (000003_add_index)"`) {
		t.Fatalf("payload: %s", body)
	}
	if v, _ := p.metric(`dbhealth_migrations_pending{target="default"}`); v != 1 {
		t.Fatalf("dbhealth_migrations_pending = %v", v)
	}

	f.up()
	took := p.eventually("ready after the migration is applied", 10*time.Second, func() bool { code, _ := p.readyz(); return code == http.StatusOK })
	t.Logf("ready again %s after `migrate up` returned (interval 300ms)", took)
	if v, _ := p.metric(`dbhealth_migrations_pending{target="default"}`); v != 0 {
		t.Fatalf("dbhealth_migrations_pending = %v after applying", v)
	}
}

func TestExporter_MigrationsCheckItselfFails_503WithTheErrorNamed(t *testing.T) {
	f := newMigrationsFixture(t)
	p := startExporter(t, []string{"DATABASE_URL=" + f.dsn}, fastChecks, "--check.timeout=200ms", "--migrations.dir="+f.dir)
	p.eventually("ready", 10*time.Second, func() bool { code, _ := p.readyz(); return code == http.StatusOK })

	// The directory becomes unreadable (here: it goes away).
	moved := f.dir + ".moved"
	if err := os.Rename(f.dir, moved); err != nil {
		t.Fatal(err)
	}
	p.eventually("not ready", 10*time.Second, func() bool { code, _ := p.readyz(); return code == http.StatusServiceUnavailable })
	_, body := p.get("/readyz")
	if !strings.Contains(body, `"migrations":"error"`) || !strings.Contains(body, "migrations directory "+f.dir) || !strings.Contains(body, `"reason":"unreadable_directory"`) {
		t.Fatalf("payload: %s", body)
	}
	if err := os.Rename(moved, f.dir); err != nil {
		t.Fatal(err)
	}
	p.eventually("ready again", 10*time.Second, func() bool { code, _ := p.readyz(); return code == http.StatusOK })

	// The history table disappears.
	pgtest.Shared(t).Exec(t, dbName(f.dsn), "DROP TABLE schema_migrations")
	p.eventually("not ready", 10*time.Second, func() bool { code, _ := p.readyz(); return code == http.StatusServiceUnavailable })
	if _, body := p.get("/readyz"); !strings.Contains(body, "no migration history table found") || !strings.Contains(body, `"reason":"missing_table"`) {
		t.Fatalf("payload: %s", body)
	}
	if code, _ := p.get("/livez"); code != http.StatusOK {
		t.Fatalf("/livez: %d", code)
	}
}

// dbName is the database name of a URL DSN.
func dbName(dsn string) string {
	db := dsn[strings.LastIndex(dsn, "/")+1:]
	db, _, _ = strings.Cut(db, "?")
	return db
}
