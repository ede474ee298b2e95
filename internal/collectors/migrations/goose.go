package migrations

import (
	"context"
	"io/fs"
	"path"
	"slices"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
)

// goose is github.com/pressly/goose: files <version>_<name>.sql (or .go,
// compiled into a custom goose binary), the version a positive int64, in
// version order. goose_db_version(id, version_id bigint, is_applied bool,
// tstamp) gets one row per applied migration after a bootstrap row with
// version_id 0; `down` deletes the row (goose v2 inserted is_applied =
// false instead, so the newest row of a version decides). An older file
// can be applied after newer ones with -allow-missing, so the history is
// a set, not a cursor. goose records no failure: a failed migration inside
// its transaction (the default) leaves no row and shows as pending; one
// marked NO TRANSACTION may be half-applied and still shows as pending.
type goose struct{}

func (goose) Name() string          { return "goose" }
func (goose) Tables() []string      { return []string{"goose_db_version"} }
func (goose) DefaultSchema() string { return "" }

// Detect recognises goose's columns.
func (goose) Detect(_ *Catalog, t Table) bool {
	return t.Columns["version_id"] == "bigint" && t.Columns["is_applied"] == "boolean"
}

// ParseFiles lists the .sql and .go migrations in version order. As in
// goose, a .sql file whose name has no valid version is an error, while a
// .go file without one (a helper) or a _test.go file is not a migration.
func (goose) ParseFiles(fsys fs.FS) ([]Migration, error) {
	entries, err := fs.ReadDir(fsys, ".")
	if err != nil {
		return nil, err
	}
	var out []Migration
	seen := map[int64]string{}
	for _, e := range entries {
		name, ext := e.Name(), path.Ext(e.Name())
		if e.IsDir() || (ext != ".sql" && ext != ".go") || strings.HasSuffix(name, "_test.go") {
			continue
		}
		v, msg := gooseVersion(name)
		if msg != "" {
			if ext == ".go" {
				continue
			}
			return nil, &InvalidFileError{name, msg}
		}
		if prev, dup := seen[v]; dup {
			return nil, &InvalidFileError{name, "duplicate version " + strconv.FormatInt(v, 10) + " (also " + prev + ")"}
		}
		seen[v] = name
		out = append(out, Migration{Version: strconv.FormatInt(v, 10), Name: strings.TrimSuffix(name, ext)})
	}
	slices.SortFunc(out, func(a, b Migration) int { return compareVersions(a.Version, b.Version) })
	return out, nil
}

// gooseVersion is goose's NumericComponent: the int64 before the first
// "_", greater than zero. msg says why a name has none.
func gooseVersion(name string) (v int64, msg string) {
	prefix, _, ok := strings.Cut(name, "_")
	if !ok {
		return 0, "no '_' after the version"
	}
	v, err := strconv.ParseInt(prefix, 10, 64)
	switch {
	case err != nil:
		return 0, "version " + strconv.Quote(prefix) + " is not an int64"
	case v < 1:
		return 0, "version must be greater than zero"
	}
	return v, ""
}

// Status reads the newest row of every version but the bootstrap row 0;
// the versions whose newest row is applied are applied, reported in
// version order (so the latest applied is the highest, also after
// -allow-missing).
func (goose) Status(ctx context.Context, db Querier, loc Location, disk []Migration) (Report, error) {
	rows, err := db.Query(ctx, `SELECT DISTINCT ON (version_id) version_id, is_applied FROM `+loc.Main()+`
		WHERE version_id <> 0 ORDER BY version_id, id DESC`)
	if err != nil {
		return Report{}, err
	}
	var applied []Row
	var version int64
	var isApplied bool
	_, err = pgx.ForEachRow(rows, []any{&version, &isApplied}, func() error {
		if isApplied {
			applied = append(applied, Row{Version: strconv.FormatInt(version, 10)})
		}
		return nil
	})
	if err != nil {
		return Report{}, err
	}
	return compareRows(disk, applied), nil
}
