package migrations

import (
	"context"
	"io/fs"
	"math"
	"path"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"

	"github.com/jackc/pgx/v5"
)

// nodePgMigrate is node-pg-migrate (salsita/node-pg-migrate): every file of
// the migrations directory not starting with a dot is a migration (.js,
// .ts, or .sql with "-- Up Migration" / "-- Down Migration" sections),
// ordered by its numeric prefix (a 17-digit prefix is a UTC time,
// YYYYMMDDhhmmssSSS, compared as milliseconds with the 13-digit
// millisecond timestamps node-pg-migrate writes by default), then by name.
// pgmigrations(id serial, name varchar, run_on timestamp) gets one row per
// applied migration whose name is the file name without its extension.
// A run is one transaction by default: a failure records nothing and the
// whole run shows as pending. The table lives in the "public" schema
// unless --migrations-schema (or --schema) says otherwise. Its lock is a
// session advisory lock, which dies with the session, so it is not read.
type nodePgMigrate struct{}

func (nodePgMigrate) Name() string          { return "node-pg-migrate" }
func (nodePgMigrate) Tables() []string      { return []string{"pgmigrations"} }
func (nodePgMigrate) DefaultSchema() string { return "public" }

// Detect recognises pgmigrations' columns.
func (nodePgMigrate) Detect(_ *Catalog, t Table) bool {
	return t.Columns["name"] != "" && t.Columns["run_on"] != ""
}

// ParseFiles lists the migrations in node-pg-migrate's order. Like
// node-pg-migrate, which cannot order them, it rejects a file without a
// numeric prefix; it also rejects two files with the same name but for the
// extension, which would record the same row.
func (nodePgMigrate) ParseFiles(fsys fs.FS) ([]Migration, error) {
	entries, err := fs.ReadDir(fsys, ".")
	if err != nil {
		return nil, err
	}
	var files []nodePgMigrateFile
	seen := map[string]string{}
	for _, e := range entries {
		file := e.Name()
		if e.IsDir() || strings.HasPrefix(file, ".") {
			continue
		}
		name := strings.TrimSuffix(file, path.Ext(file))
		prefix, ok := nodePgMigratePrefix(file)
		if !ok {
			return nil, &InvalidFileError{file, "no numeric prefix: node-pg-migrate cannot order it"}
		}
		if prev, dup := seen[name]; dup {
			return nil, &InvalidFileError{file, "same migration name " + name + " as " + prev}
		}
		seen[name] = file
		files = append(files, nodePgMigrateFile{name: name, file: file, prefix: prefix})
	}
	slices.SortStableFunc(files, nodePgMigrateCompare)
	out := make([]Migration, len(files))
	for i, f := range files {
		out[i] = Migration{Version: f.name, Name: f.name}
	}
	return out, nil
}

type nodePgMigrateFile struct {
	name, file string
	prefix     float64 // NaN when a 17-digit prefix is not a valid time
}

var nodePgMigrateDigits = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^\d+`) })

// nodePgMigratePrefix is getNumericPrefix: the leading digits as a number,
// or, for exactly 17 digits, the UTC time they spell in milliseconds.
func nodePgMigratePrefix(file string) (float64, bool) {
	digits := nodePgMigrateDigits().FindString(file)
	if digits == "" {
		return 0, false
	}
	if len(digits) == 17 {
		t, err := time.Parse("20060102150405.000", digits[:14]+"."+digits[14:])
		if err != nil {
			return math.NaN(), true
		}
		return float64(t.UnixMilli()), true
	}
	v, err := strconv.ParseFloat(digits, 64)
	if err != nil { // beyond float64: JavaScript's Number gives Infinity
		return math.Inf(1), true
	}
	return v, true
}

// nodePgMigrateCompare is compareMigrationFileNames: numeric prefix first;
// when the prefixes are equal (or not comparable) the file names, compared
// as String.localeCompare with numeric collation and punctuation ignored
// does, approximated here by a natural, case-insensitive comparison of the
// letters and digits.
func nodePgMigrateCompare(a, b nodePgMigrateFile) int {
	if d := a.prefix - b.prefix; d < 0 {
		return -1
	} else if d > 0 {
		return 1
	}
	ka, kb := nodePgMigrateCollationKey(a.file), nodePgMigrateCollationKey(b.file)
	if c := compareVersions(strings.ToLower(ka), strings.ToLower(kb)); c != 0 {
		return c
	}
	return strings.Compare(a.file, b.file)
}

// nodePgMigrateCollationKey drops what localeCompare's ignorePunctuation
// ignores: punctuation, symbols and spaces.
func nodePgMigrateCollationKey(s string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			return r
		}
		return -1
	}, s)
}

// Status reads the applied migrations in node-pg-migrate's order.
func (nodePgMigrate) Status(ctx context.Context, db Querier, loc Location, disk []Migration) (Report, error) {
	rows, err := db.Query(ctx, "SELECT name FROM "+loc.Main()+" ORDER BY run_on, id")
	if err != nil {
		return Report{}, err
	}
	applied, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (Row, error) {
		var name string
		err := row.Scan(&name)
		return Row{Version: name}, err
	})
	if err != nil {
		return Report{}, err
	}
	return compareRows(disk, applied), nil
}
