package migrations

import (
	"path/filepath"
	"testing"
)

// golang-migrate, dbmate and Rails all keep their history in a table named
// schema_migrations. Each real tool builds its own here, and the check,
// told nothing, must name the right tool every time.
func TestCompat_SchemaMigrations_TheThreeToolsAreToldApart(t *testing.T) {
	work := t.TempDir()
	writeFiles(t, work, map[string]string{
		"golang-migrate/000001_create_users.up.sql":   "CREATE TABLE users (id int);",
		"golang-migrate/000001_create_users.down.sql": "DROP TABLE users;",
		"dbmate/001_create_users.sql":                 dbmateFileText("CREATE TABLE users (id int);", "DROP TABLE users;"),
		"rails/db/migrate/001_create_users.rb":        railsMigration("CreateUsers", "create_table :users"),
	})
	type history struct{ dsn, latest string }
	built := map[string]history{} // by tool

	dsn := freshDatabase(t)
	dir := filepath.Join(work, "golang-migrate")
	mustTool(t, dir, nil, requireTool(t, "migrate"), "-path", dir, "-database", dsn, "up")
	built["golang-migrate"] = history{dsn, "1"}

	dsn = freshDatabase(t)
	if out, err := dbmateRun(t, requireTool(t, "dbmate"), filepath.Join(work, "dbmate"), dsn, "up"); err != nil {
		t.Fatalf("dbmate up: %v\n%s", err, out)
	}
	built["dbmate"] = history{dsn, "001"} // as written

	dsn = freshDatabase(t)
	if out, err := railsMigrate(t, filepath.Join(work, "rails", "db", "migrate"), dsn); err != nil {
		t.Fatalf("rails migrate: %v\n%s", err, out)
	}
	built["rails"] = history{dsn, "1"} // as an integer

	for want, h := range built {
		res, r := check(t, h.dsn, Options{})
		if res.Err != nil || r == nil || r.Tool != want || r.LatestApplied != h.latest {
			t.Errorf("%s's schema_migrations: err %v, report %+v", want, res.Err, r)
		}
	}
}
