package migrations

import (
	"errors"
	"slices"
	"testing"
	"testing/fstest"
)

func TestDjango_ParseFiles_FindsEveryAppsMigrationsInOrder(t *testing.T) {
	fsys := fstest.MapFS{
		"manage.py":                               {},
		"shop/models.py":                          {},
		"shop/migrations/__init__.py":             {},
		"shop/migrations/0010_later.py":           {},
		"shop/migrations/0002_add_price.py":       {},
		"shop/migrations/0001_initial.py":         {},
		"shop/migrations/~0003_backup.py":         {},
		"shop/migrations/README.md":               {},
		"shop/migrations/__pycache__/x.pyc":       {},
		"src/accounts/migrations/0001_initial.py": {},
		".venv/lib/python3.11/site-packages/django/contrib/auth/migrations/0001_initial.py": {},
		"vendor/site-packages/other/migrations/0001_initial.py":                             {},
		"migrations/0001_top_level.py":                                                      {}, // no app above it
	}
	got, err := django{}.ParseFiles(fsys)
	if err != nil {
		t.Fatal(err)
	}
	var versions []string
	for _, m := range got {
		if m.Name != m.Version {
			t.Errorf("name %q differs from version %q", m.Name, m.Version)
		}
		versions = append(versions, m.Version)
	}
	want := []string{"accounts.0001_initial", "shop.0001_initial", "shop.0002_add_price", "shop.0010_later"}
	if !slices.Equal(versions, want) {
		t.Fatalf("got %v, want %v", versions, want)
	}
}

func TestDjango_ParseFiles_RejectsDuplicateAppLabels(t *testing.T) {
	fsys := fstest.MapFS{
		"a/shop/migrations/0001_initial.py": {},
		"b/shop/migrations/0001_initial.py": {},
	}
	var invalid *InvalidFileError
	if _, err := (django{}).ParseFiles(fsys); !errors.As(err, &invalid) {
		t.Fatalf("two apps labelled shop: %v", err)
	}
}

func TestDjango_RowsOfAppsWithoutDirectoryAreIgnored(t *testing.T) {
	disk := []Migration{{Version: "shop.0001_initial", Name: "shop.0001_initial"}, {Version: "shop.0002_add_price", Name: "shop.0002_add_price"}}
	rows := []Row{{Version: "contenttypes.0001_initial"}, {Version: "shop.0001_initial"}, {Version: "auth.0001_initial"}, {Version: "shop.0009_gone"}}
	r := compareRows(disk, djangoOwnRows(disk, rows))
	if r.AppliedCount != 2 || !slices.Equal(r.Pending, []string{"shop.0002_add_price"}) || !slices.Equal(r.Unknown, []string{"shop.0009_gone"}) {
		t.Fatalf("%+v", r)
	}
	if got := djangoOwnRows(nil, rows); len(got) != 4 {
		t.Fatalf("without a directory every row counts: %v", got)
	}
}

func TestDjango_DetectsItsColumns(t *testing.T) {
	own := Table{Name: "django_migrations", Columns: map[string]string{"id": "bigint", "app": "character varying", "name": "character varying", "applied": "timestamp with time zone"}}
	if !(django{}).Detect(&Catalog{}, own) || (django{}).Detect(&Catalog{}, Table{Columns: map[string]string{"name": "text"}}) {
		t.Fatal("django_migrations is recognised by app, name and applied")
	}
}
