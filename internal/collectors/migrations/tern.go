package migrations

import (
	"context"
	"errors"
	"io/fs"
	"regexp"
	"strconv"
	"strings"
	"sync"

	"github.com/jackc/pgx/v5"
)

// tern is github.com/jackc/tern: files <n>_<name>.sql numbered 1..N with
// no gaps or duplicates (tern refuses to run otherwise), the down part
// after "---- create above / drop below ----". public.schema_version
// (version int4, no key) holds one row, the number of the last migration
// applied, 0 before the first. Each migration runs in a transaction
// (unless it disables it) that also bumps the row, so a failed one leaves
// the version where it was and shows as pending; tern has no failure
// state.
type tern struct{}

func (tern) Name() string          { return "tern" }
func (tern) Tables() []string      { return []string{"schema_version"} }
func (tern) DefaultSchema() string { return "public" }

// Detect takes a schema_version with nothing but an integer version
// (older Flyway releases used the same table name, with many columns).
func (tern) Detect(_ *Catalog, t Table) bool {
	return t.Columns["version"] == "integer" && len(t.Columns) == 1
}

var ternFile = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^(\d+)_.+\.sql$`) })

// ParseFiles lists the migrations in number order, rejecting what tern
// rejects: a number that is 0 or beyond int32, a duplicate, a gap.
func (tern) ParseFiles(fsys fs.FS) ([]Migration, error) {
	entries, err := fs.ReadDir(fsys, ".")
	if err != nil {
		return nil, err
	}
	byNumber := map[int]string{}
	for _, e := range entries {
		m := ternFile().FindStringSubmatch(e.Name())
		if e.IsDir() || m == nil {
			continue
		}
		n, err := strconv.ParseInt(m[1], 10, 32)
		switch {
		case err != nil:
			return nil, &InvalidFileError{e.Name(), "migration number does not fit tern's int4 version"}
		case n == 0:
			return nil, &InvalidFileError{e.Name(), "tern numbers migrations from 1"}
		}
		if prev, dup := byNumber[int(n)]; dup {
			return nil, &InvalidFileError{e.Name(), "duplicate migration " + strconv.FormatInt(n, 10) + " (also " + prev + ")"}
		}
		byNumber[int(n)] = e.Name()
	}
	out := make([]Migration, 0, len(byNumber))
	for n := 1; len(out) < len(byNumber); n++ {
		name, ok := byNumber[n]
		if !ok {
			return nil, &InvalidFileError{"migration " + strconv.Itoa(n), "missing (tern needs files numbered 1..N without gaps)"}
		}
		out = append(out, Migration{Version: strconv.Itoa(n), Name: strings.TrimSuffix(name, ".sql")})
	}
	return out, nil
}

// Status reads the single row; 0 or no row means nothing is applied.
func (tern) Status(ctx context.Context, db Querier, loc Location, disk []Migration) (Report, error) {
	var version int32
	err := db.QueryRow(ctx, "SELECT version FROM "+loc.Main()+" LIMIT 1").Scan(&version)
	switch {
	case errors.Is(err, pgx.ErrNoRows) || (err == nil && version == 0):
		return compareCursor(disk, "", false), nil
	case err != nil:
		return Report{}, err
	}
	return compareCursor(disk, strconv.FormatInt(int64(version), 10), false), nil
}
