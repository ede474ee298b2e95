package migrations

import (
	"context"
	"io/fs"
	"regexp"
	"slices"
	"strings"
	"sync"

	"github.com/jackc/pgx/v5"
)

// dbmate is github.com/amacneil/dbmate: files <digits><anything>.sql
// (usually <timestamp>_<name>.sql) with "-- migrate:up" / "-- migrate:down"
// sections, in file-name order. schema_migrations(version varchar PK) gets
// one row per applied migration holding the leading digits exactly as
// written ("001" stays "001"). Migrations apply one by one, each in its
// own transaction by default: a failed one records nothing and shows as
// pending. dbmate has no lock table.
//
// golang-migrate and Rails use a table of the same name: golang-migrate's
// version is a bigint, and Rails keeps ar_internal_metadata beside it.
type dbmate struct{}

func (dbmate) Name() string          { return "dbmate" }
func (dbmate) Tables() []string      { return []string{"schema_migrations"} }
func (dbmate) DefaultSchema() string { return "" }

// Detect takes a table of exactly one varchar version column (a renamed
// Flyway or Liquibase table has more) with no Rails ar_internal_metadata
// beside it.
func (dbmate) Detect(cat *Catalog, t Table) bool {
	return len(t.Columns) == 1 && t.Columns["version"] == "character varying" &&
		!cat.Has(railsMetadataTable(t.Name), t.Schema)
}

var dbmateFile = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^(\d+).*\.sql$`) })

// ParseFiles lists the migrations in dbmate's order: by file name, as
// fs.ReadDir returns them.
func (dbmate) ParseFiles(fsys fs.FS) ([]Migration, error) {
	entries, err := fs.ReadDir(fsys, ".")
	if err != nil {
		return nil, err
	}
	var out []Migration
	for _, e := range entries {
		m := dbmateFile().FindStringSubmatch(e.Name())
		if e.IsDir() || m == nil {
			continue
		}
		out = append(out, Migration{Version: m[1], Name: strings.TrimSuffix(e.Name(), ".sql")})
	}
	return out, nil
}

// Status reads the applied versions.
func (dbmate) Status(ctx context.Context, db Querier, loc Location, disk []Migration) (Report, error) {
	rows, err := dbmateVersions(ctx, db, loc, func(v string) string { return v })
	if err != nil {
		return Report{}, err
	}
	return compareRows(disk, rows), nil
}

// dbmateVersions reads the version column of a schema_migrations table
// (dbmate's or Rails'), passes each through normalize and returns them in
// natural version order, so the last is the highest applied.
func dbmateVersions(ctx context.Context, db Querier, loc Location, normalize func(string) string) ([]Row, error) {
	rows, err := db.Query(ctx, "SELECT version FROM "+loc.Main())
	if err != nil {
		return nil, err
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (Row, error) {
		var version string
		err := row.Scan(&version)
		return Row{Version: normalize(version)}, err
	})
	if err != nil {
		return nil, err
	}
	slices.SortFunc(out, func(a, b Row) int { return compareVersions(a.Version, b.Version) })
	return out, nil
}
