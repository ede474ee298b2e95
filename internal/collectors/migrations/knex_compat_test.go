package migrations

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

const knexfile = `module.exports = {
  client: 'pg',
  connection: process.env.KNEX_DSN,
  migrations: { directory: './migrations', tableName: process.env.KNEX_TABLE || 'knex_migrations' },
};
`

// knexMigration is a migration file running sql up and nothing down.
func knexMigration(sql string, options ...string) string {
	return strings.Join(options, "\n") + "\nexports.up = k => k.raw(`" + sql + "`);\nexports.down = k => k.raw('SELECT 1');\n"
}

func TestCompat_Knex(t *testing.T) {
	knexBin := requireTool(t, "knex")
	dsn := freshDatabase(t)
	project := t.TempDir()
	dir := filepath.Join(project, "migrations")
	writeFiles(t, project, map[string]string{
		"knexfile.js":                           knexfile,
		"migrations/20240101000000_users.js":    knexMigration("CREATE TABLE users (id serial PRIMARY KEY)"),
		"migrations/20240102000000_email.js":    knexMigration("ALTER TABLE users ADD COLUMN email text"),
		"migrations/20240102000001_README.md":   "not a migration: Knex loads .js, .ts, .cjs, ...",
		"migrations/20240102000002_notes.mjs":   "export const up = () => {}; // not loaded by default",
		"migrations/20240102000003_fixture.txt": "",
	})
	env := knexEnv(t, knexBin, dsn, "")
	knexCmd := func(args ...string) (string, error) { return tool(t, project, env, knexBin, args...) }
	opts := Options{Dir: dir}

	mustTool(t, project, env, knexBin, "migrate:latest")
	expect(t, dsn, opts, expectation{tool: "knex", applied: 2})

	writeFiles(t, dir, map[string]string{"20240103000000_index.js": knexMigration("CREATE INDEX users_email ON users (email)")})
	expect(t, dsn, opts, expectation{reason: ReasonPending, tool: "knex", applied: 2, pending: []string{"20240103000000_index.js"}})

	// A batch is one transaction: the failing file takes the good one
	// before it down too, and Knex records nothing for either.
	writeFiles(t, dir, map[string]string{"20240104000000_broken.js": knexMigration("ALTER TABLE no_such_table ADD COLUMN x int")})
	if out, err := knexCmd("migrate:latest"); err == nil || !strings.Contains(out, "no_such_table") {
		t.Fatalf("the broken migration did not fail (%v):\n%s", err, out)
	}
	expect(t, dsn, opts, expectation{reason: ReasonPending, tool: "knex", applied: 2,
		pending: []string{"20240103000000_index.js", "20240104000000_broken.js"}})

	// Without a transaction Knex commits its lock first; a run killed in
	// the middle leaves it held, and Knex refuses to run until unlocked.
	os.Remove(filepath.Join(dir, "20240104000000_broken.js"))
	writeFiles(t, dir, map[string]string{"20240104000000_slow.js": knexMigration("SELECT pg_sleep(60)", "exports.config = { transaction: false };")})
	cmd := exec.Command(knexBin, "migrate:latest")
	cmd.Dir, cmd.Env = project, append(os.Environ(), env...)
	killToolDuring(t, dsn, "pg_sleep(60)", cmd)
	r := expect(t, dsn, opts, expectation{reason: ReasonLocked, tool: "knex", applied: 3, pending: []string{"20240104000000_slow.js"}, locked: true})
	if !strings.Contains(r.LockDetail, "knex_migrations_lock") {
		t.Fatalf("lock detail %q does not name the lock table", r.LockDetail)
	}
	if out, err := knexCmd("migrate:latest"); err == nil || !strings.Contains(out, "already locked") {
		t.Fatalf("knex ran with the lock held (%v):\n%s", err, out)
	}
	mustTool(t, project, env, knexBin, "migrate:unlock")
	expect(t, dsn, opts, expectation{reason: ReasonPending, tool: "knex", applied: 3, pending: []string{"20240104000000_slow.js"}})

	writeFiles(t, dir, map[string]string{"20240104000000_slow.js": knexMigration("SELECT 1")})
	mustTool(t, project, env, knexBin, "migrate:latest")
	expect(t, dsn, opts, expectation{tool: "knex", applied: 4})

	// Code rolled back while the database is ahead: informational.
	os.Remove(filepath.Join(dir, "20240101000000_users.js"))
	expect(t, dsn, opts, expectation{tool: "knex", applied: 4, unknown: []string{"20240101000000_users.js"}})
	expect(t, dsn, Options{Tool: "knex"}, expectation{tool: "knex", applied: 4})
}

func TestCompat_Knex_CustomTableName(t *testing.T) {
	knexBin := requireTool(t, "knex")
	dsn := freshDatabase(t)
	project := t.TempDir()
	writeFiles(t, project, map[string]string{
		"knexfile.js":                        knexfile,
		"migrations/20240101000000_users.js": knexMigration("CREATE TABLE users (id int)"),
	})
	env := knexEnv(t, knexBin, dsn, "app_migrations")
	mustTool(t, project, env, knexBin, "migrate:latest")
	opts := Options{Dir: filepath.Join(project, "migrations"), Table: "app_migrations"}
	expect(t, dsn, opts, expectation{tool: "knex", applied: 1})

	pgExec(t, dsn, "UPDATE app_migrations_lock SET is_locked = 1")
	expect(t, dsn, opts, expectation{reason: ReasonLocked, tool: "knex", applied: 1, locked: true})
}

// knexEnv points the knexfile at dsn (and a custom table) and lets it
// require pg from the node_modules the knex CLI was installed in.
func knexEnv(t *testing.T, knexBin, dsn, table string) []string {
	t.Helper()
	cli, err := filepath.EvalSymlinks(knexBin) // node_modules/knex/bin/cli.js
	if err != nil {
		t.Fatal(err)
	}
	env := []string{"KNEX_DSN=" + dsn, "NODE_PATH=" + filepath.Dir(filepath.Dir(filepath.Dir(cli)))}
	if table != "" {
		env = append(env, "KNEX_TABLE="+table)
	}
	return env
}

// killToolDuring starts cmd in its own process group, waits until the
// database is running a statement containing marker, then kills the whole
// group, as an OOM kill or a lost node would, and ends that statement's
// session. Migration tools leave their locks behind this way.
func killToolDuring(t *testing.T, dsn, marker string, cmd *exec.Cmd) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	const running = `SELECT count(*) FROM pg_stat_activity
		WHERE datname = current_database() AND pid <> pg_backend_pid() AND strpos(query, $1) > 0`
	for {
		var n int
		if err := conn.QueryRow(ctx, running, marker).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n > 0 {
			break
		}
		select {
		case err := <-done:
			t.Fatalf("%s exited (%v) before running %q:\n%s", filepath.Base(cmd.Path), err, marker, out.String())
		case <-ctx.Done():
			t.Fatalf("%s never ran %q:\n%s", filepath.Base(cmd.Path), marker, out.String())
		case <-time.After(100 * time.Millisecond):
		}
	}
	if err := syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-done
	if _, err := conn.Exec(ctx, `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
		WHERE datname = current_database() AND pid <> pg_backend_pid()`); err != nil {
		t.Fatal(err)
	}
}
