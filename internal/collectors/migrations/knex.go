package migrations

import (
	"context"
	"io/fs"
	"path"
	"slices"

	"github.com/jackc/pgx/v5"
)

// knex is Knex.js migrations (knex migrate:latest): every file of the
// migrations directory whose extension Knex loads by default (.js, .cjs,
// .ts, .coffee, ...; not .mjs, which needs loadExtensions), in file-name
// order. knex_migrations(id serial, name varchar, batch int,
// migration_time timestamptz) gets one row per applied migration whose
// name is the file name with its extension ("20240101000000_users.js").
// A batch runs in one transaction by default: a failing file leaves no row
// for any file of its batch, which then all show as pending.
//
// knex_migrations_lock(index serial, is_locked int) is Knex's lock. With
// the default transaction it is set inside the batch's transaction and a
// killed run leaves it free; a run with transactions disabled (a
// migration's `config = { transaction: false }` or disableTransactions)
// commits is_locked = 1 first, and dying mid-run leaves it set: Knex then
// refuses to migrate ("Migration table is already locked") until
// `knex migrate:unlock`. With a custom tableName the lock table is
// <tableName>_lock.
type knex struct{}

func (knex) Name() string          { return "knex" }
func (knex) Tables() []string      { return []string{"knex_migrations", "knex_migrations_lock"} }
func (knex) DefaultSchema() string { return "" }

// Detect recognises knex_migrations' columns.
func (knex) Detect(_ *Catalog, t Table) bool {
	return t.Columns["name"] != "" && t.Columns["batch"] != "" && t.Columns["migration_time"] != ""
}

// knexExtensions are the file extensions Knex 3 loads by default
// (DEFAULT_LOAD_EXTENSIONS in lib/migrations/common/MigrationsLoader.js).
var knexExtensions = []string{".co", ".coffee", ".eg", ".iced", ".js", ".cjs", ".litcoffee", ".ls", ".ts"}

// ParseFiles lists the migrations in Knex's order: the directory's files
// with a loadable extension, sorted by file name.
func (knex) ParseFiles(fsys fs.FS) ([]Migration, error) {
	entries, err := fs.ReadDir(fsys, ".")
	if err != nil {
		return nil, err
	}
	var names []string
	for _, e := range entries {
		if !e.IsDir() && slices.Contains(knexExtensions, path.Ext(e.Name())) {
			names = append(names, e.Name())
		}
	}
	slices.Sort(names)
	out := make([]Migration, len(names))
	for i, name := range names {
		out[i] = Migration{Version: name, Name: name}
	}
	return out, nil
}

// Status reads the applied migrations in the order Knex applied them, and
// the lock.
func (knex) Status(ctx context.Context, db Querier, loc Location, disk []Migration) (Report, error) {
	rows, err := db.Query(ctx, "SELECT name FROM "+loc.Main()+" ORDER BY id")
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
	r := compareRows(disk, applied)

	lock := loc.Qualified(knexLockTable(loc.Table))
	var locked bool
	err = db.QueryRow(ctx, `SELECT to_regclass($1) IS NOT NULL`, lock).Scan(&locked)
	if err == nil && locked {
		err = db.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM "+lock+" WHERE is_locked = 1)").Scan(&locked)
	}
	if err != nil {
		return Report{}, err
	}
	if locked {
		r.Locked = true
		r.LockDetail = knexLockTable(loc.Table) + ".is_locked = 1: a knex run holds it or died holding it (`knex migrate:unlock` releases it)"
	}
	return r, nil
}

// knexLockTable is the lock table Knex keeps beside its migrations table.
func knexLockTable(table string) string { return table + "_lock" }
