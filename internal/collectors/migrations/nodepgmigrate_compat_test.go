package migrations

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
)

// nodePgMigrateSQL is an SQL migration in node-pg-migrate's format.
func nodePgMigrateSQL(up string) string {
	return "-- Up Migration\n" + up + "\n-- Down Migration\nSELECT 1;\n"
}

func TestCompat_NodePgMigrate(t *testing.T) {
	bin := requireTool(t, "node-pg-migrate")
	dsn := freshDatabase(t)
	project := t.TempDir()
	dir := filepath.Join(project, "migrations")
	// 13-digit prefixes are milliseconds (Date.now()), 17 digits a UTC
	// time: 20240102000000000 (2024) runs before 1800000000000 (2027).
	writeFiles(t, dir, map[string]string{
		"1800000000000_later.sql":     nodePgMigrateSQL("ALTER TABLE users ADD COLUMN later int;"),
		"20240102000000000_email.sql": nodePgMigrateSQL("ALTER TABLE users ADD COLUMN email text;"),
		"1700000000000_users.sql":     nodePgMigrateSQL("CREATE TABLE users (id serial PRIMARY KEY);"),
	})
	env := []string{"DATABASE_URL=" + dsn}
	up := func() (string, error) { return tool(t, project, env, bin, "up", "--no-verbose") }
	opts := Options{Dir: dir}

	if out, err := up(); err != nil {
		t.Fatalf("node-pg-migrate up: %v\n%s", err, out)
	}
	expect(t, dsn, opts, expectation{tool: "node-pg-migrate", applied: 3})
	disk, err := nodePgMigrate{}.ParseFiles(os.DirFS(dir))
	if err != nil {
		t.Fatal(err)
	}
	var parsed []string
	for _, m := range disk {
		parsed = append(parsed, m.Version)
	}
	if ran := nodePgMigrateRunOrder(t, dsn, `"public"."pgmigrations"`); !slices.Equal(ran, parsed) {
		t.Fatalf("node-pg-migrate ran %v, the parser orders %v", ran, parsed)
	}

	writeFiles(t, dir, map[string]string{"1900000000000_index.sql": nodePgMigrateSQL("CREATE INDEX users_email ON users (email);")})
	expect(t, dsn, opts, expectation{reason: ReasonPending, tool: "node-pg-migrate", applied: 3, pending: []string{"1900000000000_index"}})

	// The whole run is one transaction: node-pg-migrate records nothing
	// when a migration fails, and both files stay pending.
	writeFiles(t, dir, map[string]string{"1900000000001_broken.sql": nodePgMigrateSQL("ALTER TABLE no_such_table ADD COLUMN x int;")})
	if out, err := up(); err == nil || !strings.Contains(out, "no_such_table") {
		t.Fatalf("the broken migration did not fail (%v):\n%s", err, out)
	}
	expect(t, dsn, opts, expectation{reason: ReasonPending, tool: "node-pg-migrate", applied: 3,
		pending: []string{"1900000000000_index", "1900000000001_broken"}})

	os.Remove(filepath.Join(dir, "1900000000001_broken.sql"))
	if out, err := up(); err != nil {
		t.Fatalf("node-pg-migrate up: %v\n%s", err, out)
	}
	expect(t, dsn, opts, expectation{tool: "node-pg-migrate", applied: 4})

	os.Remove(filepath.Join(dir, "1900000000000_index.sql"))
	expect(t, dsn, opts, expectation{tool: "node-pg-migrate", applied: 4, unknown: []string{"1900000000000_index"}})
}

func TestCompat_NodePgMigrate_CustomTableAndSchema(t *testing.T) {
	bin := requireTool(t, "node-pg-migrate")
	dsn := freshDatabase(t)
	project := t.TempDir()
	dir := filepath.Join(project, "migrations")
	writeFiles(t, dir, map[string]string{"0001_users.sql": nodePgMigrateSQL("CREATE TABLE users (id int);")})
	mustTool(t, project, []string{"DATABASE_URL=" + dsn}, bin, "up", "--no-verbose",
		"--migrations-table", "app_migrations", "--migrations-schema", "meta", "--create-migrations-schema")
	expect(t, dsn, Options{Dir: dir, Table: "app_migrations", Schema: "meta"}, expectation{tool: "node-pg-migrate", applied: 1})
	expect(t, dsn, Options{Dir: dir, Tool: "node-pg-migrate", Table: "app_migrations", Schema: "meta"}, expectation{tool: "node-pg-migrate", applied: 1})
}

// nodePgMigrateRunOrder lists the names in table in the order they ran.
func nodePgMigrateRunOrder(t *testing.T, dsn, table string) []string {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	rows, err := conn.Query(ctx, "SELECT name FROM "+table+" ORDER BY id")
	if err != nil {
		t.Fatal(err)
	}
	names, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	return names
}
