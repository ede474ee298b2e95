package migrations

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// sqlMigrateFileText is a sql-migrate migration.
func sqlMigrateFileText(up, down string) string {
	return "-- +migrate Up\n" + up + "\n-- +migrate Down\n" + down + "\n"
}

// sqlMigrateConfig is a dbconfig.yml with two environments on dsn and
// other: the default table, and a custom one.
func sqlMigrateConfig(dir, dsn, other string) string {
	return "development:\n  dialect: postgres\n  datasource: " + dsn + "\n  dir: " + dir + "\n" +
		"custom:\n  dialect: postgres\n  datasource: " + other + "\n  dir: " + dir + "\n  table: app_sql_migrations\n"
}

func TestCompat_SqlMigrate(t *testing.T) {
	bin := requireTool(t, "sql-migrate")
	dsn, other := freshDatabase(t), freshDatabase(t)
	work := t.TempDir()
	dir := filepath.Join(work, "migrations")
	writeFiles(t, work, map[string]string{
		"dbconfig.yml":                  sqlMigrateConfig(dir, dsn, other),
		"migrations/1_create_users.sql": sqlMigrateFileText("CREATE TABLE users (id serial PRIMARY KEY);", "DROP TABLE users;"),
		"migrations/2_add_email.sql":    sqlMigrateFileText("ALTER TABLE users ADD COLUMN email text;", "ALTER TABLE users DROP COLUMN email;"),
		"migrations/10_add_index.sql":   sqlMigrateFileText("CREATE INDEX users_email ON users (email);", "DROP INDEX users_email;"),
	})
	run := func(args ...string) (string, error) {
		return tool(t, work, nil, bin, args...)
	}
	must := func(args ...string) {
		t.Helper()
		if out, err := run(args...); err != nil {
			t.Fatalf("sql-migrate %v: %v\n%s", args, err, out)
		}
	}
	opts := Options{Dir: dir}

	// Detected without --migrations.tool; 10 comes after 2.
	must("up", "-limit", "2")
	r := expect(t, dsn, opts, expectation{reason: ReasonPending, tool: "sql-migrate", applied: 2, pending: []string{"10_add_index"}})
	if r.LatestApplied != "2_add_email.sql" {
		t.Fatalf("latest applied %q, want the file name 2_add_email.sql", r.LatestApplied)
	}
	must("up")
	expect(t, dsn, opts, expectation{tool: "sql-migrate", applied: 3})

	// sql-migrate records nothing for a failed migration (it runs in its
	// own transaction): it stays pending.
	writeFiles(t, dir, map[string]string{"11_broken.sql": sqlMigrateFileText("ALTER TABLE no_such_table ADD COLUMN x int;", "")})
	if out, err := run("up"); err == nil || !strings.Contains(out, "no_such_table") {
		t.Fatalf("the broken migration did not fail as expected: %v\n%s", err, out)
	}
	expect(t, dsn, opts, expectation{reason: ReasonPending, tool: "sql-migrate", applied: 3, pending: []string{"11_broken"}})
	os.Remove(filepath.Join(dir, "11_broken.sql"))

	// A file without Up/Down sections: sql-migrate refuses the whole
	// directory, and so does the check.
	writeFiles(t, dir, map[string]string{"12_plain.sql": "SELECT 1;\n"})
	if out, err := run("status"); err == nil || !strings.Contains(out, "no Up/Down annotations") {
		t.Fatalf("sql-migrate accepted a file without sections: %v\n%s", err, out)
	}
	expect(t, dsn, opts, expectation{reason: ReasonInvalidFiles})
	os.Remove(filepath.Join(dir, "12_plain.sql"))

	// down deletes the latest row: pending again.
	must("down", "-limit", "1")
	expect(t, dsn, opts, expectation{reason: ReasonPending, tool: "sql-migrate", applied: 2, pending: []string{"10_add_index"}})
	must("up")

	// Applied but gone from disk: unknown, informational.
	os.Remove(filepath.Join(dir, "10_add_index.sql"))
	expect(t, dsn, opts, expectation{tool: "sql-migrate", applied: 3, unknown: []string{"10_add_index"}})

	// Without a directory: at least the expected version.
	expect(t, dsn, Options{ExpectedVersion: "10"}, expectation{tool: "sql-migrate", applied: 3})
	expect(t, dsn, Options{ExpectedVersion: "11"}, expectation{reason: ReasonBehind, tool: "sql-migrate", applied: 3})

	// A custom table (dbconfig.yml's table:) named with --migrations.table.
	must("up", "-env", "custom", "-limit", "1")
	expect(t, other, Options{Dir: dir, Table: "app_sql_migrations"},
		expectation{reason: ReasonPending, tool: "sql-migrate", applied: 1, pending: []string{"2_add_email"}})
}
