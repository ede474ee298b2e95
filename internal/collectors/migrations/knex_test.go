package migrations

import (
	"slices"
	"testing"
	"testing/fstest"
)

func TestKnex_ParseFiles_LoadableExtensionsInFileNameOrder(t *testing.T) {
	fsys := fstest.MapFS{
		"20240102000000_email.ts":     {},
		"20240101000000_users.js":     {},
		"20240103000000_index.cjs":    {},
		"20240104000000_esm.mjs":      {}, // not in Knex's default loadExtensions
		"README.md":                   {},
		"knexfile.json":               {},
		"sub/20240100000000_skip.js":  {}, // Knex does not descend
		"20240105000000_types.coffee": {},
	}
	got, err := knex{}.ParseFiles(fsys)
	if err != nil {
		t.Fatal(err)
	}
	var versions []string
	for _, m := range got {
		if m.Name != m.Version {
			t.Errorf("%s: name %q differs from the recorded file name", m.Version, m.Name)
		}
		versions = append(versions, m.Version)
	}
	want := []string{"20240101000000_users.js", "20240102000000_email.ts", "20240103000000_index.cjs", "20240105000000_types.coffee"}
	if !slices.Equal(versions, want) {
		t.Fatalf("got %v, want %v", versions, want)
	}
}

func TestKnex_DetectsItsTableByColumns(t *testing.T) {
	own := Table{Name: "knex_migrations", Columns: map[string]string{
		"id": "integer", "name": "character varying", "batch": "integer", "migration_time": "timestamp with time zone"}}
	pgmigrations := Table{Name: "knex_migrations", Columns: map[string]string{
		"id": "integer", "name": "character varying", "run_on": "timestamp without time zone"}}
	if !(knex{}).Detect(&Catalog{}, own) || (knex{}).Detect(&Catalog{}, pgmigrations) {
		t.Fatal("knex_migrations must be recognised by name, batch and migration_time")
	}
	if knexLockTable("app_migrations") != "app_migrations_lock" {
		t.Fatal("the lock table follows the custom table name")
	}
}
