package migrations

import (
	"context"
	"io/fs"
	"path"
	"slices"
	"strings"

	"github.com/jackc/pgx/v5"
)

// django is Django's migration framework. --migrations.dir is the project
// root; every directory named migrations below it holds the migrations of
// the app named by its parent directory (<app>/migrations/0001_initial.py),
// each Python module not starting with _ or ~ being one migration, as
// Django's loader has it. The history is django_migrations(id, app, name,
// applied), one row per applied migration, recorded as "app.name". Each
// migration runs in its own transaction on PostgreSQL: a failure records
// nothing and the migration stays pending. There are no checksums and no
// dirty state; the table name is fixed.
//
// Pending migrations are listed per app in file-name order; the dependency
// graph across apps is not followed, which changes only the order of the
// list. Rows of apps that have no migrations directory under the project
// root (django.contrib.auth, third-party apps) are ignored, not unknown, so
// the check can watch a project's own apps; a row of an app that has
// migrations on disk but not this one is unknown. Squashed migrations'
// replaces lists are not read.
type django struct{}

func (django) Name() string          { return "django" }
func (django) Tables() []string      { return []string{"django_migrations"} }
func (django) DefaultSchema() string { return "" }

// Detect requires Django's three columns.
func (django) Detect(_ *Catalog, t Table) bool {
	_, app := t.Columns["app"]
	_, name := t.Columns["name"]
	_, applied := t.Columns["applied"]
	return app && name && applied
}

// ParseFiles finds every app's migrations, ordered by app, then by name
// (naturally: 0002 before 0010).
func (django) ParseFiles(fsys fs.FS) ([]Migration, error) {
	var out []Migration
	apps := map[string]string{} // label -> directory, to catch duplicates
	err := fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() || p == "." {
			return nil
		}
		// Virtual environments and installed packages carry migrations of
		// apps the project may not use (see skipDir).
		if skipDir(d.Name()) {
			return fs.SkipDir
		}
		if d.Name() != "migrations" || path.Dir(p) == "." {
			return nil
		}
		app := path.Base(path.Dir(p))
		if prev, dup := apps[app]; dup {
			return &InvalidFileError{p, "app label " + app + " is also " + prev + " (Django needs unique labels)"}
		}
		apps[app] = p
		names, err := djangoMigrationNames(fsys, p)
		if err != nil {
			return err
		}
		for _, name := range names {
			out = append(out, Migration{Version: app + "." + name, Name: app + "." + name})
		}
		return fs.SkipDir
	})
	if err != nil {
		return nil, err
	}
	slices.SortStableFunc(out, func(a, b Migration) int {
		appA, nameA, _ := strings.Cut(a.Version, ".")
		appB, nameB, _ := strings.Cut(b.Version, ".")
		if c := strings.Compare(appA, appB); c != 0 {
			return c
		}
		return compareVersions(nameA, nameB)
	})
	return out, nil
}

// djangoMigrationNames lists the migration modules in one migrations
// directory.
func djangoMigrationNames(fsys fs.FS, dir string) ([]string, error) {
	entries, err := fs.ReadDir(fsys, dir)
	if err != nil {
		return nil, err
	}
	var names []string
	for _, e := range entries {
		name, ok := strings.CutSuffix(e.Name(), ".py")
		if e.IsDir() || !ok || strings.HasPrefix(name, "_") || strings.HasPrefix(name, "~") {
			continue
		}
		names = append(names, name)
	}
	return names, nil
}

// Status reads the rows in the order they were applied.
func (django) Status(ctx context.Context, db Querier, loc Location, disk []Migration) (Report, error) {
	rows, err := db.Query(ctx, "SELECT app, name FROM "+loc.Main()+" ORDER BY id")
	if err != nil {
		return Report{}, err
	}
	history, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (Row, error) {
		var app, name string
		err := row.Scan(&app, &name)
		return Row{Version: app + "." + name}, err
	})
	if err != nil {
		return Report{}, err
	}
	return compareRows(disk, djangoOwnRows(disk, history)), nil
}

// djangoOwnRows keeps the rows of apps that have migrations on disk; with
// no directory configured every row counts.
func djangoOwnRows(disk []Migration, rows []Row) []Row {
	if disk == nil {
		return rows
	}
	apps := map[string]bool{}
	for _, m := range disk {
		app, _, _ := strings.Cut(m.Version, ".")
		apps[app] = true
	}
	var own []Row
	for _, r := range rows {
		if app, _, _ := strings.Cut(r.Version, "."); apps[app] {
			own = append(own, r)
		}
	}
	return own
}
