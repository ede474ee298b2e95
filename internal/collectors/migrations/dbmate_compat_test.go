package migrations

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// dbmateFileText is a dbmate migration.
func dbmateFileText(up, down string) string {
	return "-- migrate:up\n" + up + "\n\n-- migrate:down\n" + down + "\n"
}

// dbmateRun runs dbmate on dsn with the migrations in dir, without
// writing a schema file.
func dbmateRun(t *testing.T, bin, dir, dsn string, args ...string) (string, error) {
	t.Helper()
	args = append([]string{"--url", dsn, "--migrations-dir", dir, "--no-dump-schema"}, args...)
	return tool(t, dir, nil, bin, args...)
}

func TestCompat_Dbmate(t *testing.T) {
	bin := requireTool(t, "dbmate")
	dsn := freshDatabase(t)
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{
		"001_create_users.sql": dbmateFileText("CREATE TABLE users (id serial PRIMARY KEY);", "DROP TABLE users;"),
		"002_add_email.sql":    dbmateFileText("ALTER TABLE users ADD COLUMN email text;", "ALTER TABLE users DROP COLUMN email;"),
	})
	must := func(args ...string) {
		t.Helper()
		if out, err := dbmateRun(t, bin, dir, dsn, args...); err != nil {
			t.Fatalf("dbmate %v: %v\n%s", args, err, out)
		}
	}
	opts := Options{Dir: dir}

	// Detected without --migrations.tool, neither golang-migrate nor Rails;
	// the versions keep their leading zeros on both sides.
	must("up")
	r := expect(t, dsn, opts, expectation{tool: "dbmate", applied: 2})
	if r.LatestApplied != "002" {
		t.Fatalf("latest applied %q, want 002 as dbmate records it", r.LatestApplied)
	}

	writeFiles(t, dir, map[string]string{
		"003_add_index.sql": dbmateFileText("CREATE INDEX users_email ON users (email);", "DROP INDEX users_email;"),
	})
	expect(t, dsn, opts, expectation{reason: ReasonPending, tool: "dbmate", applied: 2, pending: []string{"003_add_index"}})

	// dbmate records nothing for a failed migration (it runs in its own
	// transaction): it stays pending; the good one before it is applied.
	writeFiles(t, dir, map[string]string{
		"004_broken.sql": dbmateFileText("ALTER TABLE no_such_table ADD COLUMN x int;", ""),
	})
	if out, err := dbmateRun(t, bin, dir, dsn, "up"); err == nil || !strings.Contains(out, "no_such_table") {
		t.Fatalf("the broken migration did not fail as expected: %v\n%s", err, out)
	}
	expect(t, dsn, opts, expectation{reason: ReasonPending, tool: "dbmate", applied: 3, pending: []string{"004_broken"}})
	os.Remove(filepath.Join(dir, "004_broken.sql"))
	expect(t, dsn, opts, expectation{tool: "dbmate", applied: 3})

	// rollback deletes the latest row: pending again.
	must("rollback")
	expect(t, dsn, opts, expectation{reason: ReasonPending, tool: "dbmate", applied: 2, pending: []string{"003_add_index"}})
	must("up")

	// Applied but gone from disk: unknown, informational.
	os.Remove(filepath.Join(dir, "003_add_index.sql"))
	expect(t, dsn, opts, expectation{tool: "dbmate", applied: 3, unknown: []string{"003"}})

	// Without a directory: at least the expected version.
	expect(t, dsn, Options{ExpectedVersion: "3"}, expectation{tool: "dbmate", applied: 3})
	expect(t, dsn, Options{ExpectedVersion: "4"}, expectation{reason: ReasonBehind, tool: "dbmate", applied: 3})

	// A custom table (--migrations-table) named with --migrations.table.
	other := freshDatabase(t)
	if out, err := dbmateRun(t, bin, dir, other, "--migrations-table", "app_dbmate_history", "up"); err != nil {
		t.Fatalf("dbmate --migrations-table: %v\n%s", err, out)
	}
	writeFiles(t, dir, map[string]string{"003_add_index.sql": dbmateFileText("SELECT 1;", "SELECT 1;")})
	expect(t, other, Options{Dir: dir, Table: "app_dbmate_history"},
		expectation{reason: ReasonPending, tool: "dbmate", applied: 2, pending: []string{"003_add_index"}})
}
