package migrations

import (
	"fmt"
	"hash/crc32"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
)

// TestCompat_Flyway checks the Flyway support against its history table.
// The real tool cannot be installed here (no Debian or Go package; its npm
// wrappers download it at run time), so the test creates
// flyway_schema_history with the DDL of Flyway's PostgreSQL support
// (flyway-database-postgresql, PostgreSQLDatabase.getRawCreateScript) and
// writes rows as Flyway does: the schema-creation marker, one row per run
// in installed_rank order with the script's CRC32 checksum, success = false
// for a failed non-transactional migration, a new row each time a changed
// repeatable is re-applied, a BASELINE row for `flyway baseline`.
func TestCompat_Flyway(t *testing.T) {
	dsn := freshDatabase(t)
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{
		"V1__create_users.sql":   "CREATE TABLE users (id serial PRIMARY KEY);\n",
		"V1_1__add_email.sql":    "ALTER TABLE users\n  ADD COLUMN email text;\n",
		"V2__add_index.sql":      "CREATE INDEX users_email ON users (email);\n",
		"views/R__user_view.sql": "CREATE OR REPLACE VIEW user_emails AS SELECT email FROM users;\n",
		"U1_1__drop_email.sql":   "ALTER TABLE users DROP COLUMN email;\n",
	})
	// flyway.schemas=app: Flyway creates the schema and its table there.
	pgExec(t, dsn, "CREATE SCHEMA app")
	h := flywayCompatHistory{t: t, dsn: dsn, dir: dir, table: flywayCompatTable(t, dsn, "app", "flyway_schema_history"), schema: "app"}
	h.insert(nil, "<< Flyway Schema Creation >>", "SCHEMA", `"app"`, nil, true)
	opts := Options{Dir: dir}

	h.migrate("V1__create_users.sql", "V1_1__add_email.sql") // flyway migrate -target=1.1
	expect(t, dsn, opts, expectation{reason: ReasonPending, tool: "flyway", applied: 2, pending: []string{"V2__add_index", "R__user_view"}})
	h.migrate("V2__add_index.sql", "views/R__user_view.sql")
	r := expect(t, dsn, opts, expectation{tool: "flyway", applied: 4})
	if r.LatestApplied != "2" || r.LatestOnDisk != "2" {
		t.Fatalf("latest %q on disk %q", r.LatestApplied, r.LatestOnDisk)
	}

	// A changed repeatable is outdated: pending until Flyway re-applies it.
	writeFiles(t, dir, map[string]string{"views/R__user_view.sql": "CREATE OR REPLACE VIEW user_emails AS SELECT email, id FROM users;\n"})
	expect(t, dsn, opts, expectation{reason: ReasonPending, tool: "flyway", applied: 4, pending: []string{"R__user_view"}})
	h.migrate("views/R__user_view.sql")
	expect(t, dsn, opts, expectation{tool: "flyway", applied: 4})

	// A non-transactional migration (executeInTransaction=false) that fails
	// leaves success = false: failed, and Flyway refuses to go on.
	writeFiles(t, dir, map[string]string{
		"V3__concurrent_index.sql":      "CREATE INDEX CONCURRENTLY orders_user ON no_such_table (user_id);\n",
		"V3__concurrent_index.sql.conf": "executeInTransaction=false\n",
	})
	h.migrate("V3__concurrent_index.sql")
	expect(t, dsn, opts, expectation{reason: ReasonDirty, tool: "flyway", applied: 4, dirty: []string{"V3__concurrent_index"}})
	// `flyway repair` removes the failed row; the file is withdrawn.
	pgExec(t, dsn, "DELETE FROM "+h.table+" WHERE NOT success")
	os.Remove(filepath.Join(dir, "V3__concurrent_index.sql"))
	expect(t, dsn, opts, expectation{tool: "flyway", applied: 4})

	// An applied versioned file edited: checksum mismatch; only its line
	// endings changed: the same checksum.
	original := "ALTER TABLE users\n  ADD COLUMN email text;\n"
	writeFiles(t, dir, map[string]string{"V1_1__add_email.sql": strings.ReplaceAll(original, "\n", "\r\n")})
	expect(t, dsn, opts, expectation{tool: "flyway", applied: 4})
	writeFiles(t, dir, map[string]string{"V1_1__add_email.sql": "ALTER TABLE users ADD COLUMN email varchar(320);\n"})
	expect(t, dsn, opts, expectation{reason: ReasonChecksumMismatch, tool: "flyway", applied: 4, checksumMismatches: []string{"V1_1__add_email"}})
	writeFiles(t, dir, map[string]string{"V1_1__add_email.sql": original})

	// Code rolled back while the database is ahead: unknown, informational.
	os.Remove(filepath.Join(dir, "V2__add_index.sql"))
	expect(t, dsn, opts, expectation{tool: "flyway", applied: 4, unknown: []string{"V2__add_index"}})
	expect(t, dsn, Options{}, expectation{tool: "flyway", applied: 4})

	// flyway.table=deploy_history on a database baselined at version 1:
	// V1 is below the baseline, the rest applies.
	based := freshDatabase(t)
	b := flywayCompatHistory{t: t, dsn: based, dir: dir, table: flywayCompatTable(t, based, "", "deploy_history")}
	pgExec(t, based, "CREATE TABLE users (id serial PRIMARY KEY)")
	b.insert(flywayPtr("1"), "<< Flyway Baseline >>", "BASELINE", "<< Flyway Baseline >>", nil, true)
	b.migrate("V1_1__add_email.sql", "views/R__user_view.sql")
	expect(t, based, Options{Dir: dir, Table: "deploy_history"}, expectation{tool: "flyway", applied: 3})
}

func flywayPtr(s string) *string { return &s }

// flywayCompatTable creates the history table as Flyway does on
// PostgreSQL and returns its quoted name.
func flywayCompatTable(t *testing.T, dsn, schema, name string) string {
	t.Helper()
	table := pgx.Identifier{name}.Sanitize()
	if schema != "" {
		table = pgx.Identifier{schema, name}.Sanitize()
	}
	pgExec(t, dsn, fmt.Sprintf(`CREATE TABLE %[1]s (
    "installed_rank" INT NOT NULL,
    "version" VARCHAR(50),
    "description" VARCHAR(200) NOT NULL,
    "type" VARCHAR(20) NOT NULL,
    "script" VARCHAR(1000) NOT NULL,
    "checksum" INTEGER,
    "installed_by" VARCHAR(100) NOT NULL,
    "installed_on" TIMESTAMP NOT NULL DEFAULT now(),
    "execution_time" INTEGER NOT NULL,
    "success" BOOLEAN NOT NULL
);
ALTER TABLE %[1]s ADD CONSTRAINT %[2]s PRIMARY KEY ("installed_rank");
CREATE INDEX %[3]s ON %[1]s ("success");`, table, pgx.Identifier{name + "_pk"}.Sanitize(), pgx.Identifier{name + "_s_idx"}.Sanitize()))
	return table
}

// flywayCompatHistory runs migration files and records them as Flyway does.
type flywayCompatHistory struct {
	t                       *testing.T
	dsn, dir, table, schema string
}

// migrate runs each file (a failure is recorded, not fatal) and appends
// its row.
func (h flywayCompatHistory) migrate(files ...string) {
	h.t.Helper()
	for _, file := range files {
		data, err := os.ReadFile(filepath.Join(h.dir, file))
		if err != nil {
			h.t.Fatal(err)
		}
		sql := string(data)
		if h.schema != "" {
			sql = "SET search_path TO " + h.schema + ";\n" + sql
		}
		ok := prismaCompatExec(h.dsn, sql) == nil
		name := strings.TrimSuffix(filepath.Base(file), ".sql")
		version, description, _ := strings.Cut(name[1:], "__")
		var v *string
		if name[0] == 'V' {
			v = flywayPtr(strings.ReplaceAll(version, "_", "."))
		}
		sum := flywayCompatChecksum(data)
		h.insert(v, strings.ReplaceAll(description, "_", " "), "SQL", file, &sum, ok)
	}
}

func (h flywayCompatHistory) insert(version *string, description, typ, script string, checksum *int32, success bool) {
	h.t.Helper()
	if err := prismaCompatExec(h.dsn, `INSERT INTO `+h.table+` (installed_rank, version, description, type, script, checksum, installed_by, execution_time, success)
		VALUES ((SELECT COALESCE(max(installed_rank), 0) + 1 FROM `+h.table+`), $1, $2, $3, $4, $5, current_user, 12, $6)`,
		version, description, typ, script, checksum, success); err != nil {
		h.t.Fatal(err)
	}
}

// flywayCompatChecksum is Flyway's checksum written independently of
// flywayChecksum: normalise the line endings, drop a leading BOM and the
// line breaks, CRC32 what is left.
func flywayCompatChecksum(data []byte) int32 {
	s := strings.TrimPrefix(string(data), "\uFEFF")
	s = strings.NewReplacer("\r\n", "", "\r", "", "\n", "").Replace(s)
	return int32(crc32.ChecksumIEEE([]byte(s)))
}
