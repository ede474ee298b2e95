package migrations

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestCompat_Alembic lets Debian's Alembic 1.8 (run by /usr/bin/python3, not
// a pyenv python earlier on PATH) upgrade a throwaway database through a
// minimal environment: alembic.ini, an env.py reading the URL from the
// environment, and a versions directory, which is --migrations.dir.
func TestCompat_Alembic(t *testing.T) {
	bin := requireTool(t, "/usr/bin/alembic")
	dsn := freshDatabase(t)
	root, versions := alembicProject(t)
	run := func(env []string, args ...string) (string, error) {
		env = append(env, "ALEMBIC_TEST_URL="+alembicURL(dsn), "PATH=/usr/bin:/bin:"+os.Getenv("PATH"))
		return tool(t, root, env, bin, args...)
	}
	must := func(args ...string) {
		t.Helper()
		if out, err := run(nil, args...); err != nil {
			t.Fatalf("alembic %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	writeFiles(t, versions, map[string]string{
		"3f2a1c5d7e01_create_users.py": alembicRevisionFile("3f2a1c5d7e01", "None", "CREATE TABLE users (id serial PRIMARY KEY)"),
		"8b4e6d0a9c12_add_email.py":    alembicRevisionFile("8b4e6d0a9c12", "'3f2a1c5d7e01'", "ALTER TABLE users ADD COLUMN email text"),
		"c71d2e5f3a40_add_index.py":    alembicRevisionFile("c71d2e5f3a40", "'8b4e6d0a9c12'", "CREATE INDEX users_email ON users (email)"),
	})
	opts := Options{Dir: versions}

	must("upgrade", "8b4e6d0a9c12")
	expect(t, dsn, opts, expectation{reason: ReasonPending, tool: "alembic", applied: 2, pending: []string{"c71d2e5f3a40_add_index"}})
	must("upgrade", "head")
	expect(t, dsn, opts, expectation{tool: "alembic", applied: 3})

	// The whole upgrade is one transaction on PostgreSQL: a failing revision
	// leaves nothing recorded (Alembic has no dirty state), so it is pending.
	writeFiles(t, versions, map[string]string{
		"d00dbad00001_broken.py": alembicRevisionFile("d00dbad00001", "'c71d2e5f3a40'", "ALTER TABLE no_such_table ADD COLUMN x int"),
	})
	if out, err := run(nil, "upgrade", "head"); err == nil {
		t.Fatalf("the broken revision applied:\n%s", out)
	}
	expect(t, dsn, opts, expectation{reason: ReasonPending, tool: "alembic", applied: 3, pending: []string{"d00dbad00001_broken"}})
	os.Remove(filepath.Join(versions, "d00dbad00001_broken.py"))

	// Two branches from the same parent: alembic_version holds two heads.
	writeFiles(t, versions, map[string]string{
		"a5a5a5a5a5a5_branch_orders.py": alembicRevisionFile("a5a5a5a5a5a5", "'c71d2e5f3a40'", "CREATE TABLE orders (id serial)"),
		"b5b5b5b5b5b5_branch_items.py":  alembicRevisionFile("b5b5b5b5b5b5", "'c71d2e5f3a40'", "CREATE TABLE items (id serial)"),
	})
	must("upgrade", "heads")
	r := expect(t, dsn, opts, expectation{tool: "alembic", applied: 5})
	if r.LatestApplied != "a5a5a5a5a5a5,b5b5b5b5b5b5" {
		t.Fatalf("two heads recorded, latest applied %q", r.LatestApplied)
	}

	// A merge revision (a tuple down_revision) is pending until upgraded.
	writeFiles(t, versions, map[string]string{
		"e6e6e6e6e6e6_merge.py": alembicRevisionFile("e6e6e6e6e6e6", "('a5a5a5a5a5a5', 'b5b5b5b5b5b5')", "SELECT 1"),
	})
	expect(t, dsn, opts, expectation{reason: ReasonPending, tool: "alembic", applied: 5, pending: []string{"e6e6e6e6e6e6_merge"}})
	must("upgrade", "head")
	expect(t, dsn, opts, expectation{tool: "alembic", applied: 6})

	// Code rolled back while the database is ahead: the recorded head is
	// unknown, informational unless asked to fail.
	os.Remove(filepath.Join(versions, "e6e6e6e6e6e6_merge.py"))
	expect(t, dsn, opts, expectation{tool: "alembic", applied: 6, unknown: []string{"e6e6e6e6e6e6"}})
	if res, _ := check(t, dsn, Options{Dir: versions, FailOnUnknown: true}); res.Reason != ReasonUnknown {
		t.Fatalf("FailOnUnknown: %s %v", res.Reason, res.Err)
	}
	expect(t, dsn, Options{}, expectation{tool: "alembic", applied: 1})

	// env.py's version_table renames the table; --migrations.table finds it.
	custom := freshDatabase(t)
	env := []string{"ALEMBIC_VERSION_TABLE=deploy_versions"}
	if out, err := tool(t, root, append(env, "ALEMBIC_TEST_URL="+alembicURL(custom), "PATH=/usr/bin:/bin:"+os.Getenv("PATH")), bin, "upgrade", "heads"); err != nil {
		t.Fatalf("alembic upgrade with version_table: %v\n%s", err, out)
	}
	expect(t, custom, Options{Dir: versions, Table: "deploy_versions"}, expectation{tool: "alembic", applied: 5})
}

// alembicProject writes alembic.ini and env.py into a new directory and
// returns it with its (empty) versions directory.
func alembicProject(t *testing.T) (root, versions string) {
	t.Helper()
	root = t.TempDir()
	writeFiles(t, root, map[string]string{
		"alembic.ini": "[alembic]\nscript_location = migrations\n",
		"migrations/env.py": `import os
from alembic import context
from sqlalchemy import create_engine

engine = create_engine(os.environ["ALEMBIC_TEST_URL"])
with engine.connect() as connection:
    context.configure(
        connection=connection,
        version_table=os.environ.get("ALEMBIC_VERSION_TABLE", "alembic_version"),
    )
    with context.begin_transaction():
        context.run_migrations()
`,
		"migrations/script.py.mako": "revision = ${repr(up_revision)}\ndown_revision = ${repr(down_revision)}\n",
	})
	versions = filepath.Join(root, "migrations", "versions")
	if err := os.MkdirAll(versions, 0o755); err != nil {
		t.Fatal(err)
	}
	return root, versions
}

// alembicRevisionFile is a revision in the layout of Alembic 1.13's
// template (annotated assignments); down is a Python expression.
func alembicRevisionFile(rev, down, sql string) string {
	return fmt.Sprintf(`"""%s

Revision ID: %s
"""
from typing import Sequence, Union

from alembic import op

revision: str = %q
down_revision: Union[str, Sequence[str], None] = %s
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(%q)


def downgrade() -> None:
    pass
`, sql, rev, rev, down, sql)
}

// alembicURL turns the test DSN into an SQLAlchemy URL (SQLAlchemy 1.4
// does not accept the postgres:// scheme).
func alembicURL(dsn string) string {
	return "postgresql://" + strings.TrimPrefix(dsn, "postgres://")
}
