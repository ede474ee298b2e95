package migrations

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestCompat_GolangMigrate(t *testing.T) {
	migrate := requireTool(t, "migrate")
	dsn := freshDatabase(t)
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{
		"000001_create_users.up.sql":   "CREATE TABLE users (id serial PRIMARY KEY);",
		"000001_create_users.down.sql": "DROP TABLE users;",
		"000002_add_email.up.sql":      "ALTER TABLE users ADD COLUMN email text;",
		"000002_add_email.down.sql":    "ALTER TABLE users DROP COLUMN email;",
		"000003_add_index.up.sql":      "CREATE INDEX users_email ON users (email);",
		"000003_add_index.down.sql":    "DROP INDEX users_email;",
	})
	run := func(args ...string) (string, error) {
		return tool(t, dir, nil, migrate, append([]string{"-path", dir, "-database", dsn}, args...)...)
	}
	opts := Options{Dir: dir}

	if out, err := run("up", "2"); err != nil {
		t.Fatalf("migrate up 2: %v\n%s", err, out)
	}
	expect(t, dsn, opts, expectation{reason: ReasonPending, tool: "golang-migrate", applied: 2, pending: []string{"000003_add_index"}})

	if out, err := run("up"); err != nil {
		t.Fatalf("migrate up: %v\n%s", err, out)
	}
	expect(t, dsn, opts, expectation{tool: "golang-migrate", applied: 3})

	// A failing migration leaves golang-migrate dirty at its version: that is
	// dirty, not pending.
	writeFiles(t, dir, map[string]string{
		"000004_broken.up.sql":   "ALTER TABLE no_such_table ADD COLUMN x int;",
		"000004_broken.down.sql": "SELECT 1;",
	})
	if out, err := run("up"); err == nil {
		t.Fatalf("the broken migration applied:\n%s", out)
	}
	expect(t, dsn, opts, expectation{reason: ReasonDirty, tool: "golang-migrate", applied: 3, dirty: []string{"000004_broken"}})

	// The operator forces the version back and removes the broken file.
	if out, err := run("force", "3"); err != nil {
		t.Fatalf("migrate force 3: %v\n%s", err, out)
	}
	for _, f := range []string{"000004_broken.up.sql", "000004_broken.down.sql"} {
		os.Remove(filepath.Join(dir, f))
	}
	expect(t, dsn, opts, expectation{tool: "golang-migrate", applied: 3})

	// Code rolled back while the database is ahead: unknown, informational
	// unless asked to fail.
	for _, f := range []string{"000003_add_index.up.sql", "000003_add_index.down.sql"} {
		os.Remove(filepath.Join(dir, f))
	}
	expect(t, dsn, opts, expectation{tool: "golang-migrate", applied: 2, unknown: []string{"3"}})
	res, _ := check(t, dsn, Options{Dir: dir, FailOnUnknown: true})
	if res.Reason != ReasonUnknown || !strings.Contains(res.Err.Error(), "applied but not on disk") {
		t.Fatalf("FailOnUnknown: %s %v", res.Reason, res.Err)
	}

	// Without a directory: at least the expected version.
	expect(t, dsn, Options{ExpectedVersion: "3"}, expectation{tool: "golang-migrate", applied: 1})
	expect(t, dsn, Options{ExpectedVersion: "4"}, expectation{reason: ReasonBehind, tool: "golang-migrate", applied: 1})
}

func TestCheck_ItselfFails_NamesTheProblem(t *testing.T) {
	dsn := freshDatabase(t)
	res, _ := check(t, dsn, Options{Dir: t.TempDir()})
	if res.Reason != ReasonMissingTable || !strings.Contains(res.Err.Error(), "no migration history table found") {
		t.Fatalf("empty database: %s %v", res.Reason, res.Err)
	}
	res, _ = check(t, dsn, Options{Tool: "golang-migrate"})
	if res.Reason != ReasonMissingTable || !strings.Contains(res.Err.Error(), `no golang-migrate table "schema_migrations"`) {
		t.Fatalf("forced tool without its table: %s %v", res.Reason, res.Err)
	}
	pgExec(t, dsn, "CREATE TABLE schema_migrations (version bigint PRIMARY KEY, dirty boolean NOT NULL); INSERT INTO schema_migrations VALUES (1, false)")
	missing := filepath.Join(t.TempDir(), "gone")
	res, _ = check(t, dsn, Options{Dir: missing})
	if res.Reason != ReasonUnreadableDir || !strings.Contains(res.Err.Error(), missing) {
		t.Fatalf("missing directory: %s %v", res.Reason, res.Err)
	}
	if _, err := New(nil, Options{Tool: "flywheel"}); err == nil || !strings.Contains(err.Error(), "golang-migrate") {
		t.Fatalf("unknown tool: %v", err)
	}
}
