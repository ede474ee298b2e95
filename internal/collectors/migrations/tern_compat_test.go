package migrations

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// ternFileText is a tern migration.
func ternFileText(up, down string) string {
	return up + "\n---- create above / drop below ----\n" + down + "\n"
}

func TestCompat_Tern(t *testing.T) {
	bin := requireTool(t, "tern")
	dsn := freshDatabase(t)
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{
		"001_create_users.sql": ternFileText("CREATE TABLE users (id serial PRIMARY KEY);", "DROP TABLE users;"),
		"002_add_email.sql":    ternFileText("ALTER TABLE users ADD COLUMN email text;", "ALTER TABLE users DROP COLUMN email;"),
		"003_add_index.sql":    ternFileText("CREATE INDEX users_email ON users (email);", "DROP INDEX users_email;"),
	})
	run := func(db string, args ...string) (string, error) {
		return tool(t, dir, nil, bin, append([]string{"migrate", "--migrations", dir, "--conn-string", db}, args...)...)
	}
	must := func(args ...string) {
		t.Helper()
		if out, err := run(dsn, args...); err != nil {
			t.Fatalf("tern migrate %v: %v\n%s", args, err, out)
		}
	}
	opts := Options{Dir: dir}

	// Detected without --migrations.tool.
	must("--destination", "2")
	expect(t, dsn, opts, expectation{reason: ReasonPending, tool: "tern", applied: 2, pending: []string{"003_add_index"}})
	must()
	expect(t, dsn, opts, expectation{tool: "tern", applied: 3})

	// tern records no failure: the version stays at the last good
	// migration and the failed one is pending.
	writeFiles(t, dir, map[string]string{"004_broken.sql": ternFileText("ALTER TABLE no_such_table ADD COLUMN x int;", "")})
	if out, err := run(dsn); err == nil || !strings.Contains(out, "no_such_table") {
		t.Fatalf("the broken migration did not fail as expected: %v\n%s", err, out)
	}
	expect(t, dsn, opts, expectation{reason: ReasonPending, tool: "tern", applied: 3, pending: []string{"004_broken"}})
	os.Remove(filepath.Join(dir, "004_broken.sql"))

	// A gap in the numbering: tern refuses the directory, and so does the
	// check.
	writeFiles(t, dir, map[string]string{"005_gap.sql": ternFileText("SELECT 1;", "")})
	if out, err := run(dsn); err == nil || !strings.Contains(out, "Missing migration 4") {
		t.Fatalf("tern accepted a gap: %v\n%s", err, out)
	}
	expect(t, dsn, opts, expectation{reason: ReasonInvalidFiles})
	os.Remove(filepath.Join(dir, "005_gap.sql"))

	// Rolling back lowers the version: pending again.
	must("--destination", "-1")
	expect(t, dsn, opts, expectation{reason: ReasonPending, tool: "tern", applied: 2, pending: []string{"003_add_index"}})
	must()

	// Applied but gone from disk: unknown, informational.
	os.Remove(filepath.Join(dir, "003_add_index.sql"))
	expect(t, dsn, opts, expectation{tool: "tern", applied: 2, unknown: []string{"3"}})

	// Without a directory: at least the expected version.
	expect(t, dsn, Options{ExpectedVersion: "3"}, expectation{tool: "tern", applied: 1})
	expect(t, dsn, Options{ExpectedVersion: "4"}, expectation{reason: ReasonBehind, tool: "tern", applied: 1})

	// A custom version table (--version-table) named with
	// --migrations.table; before the first migration it holds 0.
	other := freshDatabase(t)
	if out, err := run(other, "--version-table", "app_tern_version", "--destination", "0"); err != nil {
		t.Fatalf("tern migrate --version-table: %v\n%s", err, out)
	}
	expect(t, other, Options{Dir: dir, Table: "app_tern_version"},
		expectation{reason: ReasonPending, tool: "tern", applied: 0, pending: []string{"001_create_users", "002_add_email"}})
}
