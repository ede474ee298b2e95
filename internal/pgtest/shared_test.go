package pgtest_test

import (
	"fmt"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/dbhealth/dbhealth-exporter/internal/pgtest"
)

func TestSharedIsShared(t *testing.T) {
	t.Parallel()
	a, b := pgtest.Shared(t), pgtest.Shared(t)
	if a != b {
		t.Fatal("Shared returned two different servers")
	}
	dsn := a.NewDatabase(t)
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		t.Fatal(err)
	}
	a.Exec(t, cfg.Database, "CREATE TABLE x (i int)")
	if got := queryString(t, connect(t, dsn), "SELECT count(*)::text FROM x"); got != "0" {
		t.Errorf("count = %s", got)
	}
}

// TestSharedHonoursEnvDSN points DBHEALTH_TEST_DSN at a private cluster (not
// parallel: t.Setenv).
func TestSharedHonoursEnvDSN(t *testing.T) {
	c := pgtest.New(t)
	admin := connect(t, c.DSN("postgres"))
	exists := func(db string) bool {
		return queryString(t, admin, fmt.Sprintf("SELECT count(*)::text FROM pg_database WHERE datname = '%s'", db)) == "1"
	}

	for _, tc := range []struct{ name, dsn string }{
		{"url", c.DSN("postgres")},
		{"keyword-value", fmt.Sprintf("host=127.0.0.1 port=%d user=postgres dbname=postgres sslmode=disable", c.Port())},
	} {
		var db string
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv(pgtest.EnvDSN, tc.dsn)
			s := pgtest.Shared(t)
			if _, ok := s.(*pgtest.Cluster); ok {
				t.Fatalf("Shared returned a local cluster although %s is set", pgtest.EnvDSN)
			}
			dsn := s.NewDatabase(t)
			cfg, err := pgx.ParseConfig(dsn)
			if err != nil {
				t.Fatal(err)
			}
			db = cfg.Database
			if cfg.Port != uint16(c.Port()) {
				t.Errorf("NewDatabase DSN %q is not on the %s server (port %d)", dsn, pgtest.EnvDSN, c.Port())
			}
			if !exists(db) {
				t.Fatalf("database %s not created on the %s server", db, pgtest.EnvDSN)
			}
			s.Exec(t, db, "CREATE TABLE y (i int); INSERT INTO y VALUES (42)")
			if got := queryString(t, connect(t, c.DSN(db)), "SELECT i::text FROM y"); got != "42" {
				t.Errorf("SELECT = %s", got)
			}
		})
		if db != "" && exists(db) {
			t.Errorf("%s: database %s not dropped at cleanup", tc.name, db)
		}
	}
}
