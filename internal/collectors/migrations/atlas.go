package migrations

import (
	"bufio"
	"bytes"
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"regexp"
	"slices"
	"strings"
	"sync"

	"github.com/jackc/pgx/v5"
)

// atlas is Ariga's Atlas, versioned workflow. --migrations.dir is the
// migration directory: {version}_{description}.sql files, applied in file
// name order, and atlas.sum. The history is atlas_schema_revisions(version
// PRIMARY KEY, description, type, applied, total, executed_at,
// execution_time, error, error_stmt, hash, partial_hashes,
// operator_version), kept in its own schema atlas_schema_revisions when
// Atlas is given a whole database and in the current schema when given one
// schema; both are found. A row whose error is set or whose applied < total
// is a failed, half-applied migration (Atlas writes the row when a file
// starts and updates it per statement). A type-1 row is a baseline: the
// files up to it count as applied.
//
// hash is the file's line in atlas.sum: a SHA-256 running over the name and
// bytes of every file up to and including this one, so editing one file
// changes the hash of every later file too; only the first changed file is
// reported, and none after a file that is not applied yet. Atlas itself
// never compares an applied revision's hash with its file again: after a
// failed non-transactional migration is fixed, re-hashed and applied again
// (Atlas' documented recovery), it keeps the revision's first hash and
// reports the directory as OK. So does the check: a changed applied file is
// reported as drifted, which is informational, not a checksum mismatch.
// Atlas refuses a directory whose atlas.sum is missing or out of date, and
// so does the check, naming the first line that differs as Atlas does.
// Checkpoint files (Atlas Pro) are not told apart.
type atlas struct{}

func (atlas) Name() string          { return "atlas" }
func (atlas) Tables() []string      { return []string{"atlas_schema_revisions"} }
func (atlas) DefaultSchema() string { return "" }

// Detect requires the columns that hold Atlas' progress and hashes.
func (atlas) Detect(_ *Catalog, t Table) bool {
	for _, c := range []string{"version", "applied", "total", "hash"} {
		if _, ok := t.Columns[c]; !ok {
			return false
		}
	}
	return true
}

// atlasSumFile is the directory's integrity file.
const atlasSumFile = "atlas.sum"

// ParseFiles reads the .sql files in name order with their hashes and
// checks them against atlas.sum.
func (atlas) ParseFiles(fsys fs.FS) ([]Migration, error) {
	names, err := fs.Glob(fsys, "*.sql")
	if err != nil {
		return nil, err
	}
	slices.Sort(names)
	files := make([]atlasFile, 0, len(names))
	for _, name := range names {
		if info, err := fs.Stat(fsys, name); err == nil && info.IsDir() {
			continue
		}
		b, err := fs.ReadFile(fsys, name)
		if err != nil {
			return nil, err
		}
		files = append(files, atlasFile{name, b})
	}
	sums := atlasHashes(files)
	if err := atlasCheckSum(fsys, sums, len(files)); err != nil {
		return nil, err
	}
	out := make([]Migration, 0, len(files))
	for _, f := range files {
		out = append(out, Migration{Version: atlasVersion(f.name), Name: cmp.Or(strings.TrimSuffix(f.name, ".sql"), f.name), Checksum: sums.byName(f.name)})
	}
	return out, nil
}

// atlasFile is one migration file.
type atlasFile struct {
	name string
	data []byte
}

// atlasSums are atlas.sum's lines: file name and hash, in file order.
type atlasSums []struct{ name, hash string }

func (s atlasSums) byName(name string) string {
	for _, e := range s {
		if e.name == name {
			return e.hash
		}
	}
	return ""
}

// total is the sum of the sums, atlas.sum's first line.
func (s atlasSums) total() string {
	h := sha256.New()
	for _, e := range s {
		h.Write([]byte(e.name))
		h.Write([]byte(e.hash))
	}
	return base64.StdEncoding.EncodeToString(h.Sum(nil))
}

// atlasHashes computes each file's hash as Atlas does (sql/migrate
// NewHashFile): one SHA-256 is fed every file's name and then its bytes, and
// after each file its running state is that file's hash, base64 encoded. A
// file whose first line is an `atlas:sum ignore` directive adds its name but
// neither its bytes nor a line of its own.
func atlasHashes(files []atlasFile) atlasSums {
	var sums atlasSums
	h := sha256.New()
	for _, f := range files {
		h.Write([]byte(f.name))
		if atlasSumIgnored(f.data) {
			continue
		}
		h.Write(f.data)
		sums = append(sums, struct{ name, hash string }{f.name, base64.StdEncoding.EncodeToString(h.Sum(nil))})
	}
	return sums
}

// atlasDirective is Atlas' file directive pattern, matched at the very
// start of the file: `-- atlas:sum ignore`.
var atlasDirective = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^([ -~]*)atlas:(\w+)(?: +([ -~]*))*`) })

func atlasSumIgnored(data []byte) bool {
	m := atlasDirective().FindSubmatch(data)
	return m != nil && string(m[2]) == "sum" && string(m[3]) == "ignore"
}

// atlasCheckSum compares atlas.sum with the hashes of the files, as `atlas
// migrate apply` does before it runs anything.
func atlasCheckSum(fsys fs.FS, computed atlasSums, files int) error {
	data, err := fs.ReadFile(fsys, atlasSumFile)
	switch {
	case errors.Is(err, fs.ErrNotExist) && files == 0:
		return nil
	case errors.Is(err, fs.ErrNotExist):
		return &InvalidFileError{atlasSumFile, "missing: Atlas refuses a migration directory without it (run atlas migrate hash)"}
	case err != nil:
		return err
	}
	stored, err := parseAtlasSum(data)
	if err != nil {
		return err
	}
	if stored.total() != computed.total() {
		return &InvalidFileError{atlasSumFile, "does not match the migration files (" + atlasSumDiff(stored, computed) +
			"): Atlas refuses the directory (run atlas migrate hash)"}
	}
	return nil
}

// atlasSumDiff names the first line of atlas.sum that differs from the
// files, as Atlas' checksum error does: "L3: 20261129182118_create_posts.sql
// was edited" (line 1 is the sum of the sums).
func atlasSumDiff(stored, computed atlasSums) string {
	for i := range max(len(stored), len(computed)) {
		line := i + 2
		switch {
		case i >= len(stored):
			return fmt.Sprintf("L%d: %s was added", line, computed[i].name)
		case i >= len(computed):
			return fmt.Sprintf("L%d: %s was removed", line, stored[i].name)
		case stored[i].name != computed[i].name:
			if computed.byName(stored[i].name) == "" {
				return fmt.Sprintf("L%d: %s was removed", line, stored[i].name)
			}
			return fmt.Sprintf("L%d: %s was added", line, computed[i].name)
		case stored[i].hash != computed[i].hash:
			return fmt.Sprintf("L%d: %s was edited", line, stored[i].name)
		}
	}
	return "the sum of the sums differs"
}

// parseAtlasSum reads atlas.sum: "h1:<total>", then "<file> h1:<hash>" lines.
func parseAtlasSum(data []byte) (atlasSums, error) {
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Scan()
	total := strings.TrimPrefix(sc.Text(), "h1:")
	var sums atlasSums
	for sc.Scan() {
		name, hash, ok := strings.Cut(sc.Text(), "h1:")
		if !ok {
			return nil, &InvalidFileError{atlasSumFile, "malformed line " + sc.Text()}
		}
		sums = append(sums, struct{ name, hash string }{strings.TrimSpace(name), hash})
	}
	if err := sc.Err(); err != nil {
		return nil, &InvalidFileError{atlasSumFile, err.Error()}
	}
	if sums.total() != total {
		return nil, &InvalidFileError{atlasSumFile, "its first line does not sum its other lines (edited by hand?)"}
	}
	return sums, nil
}

// atlasRevision is one row of atlas_schema_revisions, its fields in the
// order Status selects the columns (pgx.RowToStructByPos).
type atlasRevision struct {
	Version, Description string
	Type                 int64
	Applied, Total       int64
	Error, Hash          string
}

// Status reads every revision and compares it with the files.
func (atlas) Status(ctx context.Context, db Querier, loc Location, disk []Migration) (Report, error) {
	rows, err := db.Query(ctx, `SELECT version, description, type, applied, total, COALESCE(error, ''), hash FROM `+loc.Main())
	if err != nil {
		return Report{}, err
	}
	revs, err := pgx.CollectRows(rows, pgx.RowToStructByPos[atlasRevision])
	if err != nil {
		return Report{}, err
	}
	report := compareRows(disk, atlasRows(disk, revs))
	report.Drifted, report.ChecksumMismatches = report.ChecksumMismatches, nil
	return report, nil
}

// atlasRevisionBaseline marks a baseline revision (migrate.RevisionTypeBaseline).
const atlasRevisionBaseline = 1

// atlasRows turns revisions into rows in version order. Files before a
// baseline revision count as applied. Hashes are compared only up to the
// first file that is not applied or whose hash differs: past it, every
// running hash differs anyway.
func atlasRows(disk []Migration, revs []atlasRevision) []Row {
	slices.SortFunc(revs, func(a, b atlasRevision) int { return strings.Compare(a.Version, b.Version) })
	recorded := map[string]bool{}
	baseline := ""
	for _, r := range revs {
		recorded[r.Version] = true
		if r.Type&atlasRevisionBaseline != 0 && r.Version > baseline {
			baseline = r.Version
		}
	}
	var rows []Row
	for _, m := range disk {
		if !recorded[m.Version] && m.Version < baseline {
			rows = append(rows, Row{Version: m.Version, Name: m.Name})
			recorded[m.Version] = true
		}
	}
	hashes := atlasComparableHashes(disk, revs, recorded)
	for _, r := range revs {
		name := r.Version
		if r.Description != "" {
			name += "_" + r.Description
		}
		rows = append(rows, Row{
			Version:  r.Version,
			Name:     name,
			Checksum: hashes[r.Version],
			Failed:   r.Error != "" || r.Applied < r.Total,
		})
	}
	slices.SortStableFunc(rows, func(a, b Row) int { return strings.Compare(a.Version, b.Version) })
	return rows
}

// atlasComparableHashes returns the stored hash of each revision whose hash
// is still meaningful to compare, up to and including the first mismatch.
func atlasComparableHashes(disk []Migration, revs []atlasRevision, recorded map[string]bool) map[string]string {
	stored := map[string]string{}
	for _, r := range revs {
		stored[r.Version] = strings.TrimPrefix(r.Hash, "h1:")
	}
	out := map[string]string{}
	for _, m := range disk {
		if !recorded[m.Version] {
			break
		}
		h, ok := stored[m.Version]
		if !ok || h == "" || m.Checksum == "" {
			continue
		}
		out[m.Version] = h
		if h != m.Checksum {
			break
		}
	}
	return out
}

// atlasVersion is the version of a file name: what precedes the first "_".
func atlasVersion(file string) string {
	v, _, _ := strings.Cut(strings.TrimSuffix(file, ".sql"), "_")
	return v
}
