package migrations

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// TestCompat_Django lets Debian's Django 3.2 (`/usr/bin/python3 manage.py
// migrate`) migrate a throwaway database from a minimal project: settings
// with the app "shop" and django.contrib.contenttypes, whose rows must not
// count as unknown since the project has no directory for it. The project
// root is --migrations.dir.
func TestCompat_Django(t *testing.T) {
	python := requireTool(t, "/usr/bin/python3")
	if out, err := tool(t, t.TempDir(), nil, python, "-c", "import django, psycopg2"); err != nil {
		t.Fatalf("Django or psycopg2 is missing for /usr/bin/python3: run `make tools` (.ci/install-tools)\n%s", out)
	}
	dsn := freshDatabase(t)
	root := djangoProject(t)
	run := func(args ...string) (string, error) {
		env := []string{"DJANGO_TEST_URL=" + dsn, "PATH=/usr/bin:/bin:" + os.Getenv("PATH")}
		return tool(t, root, env, python, append([]string{"manage.py"}, args...)...)
	}
	must := func(args ...string) {
		t.Helper()
		if out, err := run(args...); err != nil {
			t.Fatalf("manage.py %v: %v\n%s", args, err, out)
		}
	}
	opts := Options{Dir: root}

	must("migrate", "shop", "0001")
	expect(t, dsn, opts, expectation{reason: ReasonPending, tool: "django", applied: 1, pending: []string{"shop.0002_add_price"}})
	must("migrate")
	expect(t, dsn, opts, expectation{tool: "django", applied: 2})

	// Each migration is atomic on PostgreSQL: a failing one records
	// nothing (Django has no dirty state), so it is pending.
	writeFiles(t, root, map[string]string{
		"shop/migrations/0003_broken.py": djangoMigrationFile("0002_add_price", "ALTER TABLE no_such_table ADD COLUMN x int"),
	})
	if out, err := run("migrate"); err == nil {
		t.Fatalf("the broken migration applied:\n%s", out)
	}
	expect(t, dsn, opts, expectation{reason: ReasonPending, tool: "django", applied: 2, pending: []string{"shop.0003_broken"}})
	os.Remove(filepath.Join(root, "shop", "migrations", "0003_broken.py"))

	// Code rolled back while the database is ahead: unknown, informational.
	os.Remove(filepath.Join(root, "shop", "migrations", "0002_add_price.py"))
	expect(t, dsn, opts, expectation{tool: "django", applied: 2, unknown: []string{"shop.0002_add_price"}})

	// Without a directory every row counts, contenttypes' too.
	expect(t, dsn, Options{}, expectation{tool: "django", applied: 4})
}

// djangoProject writes manage.py, settings reading the DSN from the
// environment, and the app shop with two migrations.
func djangoProject(t *testing.T) string {
	t.Helper()
	root := t.TempDir()
	writeFiles(t, root, map[string]string{
		"manage.py": `import os, sys
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "settings")
from django.core.management import execute_from_command_line
execute_from_command_line(sys.argv)
`,
		"settings.py": `import os
from urllib.parse import urlparse

url = urlparse(os.environ["DJANGO_TEST_URL"])
SECRET_KEY = "test"
USE_TZ = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
INSTALLED_APPS = ["django.contrib.contenttypes", "shop"]
DATABASES = {"default": {
    "ENGINE": "django.db.backends.postgresql",
    "NAME": url.path.lstrip("/"),
    "USER": url.username,
    "PASSWORD": url.password or "",
    "HOST": url.hostname,
    "PORT": str(url.port),
}}
`,
		"shop/__init__.py":                  "",
		"shop/models.py":                    "",
		"shop/migrations/__init__.py":       "",
		"shop/migrations/0001_initial.py":   djangoMigrationFile("", "CREATE TABLE shop_item (id serial PRIMARY KEY)"),
		"shop/migrations/0002_add_price.py": djangoMigrationFile("0001_initial", "ALTER TABLE shop_item ADD COLUMN price numeric"),
	})
	return root
}

// djangoMigrationFile is a migration of app shop running sql after parent
// ("" for the first).
func djangoMigrationFile(parent, sql string) string {
	deps := "[]"
	if parent != "" {
		deps = fmt.Sprintf("[(%q, %q)]", "shop", parent)
	}
	return fmt.Sprintf(`from django.db import migrations


class Migration(migrations.Migration):
    dependencies = %s
    operations = [migrations.RunSQL(%q)]
`, deps, sql)
}
