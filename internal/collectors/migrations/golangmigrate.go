package migrations

import (
	"context"
	"errors"
	"io/fs"
	"regexp"
	"slices"
	"strconv"
	"sync"

	"github.com/jackc/pgx/v5"
)

// golangMigrate is github.com/golang-migrate/migrate: files
// <version>_<title>.up.<ext>, and one row (version bigint, dirty boolean)
// holding the latest version applied. A failed migration leaves its
// version with dirty = true.
type golangMigrate struct{}

func (golangMigrate) Name() string          { return "golang-migrate" }
func (golangMigrate) Tables() []string      { return []string{"schema_migrations"} }
func (golangMigrate) DefaultSchema() string { return "" }

// Detect tells golang-migrate's schema_migrations from dbmate's and Rails'
// by its columns: a bigint version and a dirty flag.
func (golangMigrate) Detect(_ *Catalog, t Table) bool {
	return t.Columns["version"] == "bigint" && t.Columns["dirty"] == "boolean"
}

var golangMigrateFile = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^([0-9]+)_(.*)\.(up|down)\.(.*)$`) })

// ParseFiles lists the up migrations in version order.
func (golangMigrate) ParseFiles(fsys fs.FS) ([]Migration, error) {
	entries, err := fs.ReadDir(fsys, ".")
	if err != nil {
		return nil, err
	}
	var out []Migration
	seen := map[uint64]string{}
	for _, e := range entries {
		m := golangMigrateFile().FindStringSubmatch(e.Name())
		if e.IsDir() || m == nil || m[3] != "up" {
			continue
		}
		v, err := strconv.ParseUint(m[1], 10, 64)
		if err != nil {
			return nil, &InvalidFileError{e.Name(), "version is not a number golang-migrate accepts"}
		}
		if prev, dup := seen[v]; dup {
			return nil, &InvalidFileError{e.Name(), "duplicate version " + m[1] + " (also " + prev + ")"}
		}
		seen[v] = e.Name()
		out = append(out, Migration{Version: strconv.FormatUint(v, 10), Name: m[1] + "_" + m[2]})
	}
	slices.SortFunc(out, func(a, b Migration) int { return compareVersions(a.Version, b.Version) })
	return out, nil
}

// Status reads the single row; an empty table means nothing is applied.
func (golangMigrate) Status(ctx context.Context, db Querier, loc Location, disk []Migration) (Report, error) {
	var version int64
	var dirty bool
	err := db.QueryRow(ctx, "SELECT version, dirty FROM "+loc.Main()+" LIMIT 1").Scan(&version, &dirty)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return compareCursor(disk, "", false), nil
	case err != nil:
		return Report{}, err
	}
	return compareCursor(disk, strconv.FormatInt(version, 10), dirty), nil
}
