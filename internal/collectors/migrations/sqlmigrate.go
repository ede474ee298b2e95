package migrations

import (
	"bufio"
	"bytes"
	"cmp"
	"context"
	"io/fs"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/jackc/pgx/v5"
)

// sqlMigrate is github.com/rubenv/sql-migrate: every *.sql file is a
// migration, with "-- +migrate Up" / "-- +migrate Down" sections; files
// with a numeric prefix come first, by that number, then the others by
// name. gorp_migrations(id text PK, applied_at timestamptz) gets one row
// per applied migration whose id is the full file name ("1_init.sql").
// Each migration runs in its own transaction: a failed one records nothing
// and shows as pending. sql-migrate has no lock table.
type sqlMigrate struct{}

func (sqlMigrate) Name() string          { return "sql-migrate" }
func (sqlMigrate) Tables() []string      { return []string{"gorp_migrations"} }
func (sqlMigrate) DefaultSchema() string { return "" }

// Detect recognises gorp_migrations' columns.
func (sqlMigrate) Detect(_ *Catalog, t Table) bool {
	return t.Columns["id"] != "" && t.Columns["applied_at"] != ""
}

// ParseFiles lists the migrations in sql-migrate's order. Like sql-migrate,
// which then refuses to run anything, it rejects a file without an Up or
// Down section and a numeric prefix beyond int64.
func (sqlMigrate) ParseFiles(fsys fs.FS) ([]Migration, error) {
	entries, err := fs.ReadDir(fsys, ".")
	if err != nil {
		return nil, err
	}
	var out []Migration
	for _, e := range entries {
		name := e.Name()
		if !strings.HasSuffix(name, ".sql") {
			continue
		}
		if e.IsDir() {
			return nil, &InvalidFileError{name, "a directory named like a migration"}
		}
		if _, _, err := sqlMigrateNumber(name); err != nil {
			return nil, &InvalidFileError{name, "numeric prefix does not fit an int64"}
		}
		content, err := fs.ReadFile(fsys, name)
		if err != nil {
			return nil, err
		}
		if msg := sqlMigrateCheckSections(content); msg != "" {
			return nil, &InvalidFileError{name, msg}
		}
		out = append(out, Migration{Version: name, Name: cmp.Or(strings.TrimSuffix(name, ".sql"), name)})
	}
	slices.SortFunc(out, func(a, b Migration) int { return sqlMigrateCompare(a.Version, b.Version) })
	return out, nil
}

var sqlMigrateNumberPrefix = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^(\d+)`) })

// sqlMigrateNumber returns the numeric prefix of a migration id, and
// whether it has one.
func sqlMigrateNumber(id string) (n int64, numeric bool, err error) {
	m := sqlMigrateNumberPrefix().FindString(id)
	if m == "" {
		return 0, false, nil
	}
	n, err = strconv.ParseInt(m, 10, 64)
	return n, true, err
}

// sqlMigrateCompare is sql-migrate's order of ids: numeric prefixes first,
// by number; equal numbers and non-numeric ids by string.
func sqlMigrateCompare(a, b string) int {
	na, aNumeric, errA := sqlMigrateNumber(a)
	nb, bNumeric, errB := sqlMigrateNumber(b)
	switch {
	case aNumeric && bNumeric && errA == nil && errB == nil && na != nb:
		if na < nb {
			return -1
		}
		return 1
	case aNumeric && !bNumeric:
		return -1
	case !aNumeric && bNumeric:
		return 1
	}
	return strings.Compare(a, b)
}

// sqlMigrateCheckSections says why sql-migrate's parser would reject a
// file for its "-- +migrate" commands: an empty command, or neither an Up
// nor a Down section. "" if it would not. (It does not check statements.)
func sqlMigrateCheckSections(content []byte) string {
	scanner := bufio.NewScanner(bytes.NewReader(content))
	scanner.Buffer(make([]byte, 0, 64*1024), 1024*1024) // sql-migrate's line limit
	sections := false
	for scanner.Scan() {
		command, ok := strings.CutPrefix(scanner.Text(), "-- +migrate ")
		if !ok {
			continue
		}
		fields := strings.Fields(command)
		if len(fields) == 0 {
			return "incomplete '-- +migrate' command"
		}
		if fields[0] == "Up" || fields[0] == "Down" {
			sections = true
		}
	}
	switch {
	case scanner.Err() != nil:
		return scanner.Err().Error()
	case !sections:
		return "no '-- +migrate Up' or '-- +migrate Down' section"
	}
	return ""
}

// Status reads the applied ids, in sql-migrate's order.
func (sqlMigrate) Status(ctx context.Context, db Querier, loc Location, disk []Migration) (Report, error) {
	rows, err := db.Query(ctx, "SELECT id FROM "+loc.Main())
	if err != nil {
		return Report{}, err
	}
	applied, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (Row, error) {
		var id string
		err := row.Scan(&id)
		return Row{Version: id, Name: cmp.Or(strings.TrimSuffix(id, ".sql"), id)}, err
	})
	if err != nil {
		return Report{}, err
	}
	slices.SortFunc(applied, func(a, b Row) int { return sqlMigrateCompare(a.Version, b.Version) })
	return compareRows(disk, applied), nil
}
