package migrations

import (
	"context"
	"io/fs"
	"path"
	"regexp"
	"slices"
	"strings"
	"sync"
)

// rails is Ruby on Rails' ActiveRecord migrations: files
// <version>_<name>.rb (version usually a YYYYMMDDHHMMSS timestamp, older
// apps 001, 002, ...) anywhere below db/migrate, which is the directory
// to point --migrations.dir at, in numeric version order. Each applied
// migration is a row in schema_migrations(version varchar PK) holding the
// version as an integer ("001" is recorded as "1"), and ActiveRecord keeps
// ar_internal_metadata (the environment) beside it. Every migration runs
// in its own transaction: a failed one records nothing and shows as
// pending.
//
// Rails' table_name_prefix/suffix apply to both tables, e.g.
// app_schema_migrations and app_ar_internal_metadata; only the default
// names are detected, so a prefixed history needs --migrations.tool=rails.
type rails struct{}

func (rails) Name() string          { return "rails" }
func (rails) Tables() []string      { return []string{"schema_migrations", "ar_internal_metadata"} }
func (rails) DefaultSchema() string { return "" }

// Detect takes a schema_migrations with a varchar version and
// ar_internal_metadata beside it, which tells it from dbmate's.
func (rails) Detect(cat *Catalog, t Table) bool {
	return t.Columns["version"] == "character varying" && cat.Has(railsMetadataTable(t.Name), t.Schema)
}

// railsMetadataTable is the ar_internal_metadata that goes with the
// history table main, with the same table name prefix and suffix.
func railsMetadataTable(main string) string {
	prefix, suffix, ok := strings.Cut(main, "schema_migrations")
	if !ok {
		return "ar_internal_metadata"
	}
	return prefix + "ar_internal_metadata" + suffix
}

// railsFile is ActiveRecord's Migration::MigrationFilenameRegexp: version,
// name and an optional scope (migrations copied from an engine).
var railsFile = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^([0-9]+)_([_a-z0-9]*)\.?([_a-z0-9]*)\.rb$`) })

// ParseFiles lists the migrations below the root in version order. Like
// ActiveRecord it considers every file matching [0-9]*_*.rb (not in
// hidden directories), and rejects such a file whose name does not parse
// (IllegalMigrationNameError) and duplicate versions or class names.
func (rails) ParseFiles(fsys fs.FS) ([]Migration, error) {
	var out []Migration
	versions, classes := map[string]string{}, map[string]string{}
	err := fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		name := d.Name()
		if d.IsDir() {
			if p != "." && strings.HasPrefix(name, ".") {
				return fs.SkipDir
			}
			return nil
		}
		if !railsCandidate(name) {
			return nil
		}
		m := railsFile().FindStringSubmatch(name)
		if m == nil {
			return &InvalidFileError{p, "not a valid ActiveRecord migration name (<digits>_<lower_case_name>.rb)"}
		}
		version, class := trimZeros(m[1]), railsCamelize(m[2])
		if prev, dup := versions[version]; dup {
			return &InvalidFileError{p, "duplicate migration version " + version + " (also " + prev + ")"}
		}
		if prev, dup := classes[class]; dup {
			return &InvalidFileError{p, "duplicate migration name " + class + " (also " + prev + ")"}
		}
		versions[version], classes[class] = p, p
		out = append(out, Migration{Version: version, Name: strings.TrimSuffix(name, ".rb")})
		return nil
	})
	if err != nil {
		return nil, err
	}
	slices.SortFunc(out, func(a, b Migration) int { return compareVersions(a.Version, b.Version) })
	return out, nil
}

// railsCandidate is ActiveRecord's glob [0-9]*_*.rb.
func railsCandidate(name string) bool {
	ok, _ := path.Match("[0-9]*_*.rb", name)
	return ok
}

// railsCamelize is ActiveSupport's camelize of a lower-case file name
// part, the migration's class name: "add_email" -> "AddEmail".
func railsCamelize(s string) string {
	var b strings.Builder
	for _, part := range strings.Split(s, "_") {
		if part != "" {
			b.WriteString(strings.ToUpper(part[:1]) + part[1:])
		}
	}
	return b.String()
}

// Status reads the applied versions. ActiveRecord compares them as
// integers, so "0001" in the table is version 1.
func (rails) Status(ctx context.Context, db Querier, loc Location, disk []Migration) (Report, error) {
	rows, err := dbmateVersions(ctx, db, loc, railsNormalize)
	if err != nil {
		return Report{}, err
	}
	return compareRows(disk, rows), nil
}

// railsNormalize drops the leading zeros of a numeric version.
func railsNormalize(v string) string {
	if v == "" || strings.Trim(v, "0123456789") != "" {
		return v
	}
	return trimZeros(v)
}
