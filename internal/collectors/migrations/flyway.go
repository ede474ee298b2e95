package migrations

import (
	"bytes"
	"context"
	"hash/crc32"
	"io/fs"
	"path"
	"slices"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
)

// flyway is Redgate Flyway, SQL migrations with the default naming. Under
// --migrations.dir, scanned recursively like a Flyway location, the files
// are V<version>__<description>.sql (versioned; "1_2" is version 1.2 and
// versions compare numerically), R__<description>.sql (repeatable: re-run
// whenever its checksum changes) and B<version>__<description>.sql (baseline
// migrations, applied instead of the versioned files up to them on an empty
// database). U (undo) files and names Flyway would not accept are ignored,
// as Flyway ignores them by default.
//
// The history is flyway_schema_history(installed_rank, version,
// description, type, script, checksum, installed_by, installed_on,
// execution_time, success), one row per run in installed_rank order; the
// table name is configurable. success = false is a failed migration (left
// by a non-transactional failure; Flyway then refuses to migrate until
// repaired). A BASELINE row marks the versions up to it as present. A
// changed repeatable is pending (Flyway re-applies it), not a checksum
// mismatch. Rows of Java migrations have no file and count as unknown.
type flyway struct{}

func (flyway) Name() string          { return "flyway" }
func (flyway) Tables() []string      { return []string{"flyway_schema_history"} }
func (flyway) DefaultSchema() string { return "" }

// Detect requires Flyway's columns.
func (flyway) Detect(_ *Catalog, t Table) bool {
	for _, c := range []string{"installed_rank", "version", "script", "checksum", "success"} {
		if _, ok := t.Columns[c]; !ok {
			return false
		}
	}
	return true
}

// Flyway's default file name parts.
const (
	flywayVersioned  = 'V'
	flywayRepeatable = 'R'
	flywayBaseline   = 'B'
	flywayUndo       = 'U'
	flywaySeparator  = "__"
	flywaySuffix     = ".sql"
)

// ParseFiles returns the versioned files by version, then the baseline
// files, then the repeatables by description. Name is the file name without
// .sql, its first letter the kind; Version is the version as the history
// records it ("1.2"), or a repeatable's description; Checksum is Flyway's
// CRC32 as a decimal int32.
func (flyway) ParseFiles(fsys fs.FS) ([]Migration, error) {
	var out []Migration
	seen := map[string]string{} // kind + key -> file, for duplicates
	err := fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if skipDir(d.Name()) { // e.g. a ConfigMap's hidden ..<timestamp> copy
				return fs.SkipDir
			}
			return nil
		}
		m, ok := parseFlywayName(path.Base(p))
		if !ok {
			return nil
		}
		key := m.Name[:1] + flywayKey(m)
		if prev, dup := seen[key]; dup {
			return &InvalidFileError{p, "Flyway found more than one migration for " + m.Version + " (also " + prev + ")"}
		}
		seen[key] = p
		data, err := fs.ReadFile(fsys, p)
		if err != nil {
			return err
		}
		m.Checksum = strconv.Itoa(int(flywayChecksum(data)))
		out = append(out, m)
		return nil
	})
	if err != nil {
		return nil, err
	}
	rank := map[byte]int{flywayVersioned: 0, flywayBaseline: 1, flywayRepeatable: 2}
	slices.SortFunc(out, func(a, b Migration) int {
		if c := rank[a.Name[0]] - rank[b.Name[0]]; c != 0 {
			return c
		}
		if a.Name[0] == flywayRepeatable {
			return strings.Compare(a.Version, b.Version)
		}
		return compareVersions(flywayKey(a), flywayKey(b))
	})
	return out, nil
}

// parseFlywayName reads a file name the way Flyway's resource name parser
// does with the default prefixes, separator and suffix.
func parseFlywayName(file string) (Migration, bool) {
	name, ok := strings.CutSuffix(file, flywaySuffix)
	if !ok || name == "" {
		return Migration{}, false
	}
	kind := name[0]
	version, description, _ := strings.Cut(name[1:], flywaySeparator)
	description = strings.ReplaceAll(description, "_", " ")
	switch kind {
	case flywayRepeatable:
		if version != "" {
			return Migration{}, false
		}
		return Migration{Version: description, Name: name}, true
	case flywayVersioned, flywayBaseline:
		version = strings.ReplaceAll(version, "_", ".")
		if _, ok := flywayVersionKey(version); !ok {
			return Migration{}, false
		}
		return Migration{Version: version, Name: name}, true
	}
	return Migration{}, false // U (undo), callbacks, other files
}

// flywayVersionKey canonicalises a version as Flyway compares them:
// numeric parts, leading zeros and trailing zero parts dropped ("1.01.0"
// is "1.1").
func flywayVersionKey(version string) (string, bool) {
	parts := strings.Split(version, ".")
	for i, p := range parts {
		if p == "" || strings.Trim(p, "0123456789") != "" {
			return "", false
		}
		parts[i] = trimZeros(p)
	}
	for len(parts) > 1 && parts[len(parts)-1] == "0" {
		parts = parts[:len(parts)-1]
	}
	return strings.Join(parts, "."), true
}

// flywayKey is what Flyway matches a migration by: the canonical version,
// or a repeatable's description.
func flywayKey(m Migration) string {
	if m.Name[0] == flywayRepeatable {
		return m.Version
	}
	key, _ := flywayVersionKey(m.Version)
	return key
}

// flywayChecksum is Flyway's checksum (ChecksumCalculator): a CRC32 fed
// each line's UTF-8 bytes without its line ending (Java's readLine splits
// at \n, \r and \r\n), with a byte order mark dropped from the first line,
// read as a signed int32. Line endings and blank lines do not change it.
// Files are taken to be UTF-8, Flyway's default encoding.
func flywayChecksum(data []byte) int32 {
	data = bytes.TrimPrefix(data, []byte("\uFEFF"))
	crc := crc32.NewIEEE()
	for len(data) > 0 {
		i := bytes.IndexAny(data, "\r\n")
		if i < 0 {
			crc.Write(data)
			break
		}
		crc.Write(data[:i])
		if data[i] == '\r' && i+1 < len(data) && data[i+1] == '\n' {
			i++
		}
		data = data[i+1:]
	}
	return int32(crc.Sum32())
}

// flywayRun is one row of flyway_schema_history, its fields in the order
// Status selects the columns (pgx.RowToStructByPos).
type flywayRun struct {
	Version     *string // nil for a repeatable
	Description string
	Type        string
	Script      string
	Checksum    *int32
	Success     bool
}

// label names a run in lists: its script file without .sql.
func (r flywayRun) label() string {
	if r.Script == "" {
		return r.Description
	}
	return strings.TrimSuffix(path.Base(r.Script), flywaySuffix)
}

// Status reads the runs in installed_rank order.
func (flyway) Status(ctx context.Context, db Querier, loc Location, disk []Migration) (Report, error) {
	rows, err := db.Query(ctx, `SELECT version, description, type, script, checksum, success FROM `+loc.Main()+` ORDER BY installed_rank`)
	if err != nil {
		return Report{}, err
	}
	runs, err := pgx.CollectRows(rows, pgx.RowToStructByPos[flywayRun])
	if err != nil {
		return Report{}, err
	}
	return flywayCompare(disk, runs), nil
}

// flywayLatest keeps the runs that still count, as Flyway's info service
// does: the last run of each version (per kind: baseline migrations are
// matched to B files) and of each repeatable description, less those a
// DELETE row (repair) or an undo removed; SCHEMA rows only mark schema
// creation. baseline is the highest baseline version.
func flywayLatest(runs []flywayRun) (versioned, repeatable []flywayRun, baseline string) {
	type key struct{ version, kind string }
	byVersion := map[key]int{}
	byDesc := map[string]int{}
	var kept []*flywayRun
	drop := func(i int) { kept[i] = nil }
	for _, r := range runs {
		if r.Type == "SCHEMA" {
			continue
		}
		if r.Version == nil {
			if i, ok := byDesc[r.Description]; ok {
				drop(i)
			}
			if r.Type == "DELETE" {
				delete(byDesc, r.Description)
				continue
			}
			byDesc[r.Description] = len(kept)
			kept = append(kept, &r)
			continue
		}
		v, _ := flywayVersionKey(*r.Version)
		if r.Type == "DELETE" || strings.HasPrefix(r.Type, "UNDO_") {
			if r.Success {
				for k, i := range byVersion {
					if k.version == v {
						drop(i)
						delete(byVersion, k)
					}
				}
			}
			continue
		}
		if strings.HasSuffix(r.Type, "BASELINE") && r.Success && compareVersions(v, baseline) > 0 {
			baseline = v
		}
		k := key{v, flywayRunKind(r.Type)}
		if i, ok := byVersion[k]; ok {
			drop(i)
		}
		byVersion[k] = len(kept)
		kept = append(kept, &r)
	}
	for _, r := range kept {
		switch {
		case r == nil:
		case r.Version == nil:
			repeatable = append(repeatable, *r)
		default:
			versioned = append(versioned, *r)
		}
	}
	return versioned, repeatable, baseline
}

// flywayRunKind is the file kind a run type comes from: B for baseline
// migrations (SQL_BASELINE, ...), "" for the BASELINE marker, V otherwise.
func flywayRunKind(typ string) string {
	switch {
	case typ == "BASELINE":
		return ""
	case strings.HasSuffix(typ, "_BASELINE"):
		return string(flywayBaseline)
	}
	return string(flywayVersioned)
}

// flywayCompare compares the files with the runs that count.
func flywayCompare(disk []Migration, runs []flywayRun) Report {
	var r Report
	versioned, repeatable, baseline := flywayLatest(runs)
	files := map[string]Migration{} // kind + key
	for _, m := range disk {
		files[m.Name[:1]+flywayKey(m)] = m
	}
	appliedVersions := map[string]bool{}
	for _, run := range versioned {
		v, _ := flywayVersionKey(*run.Version)
		kind := flywayRunKind(run.Type)
		appliedVersions[kind+v] = true
		if !run.Success {
			r.Dirty = append(r.Dirty, run.label())
			continue
		}
		r.AppliedCount++
		if compareVersions(v, flywayKeyOf(r.LatestApplied)) > 0 {
			r.LatestApplied = *run.Version
		}
		m, onDisk := files[kind+v]
		switch {
		case disk != nil && !onDisk && kind != "":
			r.Unknown = append(r.Unknown, run.label())
		case onDisk && run.Checksum != nil && compareVersions(v, baseline) > 0 && strconv.Itoa(int(*run.Checksum)) != m.Checksum:
			r.ChecksumMismatches = append(r.ChecksumMismatches, m.Name)
		}
	}
	latestRepeatable := map[string]flywayRun{}
	for _, run := range repeatable {
		latestRepeatable[run.Description] = run
		if !run.Success {
			r.Dirty = append(r.Dirty, run.label())
			continue
		}
		r.AppliedCount++
		if _, onDisk := files[string(flywayRepeatable)+run.Description]; disk != nil && !onDisk {
			r.Unknown = append(r.Unknown, run.label())
		}
	}
	for _, m := range disk {
		key := flywayKey(m)
		switch m.Name[0] {
		case flywayVersioned:
			if !appliedVersions[string(flywayVersioned)+key] && compareVersions(key, baseline) > 0 {
				r.Pending = append(r.Pending, m.Name)
			}
			if compareVersions(key, flywayKeyOf(r.LatestOnDisk)) > 0 {
				r.LatestOnDisk = m.Version
			}
		case flywayRepeatable:
			run, ran := latestRepeatable[key]
			if !ran || (run.Success && (run.Checksum == nil || strconv.Itoa(int(*run.Checksum)) != m.Checksum)) {
				r.Pending = append(r.Pending, m.Name) // new, or outdated: Flyway re-applies it
			}
		}
	}
	return r
}

// flywayKeyOf is the canonical form of a version shown in the report.
func flywayKeyOf(version string) string {
	key, _ := flywayVersionKey(version)
	return key
}
