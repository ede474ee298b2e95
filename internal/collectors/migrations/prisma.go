package migrations

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io/fs"
	"path"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// prisma is Prisma Migrate. --migrations.dir is prisma/migrations: one
// directory per migration, <YYYYMMDDHHMMSS>_<name>/migration.sql, applied
// in directory-name order (migration_lock.toml and other files are
// ignored). The history is _prisma_migrations(id, checksum, finished_at,
// migration_name, logs, rolled_back_at, started_at, applied_steps_count),
// one row per attempt. A row with neither finished_at nor rolled_back_at is
// a failed migration, which blocks `prisma migrate deploy`; a row marked
// rolled back (`prisma migrate resolve --rolled-back`) does not count, so
// that migration is pending again until a later attempt finishes.
//
// checksum is the lowercase hex SHA-256 of migration.sql. Prisma's engine
// (schema-engine checksum.rs) also accepts the file with its line endings
// turned LF<->CRLF, as git may check it out, and old checksums written
// without zero padding; so does the check.
type prisma struct{}

func (prisma) Name() string          { return "prisma" }
func (prisma) Tables() []string      { return []string{"_prisma_migrations"} }
func (prisma) DefaultSchema() string { return "" }

// Detect requires Prisma's bookkeeping columns.
func (prisma) Detect(_ *Catalog, t Table) bool {
	for _, c := range []string{"migration_name", "checksum", "finished_at", "rolled_back_at"} {
		if _, ok := t.Columns[c]; !ok {
			return false
		}
	}
	return true
}

// ParseFiles lists the migration directories in name order. Checksum holds
// every checksum Prisma accepts for the file, space separated.
func (prisma) ParseFiles(fsys fs.FS) ([]Migration, error) {
	entries, err := fs.ReadDir(fsys, ".")
	if err != nil {
		return nil, err
	}
	var out []Migration
	for _, e := range entries {
		if !e.IsDir() || skipDir(e.Name()) {
			continue
		}
		script, err := fs.ReadFile(fsys, path.Join(e.Name(), "migration.sql"))
		if errors.Is(err, fs.ErrNotExist) {
			return nil, &InvalidFileError{e.Name(), "has no migration.sql: Prisma takes every directory here for a migration"}
		}
		if err != nil {
			return nil, err
		}
		out = append(out, Migration{Version: e.Name(), Name: e.Name(), Checksum: strings.Join(prismaChecksums(script), " ")})
	}
	slices.SortFunc(out, func(a, b Migration) int { return strings.Compare(a.Version, b.Version) })
	return out, nil
}

// prismaChecksums are the checksums Prisma accepts for script: of the file
// as it is, with CRLF turned LF, and with LF turned CRLF.
func prismaChecksums(script []byte) []string {
	variants := [][]byte{
		script,
		bytes.ReplaceAll(script, []byte("\r\n"), []byte("\n")),
		bytes.ReplaceAll(script, []byte("\n"), []byte("\r\n")),
	}
	var sums []string
	for _, v := range variants {
		sum := sha256.Sum256(v)
		if s := hex.EncodeToString(sum[:]); !slices.Contains(sums, s) {
			sums = append(sums, s)
		}
	}
	return sums
}

// prismaChecksumMatches reports whether a stored checksum is one Prisma
// accepts for the file, including the unpadded form of old engines (each
// byte without its leading zero).
func prismaChecksumMatches(accepted, stored string) bool {
	for _, sum := range strings.Fields(accepted) {
		if stored == sum || (len(stored) != len(sum) && stored == prismaUnpadded(sum)) {
			return true
		}
	}
	return false
}

func prismaUnpadded(sum string) string {
	var b strings.Builder
	for i := 0; i+1 < len(sum); i += 2 {
		b.WriteString(strings.TrimPrefix(sum[i:i+2], "0"))
	}
	return b.String()
}

// prismaAttempt is one row of _prisma_migrations, its fields in the order
// Status selects the columns (pgx.RowToStructByPos).
type prismaAttempt struct {
	Name, Checksum       string
	Finished, RolledBack bool
	Started              time.Time
}

// Status reads every attempt in the order they started.
func (prisma) Status(ctx context.Context, db Querier, loc Location, disk []Migration) (Report, error) {
	rows, err := db.Query(ctx, `SELECT migration_name, checksum, finished_at IS NOT NULL, rolled_back_at IS NOT NULL, started_at
		FROM `+loc.Main()+` ORDER BY started_at, migration_name`)
	if err != nil {
		return Report{}, err
	}
	attempts, err := pgx.CollectRows(rows, pgx.RowToStructByPos[prismaAttempt])
	if err != nil {
		return Report{}, err
	}
	return compareRows(disk, prismaRows(disk, attempts)), nil
}

// prismaRows reduces the attempts to one row per migration, in the order
// they were first attempted, leaving out rolled-back attempts: failed when
// an attempt is unfinished (Prisma refuses to deploy past it whatever else
// the table holds), else applied with the checksum of the first finished
// attempt, replaced by the file's accepted checksums when Prisma accepts it.
func prismaRows(disk []Migration, attempts []prismaAttempt) []Row {
	accepted := map[string]string{}
	for _, m := range disk {
		accepted[m.Version] = m.Checksum
	}
	type state struct {
		row              Row
		finished, failed bool
	}
	var order []*state
	byName := map[string]*state{}
	for _, a := range attempts {
		if a.RolledBack {
			continue
		}
		st, seen := byName[a.Name]
		if !seen {
			st = &state{row: Row{Version: a.Name}}
			byName[a.Name] = st
			order = append(order, st)
		}
		switch {
		case !a.Finished:
			st.failed = true
		case !st.finished:
			st.finished, st.row.Checksum = true, a.Checksum
			if sums, ok := accepted[a.Name]; ok && prismaChecksumMatches(sums, a.Checksum) {
				st.row.Checksum = sums
			}
		}
	}
	rows := make([]Row, 0, len(order))
	for _, st := range order {
		st.row.Failed = st.failed
		rows = append(rows, st.row)
	}
	return rows
}
