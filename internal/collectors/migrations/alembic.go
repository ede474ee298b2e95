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

// alembic is SQLAlchemy's Alembic. --migrations.dir is the versions
// directory: one {rev}_{slug}.py per revision, each assigning revision and
// down_revision (None, a revision, or a tuple of them for a merge). The
// history is alembic_version(version_num varchar(32) PRIMARY KEY) holding one
// row per head the database is at, so a revision is applied when it is an
// ancestor-or-self of a recorded head. On PostgreSQL a whole `upgrade` runs in
// one transaction: a failure records nothing, so a failed revision shows as
// pending; Alembic has no dirty state and no checksums. The table name
// (version_table) and schema (version_table_schema) are configurable in
// env.py.
type alembic struct{}

func (alembic) Name() string          { return "alembic" }
func (alembic) Tables() []string      { return []string{"alembic_version"} }
func (alembic) DefaultSchema() string { return "" }

// Detect recognises the version_num column, which only Alembic uses.
func (alembic) Detect(_ *Catalog, t Table) bool {
	_, ok := t.Columns["version_num"]
	return ok
}

// ParseFiles reads the revision files and returns them parents first.
func (alembic) ParseFiles(fsys fs.FS) ([]Migration, error) {
	entries, err := fs.ReadDir(fsys, ".")
	if err != nil {
		return nil, err
	}
	var revs []alembicRevision
	for _, e := range entries {
		name := e.Name()
		if e.IsDir() || !strings.HasSuffix(name, ".py") || strings.HasPrefix(name, ".#") || strings.HasPrefix(name, "__init__") {
			continue
		}
		if name == ".py" {
			return nil, &InvalidFileError{name, "a revision file needs a name (Alembic cannot import it)"}
		}
		src, err := fs.ReadFile(fsys, name)
		if err != nil {
			return nil, err
		}
		rev, err := parseAlembicRevision(name, string(src))
		if err != nil {
			return nil, err
		}
		revs = append(revs, rev)
	}
	return alembicOrder(revs)
}

// alembicRevision is one parsed revision file.
type alembicRevision struct {
	file      string
	revision  string
	down      []string // down_revision: must exist
	dependsOn []string // depends_on: followed when known
}

// alembicAssign finds a module-level assignment, with or without a type
// annotation: `down_revision: Union[str, None] = 'abc'`.
var alembicAssign = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`(?m)^(revision|down_revision|depends_on)[ \t]*(?::[^=\n]*)?=[ \t]*`)
})

// parseAlembicRevision reads the assignments Alembic evaluates from a
// revision file's source, without running Python.
func parseAlembicRevision(file, src string) (alembicRevision, error) {
	rev := alembicRevision{file: file}
	found := false
	for _, loc := range alembicAssign().FindAllStringSubmatchIndex(src, -1) {
		values, ok := alembicValue(src[loc[1]:])
		if !ok {
			return rev, &InvalidFileError{file, "cannot read the value of " + src[loc[2]:loc[3]]}
		}
		switch src[loc[2]:loc[3]] {
		case "revision":
			if len(values) != 1 {
				return rev, &InvalidFileError{file, "revision must be one string"}
			}
			rev.revision, found = values[0], true
		case "down_revision":
			rev.down = values
		case "depends_on":
			rev.dependsOn = values
		}
	}
	if !found {
		return rev, &InvalidFileError{file, "no revision = '...' assignment; Alembic cannot load it"}
	}
	return rev, nil
}

// alembicValue reads the expression at the start of s: None, a string
// literal, or a tuple or list of string literals (which may span lines).
func alembicValue(s string) ([]string, bool) {
	switch {
	case strings.HasPrefix(s, "None"):
		return nil, true
	case strings.HasPrefix(s, "(") || strings.HasPrefix(s, "["):
		closing := byte(')')
		if s[0] == '[' {
			closing = ']'
		}
		end := strings.IndexByte(s, closing)
		if end < 0 {
			return nil, false
		}
		var values []string
		for _, m := range alembicString().FindAllStringSubmatch(s[1:end], -1) {
			values = append(values, m[1]+m[2])
		}
		return values, true
	}
	if m := alembicString().FindStringSubmatch(s); m != nil && strings.HasPrefix(s, m[0]) {
		return []string{m[1] + m[2]}, true
	}
	return nil, false
}

// alembicString matches a Python single- or double-quoted string literal, with an
// optional r/u prefix; one of the two groups holds its content.
var alembicString = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`[rRuU]?(?:'([^'\n]*)'|"([^"\n]*)")`) })

// alembicOrder checks the graph the way Alembic's revision map does and
// returns the revisions parents first, ties broken by file name.
func alembicOrder(revs []alembicRevision) ([]Migration, error) {
	slices.SortFunc(revs, func(a, b alembicRevision) int { return strings.Compare(a.file, b.file) })
	byRev := map[string]alembicRevision{}
	for _, r := range revs {
		if prev, dup := byRev[r.revision]; dup {
			return nil, &InvalidFileError{r.file, "revision " + r.revision + " is also declared in " + prev.file}
		}
		byRev[r.revision] = r
	}
	parents := map[string][]string{}
	for _, r := range revs {
		for _, d := range r.down {
			if _, ok := byRev[d]; !ok {
				return nil, &InvalidFileError{r.file, "down_revision " + d + " is not present"}
			}
			parents[r.revision] = append(parents[r.revision], d)
		}
		for _, d := range r.dependsOn {
			if _, ok := byRev[d]; ok { // a branch label names no revision
				parents[r.revision] = append(parents[r.revision], d)
			}
		}
	}
	var out []Migration
	done := map[string]bool{}
	for len(out) < len(revs) {
		progress := false
		for _, r := range revs {
			if done[r.revision] || slices.ContainsFunc(parents[r.revision], func(p string) bool { return !done[p] }) {
				continue
			}
			done[r.revision], progress = true, true
			out = append(out, Migration{Version: r.revision, Name: strings.TrimSuffix(r.file, ".py"), Parents: parents[r.revision]})
		}
		if !progress {
			for _, r := range revs {
				if !done[r.revision] {
					return nil, &InvalidFileError{r.file, "revision " + r.revision + " is part of a cycle"}
				}
			}
		}
	}
	return out, nil
}

// Status reads the recorded heads and marks their ancestors applied.
func (alembic) Status(ctx context.Context, db Querier, loc Location, disk []Migration) (Report, error) {
	rows, err := db.Query(ctx, "SELECT version_num FROM "+loc.Main()+" ORDER BY version_num")
	if err != nil {
		return Report{}, err
	}
	heads, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return Report{}, err
	}
	return alembicCompare(disk, heads), nil
}

// alembicCompare compares the revision graph on disk with the recorded
// heads. A head that is not on disk is unknown (the database is ahead of
// this code); since its ancestry cannot be known, every revision on disk is
// then taken as applied rather than reported pending.
func alembicCompare(disk []Migration, heads []string) Report {
	r := Report{LatestApplied: strings.Join(heads, ",")}
	if disk == nil {
		r.AppliedCount = len(heads) // at least
		return r
	}
	byRev := map[string]Migration{}
	for _, m := range disk {
		byRev[m.Version] = m
	}
	applied := map[string]bool{}
	var mark func(rev string)
	mark = func(rev string) {
		if applied[rev] {
			return
		}
		applied[rev] = true
		for _, p := range byRev[rev].Parents {
			mark(p)
		}
	}
	for _, h := range heads {
		if _, ok := byRev[h]; ok {
			mark(h)
		} else {
			r.Unknown = append(r.Unknown, h)
		}
	}
	if len(r.Unknown) > 0 {
		r.AppliedCount = len(disk) + len(r.Unknown)
	} else {
		for _, m := range disk {
			if !applied[m.Version] {
				r.Pending = append(r.Pending, m.Name)
			}
		}
		r.AppliedCount = len(applied)
	}
	r.LatestOnDisk = strings.Join(alembicHeads(disk), ",")
	return r
}

// alembicHeads are the revisions on disk that no other revision follows.
func alembicHeads(disk []Migration) []string {
	followed := map[string]bool{}
	for _, m := range disk {
		for _, p := range m.Parents {
			followed[p] = true
		}
	}
	var heads []string
	for _, m := range disk {
		if !followed[m.Version] {
			heads = append(heads, m.Version)
		}
	}
	slices.Sort(heads)
	return heads
}
