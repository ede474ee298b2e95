package migrations

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// liquibase is Liquibase with formatted SQL changelogs: files whose first
// line is "--liquibase formatted sql", holding changesets that each start
// with "--changeset author:id [attributes]". databasechangelog (no primary
// key) gets one row per applied changeset, identified by (id, author,
// filename) where filename is the changelog's path as Liquibase was given
// it (relative to its search path, e.g. "changelog.sql" or, through an
// includeAll, "changes/001_users.sql"), or the logicalFilePath attribute.
// md5sum is "9:" + an MD5 of the changeset, which liquibaseChecksum
// reproduces; it is compared except for runOnChange changesets (Liquibase
// re-runs those when they change), changesets with --validCheckSum or
// ${property} substitutions, and rows with an older algorithm ("8:...").
// Each changeset runs in its own transaction and a failed one is not
// recorded: it stays pending. databasechangeloglock(id, locked bool,
// lockgranted, lockedby) is the lock (for a custom changelog table,
// <table>lock); a killed update leaves locked = true and every later update
// waits for it until `liquibase release-locks`.
//
// --migrations.dir is the directory holding the changelogs: every *.sql
// file below it (subdirectories included) whose first line marks it as a
// formatted SQL changelog, in path order (the order of an includeAll), with
// its changesets in file order. A master changelog in XML, YAML or JSON is
// not read: its include order is not followed, and SQL changelogs it does
// not include still count. Rows match a changeset by id, author and file,
// where the recorded filename may carry a prefix the directory lacks
// ("db/changelog.sql" matches "changelog.sql") or the reverse.
//
// Version and Name are "filename::id::author", as Liquibase prints a
// changeset. Changesets Liquibase skips on PostgreSQL (ignore:true, a dbms
// list without postgresql) are left out; contexts and labels are not
// evaluated.
type liquibase struct{}

func (liquibase) Name() string { return "liquibase" }
func (liquibase) Tables() []string {
	return []string{"databasechangelog", "databasechangeloglock"}
}
func (liquibase) DefaultSchema() string { return "" }

// Detect recognises databasechangelog's identifying columns.
func (liquibase) Detect(_ *Catalog, t Table) bool {
	for _, c := range []string{"id", "author", "filename", "orderexecuted", "md5sum"} {
		if t.Columns[c] == "" {
			return false
		}
	}
	return true
}

// ParseFiles reads every formatted SQL changelog below the root.
func (liquibase) ParseFiles(fsys fs.FS) ([]Migration, error) {
	var files []string
	err := fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && skipDir(d.Name()) { // e.g. a ConfigMap's hidden ..<timestamp> copy
			return fs.SkipDir
		}
		if !d.IsDir() && strings.HasSuffix(strings.ToLower(p), ".sql") {
			files = append(files, p)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	slices.Sort(files)
	var out []Migration
	seen := map[string]bool{}
	for _, file := range files {
		content, err := fs.ReadFile(fsys, file)
		if err != nil {
			return nil, err
		}
		changesets, err := parseLiquibaseSQL(file, content)
		if err != nil {
			return nil, err
		}
		for _, m := range changesets {
			if seen[m.Version] {
				return nil, &InvalidFileError{file, "duplicate changeset " + m.Version}
			}
			seen[m.Version] = true
			out = append(out, m)
		}
	}
	return out, nil
}

// liquibaseVersion formats a changeset's identity as Liquibase prints it.
func liquibaseVersion(file, id, author string) string {
	return file + "::" + id + "::" + author
}

// liquibaseRow is one databasechangelog row, its fields in the order
// Status selects the columns (pgx.RowToStructByPos).
type liquibaseRow struct {
	ID, Author, Filename, MD5Sum, ExecType string
}

// Status reads the applied changesets in execution order, and the lock.
func (liquibase) Status(ctx context.Context, db Querier, loc Location, disk []Migration) (Report, error) {
	rows, err := db.Query(ctx, `SELECT id, author, filename, COALESCE(md5sum, ''), COALESCE(exectype, '')
		FROM `+loc.Main()+` ORDER BY orderexecuted, dateexecuted`)
	if err != nil {
		return Report{}, err
	}
	history, err := pgx.CollectRows(rows, pgx.RowToStructByPos[liquibaseRow])
	if err != nil {
		return Report{}, err
	}
	report := compareRows(disk, liquibaseRows(disk, history))
	report.Locked, report.LockDetail, err = liquibaseLock(ctx, db, loc)
	return report, err
}

// liquibaseRows names each history row after the changeset on disk it
// belongs to, or after itself when none does. Only "9:" checksums (the
// algorithm liquibaseChecksum reproduces) are compared.
func liquibaseRows(disk []Migration, history []liquibaseRow) []Row {
	type changeset struct{ file, version string }
	byIDAuthor := map[[2]string][]changeset{}
	for _, m := range disk {
		file, id, author := liquibaseSplitVersion(m.Version)
		key := [2]string{id, author}
		byIDAuthor[key] = append(byIDAuthor[key], changeset{file, m.Version})
	}
	out := make([]Row, len(history))
	for i, h := range history {
		file := liquibaseNormalizePath(h.Filename)
		version := liquibaseVersion(file, h.ID, h.Author)
		candidates := byIDAuthor[[2]string{h.ID, h.Author}]
		j := slices.IndexFunc(candidates, func(c changeset) bool { return c.file == file })
		if j < 0 {
			j = slices.IndexFunc(candidates, func(c changeset) bool {
				return strings.HasSuffix(file, "/"+c.file) || strings.HasSuffix(c.file, "/"+file)
			})
		}
		if j >= 0 {
			version = candidates[j].version
		}
		checksum := ""
		if strings.HasPrefix(h.MD5Sum, "9:") {
			checksum = h.MD5Sum
		}
		out[i] = Row{Version: version, Checksum: checksum, Failed: h.ExecType == "FAILED"}
	}
	return out
}

// liquibaseSplitVersion undoes liquibaseVersion. Ids and authors hold no
// "::" in practice; a file name might, so the file is what remains.
func liquibaseSplitVersion(v string) (file, id, author string) {
	i := strings.LastIndex(v, "::")
	rest := v[:i]
	j := strings.LastIndex(rest, "::")
	return rest[:j], rest[j+2:], v[i+2:]
}

// liquibaseNormalizePath makes a recorded filename comparable with a path
// below the directory, as DatabaseChangeLog.normalizePath does.
func liquibaseNormalizePath(p string) string {
	p = strings.ReplaceAll(p, `\`, "/")
	p = strings.TrimPrefix(p, "classpath:")
	for strings.HasPrefix(p, "./") {
		p = p[2:]
	}
	return strings.TrimLeft(p, "/")
}

// liquibaseLock reads the lock table Liquibase keeps beside its changelog
// table (databasechangelog -> databasechangeloglock).
func liquibaseLock(ctx context.Context, db Querier, loc Location) (bool, string, error) {
	lock := loc.Qualified(loc.Table + "lock")
	var exists bool
	if err := db.QueryRow(ctx, `SELECT to_regclass($1) IS NOT NULL`, lock).Scan(&exists); err != nil || !exists {
		return false, "", err
	}
	rows, err := db.Query(ctx, "SELECT lockgranted, COALESCE(lockedby, '') FROM "+lock+" WHERE locked")
	if err != nil {
		return false, "", err
	}
	type lockRow struct {
		Granted *time.Time
		By      string
	}
	held, err := pgx.CollectOneRow(rows, pgx.RowToStructByPos[lockRow])
	if errors.Is(err, pgx.ErrNoRows) {
		return false, "", nil
	}
	if err != nil {
		return false, "", err
	}
	detail := loc.Table + "lock.locked = true"
	if held.By != "" {
		detail += fmt.Sprintf(", locked by %q", held.By)
	}
	if held.Granted != nil {
		detail += " since " + held.Granted.Format("2006-01-02 15:04:05")
	}
	return true, detail + " (`liquibase release-locks` releases it once no update is running)", nil
}
