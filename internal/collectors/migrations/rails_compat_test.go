package migrations

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// railsMigrateScript migrates the database in DATABASE_URL with the
// migrations in the directory given as the first argument, the way
// `rails db:migrate` does (ActiveRecord::MigrationContext). A second
// argument sets ActiveRecord's table name prefix.
const railsMigrateScript = `
require "active_record"
ActiveRecord::Base.table_name_prefix = ARGV[1] if ARGV[1]
ActiveRecord::Base.establish_connection(ENV.fetch("DATABASE_URL"))
ActiveRecord::Migration.verbose = false
ActiveRecord::MigrationContext.new(ARGV.fetch(0), ActiveRecord::Base.connection.schema_migration).migrate
`

// railsMigration is a migration file defining class.
func railsMigration(class, change string) string {
	return "class " + class + " < ActiveRecord::Migration[6.1]\n  def change\n    " + change + "\n  end\nend\n"
}

// railsMigrate runs railsMigrateScript with Debian's Ruby, which has
// ActiveRecord and pg (ruby-activerecord, ruby-pg; .ci/install-tools).
func railsMigrate(t *testing.T, migrateDir, dsn string, args ...string) (string, error) {
	t.Helper()
	ruby := "/usr/bin/ruby"
	if _, err := os.Stat(ruby); err != nil {
		ruby = requireTool(t, "ruby")
	}
	scripts := t.TempDir()
	writeFiles(t, scripts, map[string]string{"migrate.rb": railsMigrateScript})
	args = append([]string{filepath.Join(scripts, "migrate.rb"), migrateDir}, args...)
	return tool(t, migrateDir, []string{"DATABASE_URL=" + dsn}, ruby, args...)
}

func TestCompat_Rails(t *testing.T) {
	dsn := freshDatabase(t)
	dir := filepath.Join(t.TempDir(), "db", "migrate")
	writeFiles(t, dir, map[string]string{
		"001_create_users.rb":         railsMigration("CreateUsers", "create_table :users"),
		"20240102000000_add_email.rb": railsMigration("AddEmail", "add_column :users, :email, :string"),
	})
	opts := Options{Dir: dir}

	if out, err := railsMigrate(t, dir, dsn); err != nil {
		t.Fatalf("migrate: %v\n%s", err, out)
	}
	// Detected without --migrations.tool, by ar_internal_metadata; 001 is
	// recorded as version 1.
	r := expect(t, dsn, opts, expectation{tool: "rails", applied: 2})
	if r.LatestApplied != "20240102000000" {
		t.Fatalf("latest applied %q", r.LatestApplied)
	}

	// A new migration is pending. ActiveRecord records nothing for a
	// failed one (each runs in its own transaction): it stays pending while
	// the good one before it is applied.
	writeFiles(t, dir, map[string]string{
		"20240103000000_add_name.rb": railsMigration("AddName", "add_column :users, :name, :string"),
	})
	expect(t, dsn, opts, expectation{reason: ReasonPending, tool: "rails", applied: 2, pending: []string{"20240103000000_add_name"}})
	writeFiles(t, dir, map[string]string{
		"20240104000000_broken.rb": railsMigration("Broken", "add_column :no_such_table, :x, :integer"),
	})
	if out, err := railsMigrate(t, dir, dsn); err == nil || !strings.Contains(out, "no_such_table") {
		t.Fatalf("the broken migration did not fail as expected: %v\n%s", err, out)
	}
	expect(t, dsn, opts, expectation{reason: ReasonPending, tool: "rails", applied: 3, pending: []string{"20240104000000_broken"}})
	os.Remove(filepath.Join(dir, "20240104000000_broken.rb"))

	// Applied but gone from disk: unknown, informational.
	os.Remove(filepath.Join(dir, "20240103000000_add_name.rb"))
	expect(t, dsn, opts, expectation{tool: "rails", applied: 3, unknown: []string{"20240103000000"}})

	// A name ActiveRecord rejects makes the directory invalid.
	writeFiles(t, dir, map[string]string{"20240105000000_AddAge.rb": railsMigration("AddAge", "")})
	expect(t, dsn, opts, expectation{reason: ReasonInvalidFiles})
	os.Remove(filepath.Join(dir, "20240105000000_AddAge.rb"))

	// Without a directory: at least the expected version.
	expect(t, dsn, Options{ExpectedVersion: "20240103000000"}, expectation{tool: "rails", applied: 3})
	expect(t, dsn, Options{ExpectedVersion: "20240104000000"}, expectation{reason: ReasonBehind, tool: "rails", applied: 3})

	// ActiveRecord's table_name_prefix renames both tables; with
	// --migrations.table alone the prefixed ar_internal_metadata is found and
	// the history is read as Rails'.
	other := freshDatabase(t)
	if out, err := railsMigrate(t, dir, other, "app_"); err != nil {
		t.Fatalf("migrate with a table name prefix: %v\n%s", err, out)
	}
	pgExec(t, other, "SELECT FROM app_ar_internal_metadata") // the prefix applies to both
	expect(t, other, Options{Dir: dir, Table: "app_schema_migrations"}, expectation{tool: "rails", applied: 2})
}
