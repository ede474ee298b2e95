package migrations

import (
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
)

// TestCompat_Atlas checks the Atlas support against its revisions table.
// The real tool cannot be installed here (it is not on the Go module proxy
// and its npm package downloads the binary at run time), so the test builds
// atlas_schema_revisions as Atlas creates it on PostgreSQL (the ent schema
// in ariga/atlas cmd/atlas/internal/migrate/ent/schema/revision.go; columns
// as observed in shared/research/migration-tools.md) and writes rows as
// sql/migrate's Executor does: a row per file with applied/total statement
// counts, error and error_stmt on failure, and the file's atlas.sum hash.
// The files and hashes start from a directory the real Atlas wrote
// (atlasVector, from github.com/1995parham-teaching/tinyurl).
func TestCompat_Atlas(t *testing.T) {
	dsn := freshDatabase(t)
	dir := t.TempDir()
	for name, f := range atlasVector {
		writeFiles(t, dir, map[string]string{name: string(f.Data)})
	}
	table := atlasCompatTable(t, dsn, "atlas_schema_revisions")
	sums := atlasCompatSums(t, dir)
	apply := func(version, description string, stmts []string, failAt int) {
		t.Helper()
		atlasCompatApply(t, dsn, table, version, description, stmts, sums[atlasCompatFile(version, description)], failAt)
	}
	opts := Options{Dir: dir}
	// The statements Atlas splits the three files into.
	vector := map[string][]string{
		"20230824215746.sql": {`CREATE TABLE "urls" ("key" text NOT NULL, "url" text NULL, "visits" bigint NULL, "expire" timestamptz NULL, "created_at" timestamptz NULL, "updated_at" timestamptz NULL, PRIMARY KEY ("key"));`},
		"20230824221251.sql": {
			`ALTER TABLE "urls" ADD CONSTRAINT "chk_urls_expire" CHECK (expire > created_at), ADD CONSTRAINT "chk_urls_visits" CHECK (visits >= 0);`,
			`CREATE INDEX "idx_urls_url" ON "urls" ("url");`,
		},
		"20230824222826.sql": {"CREATE PROCEDURE visit(key urls.key%TYPE) LANGUAGE SQL BEGIN ATOMIC\nUPDATE\n  urls\nset\n  visits = visits + 1\nwhere\n  urls.key = key;\n\nEND;"},
	}
	stmts := func(name string) []string { return vector[name] }

	apply("20230824215746", "", stmts("20230824215746.sql"), -1)
	apply("20230824221251", "", stmts("20230824221251.sql"), -1)
	expect(t, dsn, opts, expectation{reason: ReasonPending, tool: "atlas", applied: 2, pending: []string{"20230824222826"}})
	apply("20230824222826", "", stmts("20230824222826.sql"), -1)
	expect(t, dsn, opts, expectation{tool: "atlas", applied: 3})

	// A new file, hashed by `atlas migrate hash`, is pending; with --tx-mode
	// none a failing second statement leaves the row half-applied, with
	// the error: that is dirty, not pending.
	broken := []string{"ALTER TABLE urls ADD COLUMN owner text;", "ALTER TABLE no_such_table ADD COLUMN x int;"}
	writeFiles(t, dir, map[string]string{"20230901000000_add_owner.sql": strings.Join(broken, "\n") + "\n"})
	sums = atlasCompatSums(t, dir)
	expect(t, dsn, opts, expectation{reason: ReasonPending, tool: "atlas", applied: 3, pending: []string{"20230901000000_add_owner"}})
	apply("20230901000000", "add_owner", broken, 1)
	expect(t, dsn, opts, expectation{reason: ReasonDirty, tool: "atlas", applied: 3, dirty: []string{"20230901000000_add_owner"}})

	// The operator resolves it (`atlas migrate set` drops the revision),
	// reverts the column and removes the file.
	pgExec(t, dsn, "DELETE FROM "+table+" WHERE version = '20230901000000'; ALTER TABLE urls DROP COLUMN owner")
	os.Remove(filepath.Join(dir, "20230901000000_add_owner.sql"))
	sums = atlasCompatSums(t, dir)
	expect(t, dsn, opts, expectation{tool: "atlas", applied: 3})

	// An applied file edited and re-hashed: its hash and every later one
	// change; Atlas never checks applied revisions' hashes again and says
	// OK, so the check is ready and reports the first edited file as
	// drifted.
	original := atlasVector["20230824221251.sql"].Data
	writeFiles(t, dir, map[string]string{"20230824221251.sql": string(original) + "-- reviewed\n"})
	atlasCompatSums(t, dir)
	expect(t, dsn, opts, expectation{tool: "atlas", applied: 3, drifted: []string{"20230824221251"}})

	// Edited without re-hashing: Atlas refuses the directory, so does the
	// check, naming the line of atlas.sum as Atlas does.
	writeFiles(t, dir, map[string]string{"atlas.sum": string(atlasVector["atlas.sum"].Data)})
	res, _ := check(t, dsn, opts)
	if res.Reason != ReasonInvalidFiles || !strings.Contains(res.Err.Error(), "L3: 20230824221251.sql was edited") {
		t.Fatalf("atlas.sum out of date: %v (%s)", res.Err, res.Reason)
	}
	writeFiles(t, dir, map[string]string{"20230824221251.sql": string(original)})

	// Code rolled back while the database is ahead: unknown, informational.
	os.Remove(filepath.Join(dir, "20230824222826.sql"))
	atlasCompatSums(t, dir)
	expect(t, dsn, opts, expectation{tool: "atlas", applied: 3, unknown: []string{"20230824222826"}})
	expect(t, dsn, Options{}, expectation{tool: "atlas", applied: 3})

	// A non-transactional migration (atlas:txmode none, CREATE INDEX
	// CONCURRENTLY) fails: Atlas writes its revision with the error and the
	// file's hash. The operator fixes the file, re-hashes and applies again,
	// as Atlas documents: Atlas resumes the same revision, updating applied
	// and clearing the error but keeping the first hash, and reports
	// "Migration Status: OK". The check ends ready too, the fixed file
	// drifted.
	pgExec(t, dsn, "DELETE FROM "+table+" WHERE version = '20230824222826'")
	header := "-- atlas:txmode none\n\n"
	failing := []string{`CREATE INDEX CONCURRENTLY "idx_urls_owner" ON "urls" ("owner");`}
	writeFiles(t, dir, map[string]string{"20230910000000_index_owner.sql": header + failing[0] + "\n"})
	sums = atlasCompatSums(t, dir)
	atlasCompatApply(t, dsn, table, "20230910000000", "index_owner", failing, sums["20230910000000_index_owner.sql"], 0)
	expect(t, dsn, opts, expectation{reason: ReasonDirty, tool: "atlas", applied: 2, dirty: []string{"20230910000000_index_owner"}})
	fixed := `CREATE INDEX CONCURRENTLY "idx_urls_url_created" ON "urls" ("url", "created_at");`
	writeFiles(t, dir, map[string]string{"20230910000000_index_owner.sql": header + fixed + "\n"})
	atlasCompatSums(t, dir)
	pgExec(t, dsn, fixed)
	pgExec(t, dsn, "UPDATE "+table+" SET applied = total, error = NULL, error_stmt = NULL, partial_hashes = NULL WHERE version = '20230910000000'")
	expect(t, dsn, opts, expectation{tool: "atlas", applied: 3, drifted: []string{"20230910000000_index_owner"}})
	os.Remove(filepath.Join(dir, "20230910000000_index_owner.sql"))
	atlasCompatSums(t, dir)

	// Atlas given one schema keeps the table in it: found there too.
	bound := freshDatabase(t)
	table = atlasCompatTable(t, bound, "")
	atlasCompatApply(t, bound, table, "20230824215746", "", stmts("20230824215746.sql"), sums["20230824215746.sql"], -1)
	expect(t, bound, Options{Dir: dir}, expectation{tool: "atlas", applied: 1, pending: []string{"20230824221251"}, reason: ReasonPending})
}

// atlasCompatTable creates the revisions table as Atlas does, in schema
// (created) or, with "", in the current schema; it returns its quoted name.
func atlasCompatTable(t *testing.T, dsn, schema string) string {
	t.Helper()
	table := `"atlas_schema_revisions"`
	if schema != "" {
		pgExec(t, dsn, "CREATE SCHEMA "+pgx.Identifier{schema}.Sanitize())
		table = pgx.Identifier{schema, "atlas_schema_revisions"}.Sanitize()
	}
	pgExec(t, dsn, `CREATE TABLE `+table+` (
		"version" character varying NOT NULL,
		"description" character varying NOT NULL,
		"type" bigint NOT NULL DEFAULT 2,
		"applied" bigint NOT NULL DEFAULT 0,
		"total" bigint NOT NULL DEFAULT 0,
		"executed_at" timestamptz NOT NULL,
		"execution_time" bigint NOT NULL,
		"error" text NULL,
		"error_stmt" text NULL,
		"hash" character varying NOT NULL,
		"partial_hashes" jsonb NULL,
		"operator_version" character varying NOT NULL,
		PRIMARY KEY ("version"))`)
	return table
}

// atlasCompatApply runs a file's statements and records the revision the
// way Atlas does; failAt is the index of the statement that fails, or -1.
func atlasCompatApply(t *testing.T, dsn, table, version, description string, stmts []string, hash string, failAt int) {
	t.Helper()
	applied, errText, errStmt := len(stmts), "", ""
	for i, stmt := range stmts {
		if i == failAt {
			applied, errStmt = i, stmt
			errText = `pq: relation "no_such_table" does not exist`
			break
		}
		pgExec(t, dsn, stmt)
	}
	partial := "null"
	if errText != "" {
		partial = `["h1:` + atlasCompatStmtHash(stmts[:applied]) + `"]`
	}
	pgExec(t, dsn, fmt.Sprintf(`INSERT INTO %s (version, description, type, applied, total, executed_at,
		execution_time, error, error_stmt, hash, partial_hashes, operator_version)
		VALUES (%s, %s, 2, %d, %d, now(), 1200000, %s, %s, %s, %s, 'Atlas CLI v0.14.1')`,
		table, atlasQuote(version), atlasQuote(description), applied, len(stmts),
		atlasQuote(errText), atlasQuote(errStmt), atlasQuote(hash), atlasQuote(partial)))
}

// atlasCompatSums writes atlas.sum for dir as `atlas migrate hash` does
// and returns each file's hash. It is written here independently of
// atlasHashes: one running SHA-256 over name and bytes of the sorted files.
func atlasCompatSums(t *testing.T, dir string) map[string]string {
	t.Helper()
	names, err := filepath.Glob(filepath.Join(dir, "*.sql"))
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(names)
	running, total := sha256.New(), sha256.New()
	sums := map[string]string{}
	var lines []string
	for _, path := range names {
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		name := filepath.Base(path)
		running.Write([]byte(name))
		running.Write(data)
		sums[name] = base64.StdEncoding.EncodeToString(running.Sum(nil))
		total.Write([]byte(name))
		total.Write([]byte(sums[name]))
		lines = append(lines, name+" h1:"+sums[name]+"\n")
	}
	content := "h1:" + base64.StdEncoding.EncodeToString(total.Sum(nil)) + "\n" + strings.Join(lines, "")
	writeFiles(t, dir, map[string]string{"atlas.sum": content})
	return sums
}

// atlasCompatStmtHash is the running statement hash Atlas keeps in
// partial_hashes.
func atlasCompatStmtHash(stmts []string) string {
	h := sha256.New()
	for _, s := range stmts {
		h.Write([]byte(s))
	}
	return base64.StdEncoding.EncodeToString(h.Sum(nil))
}

func atlasCompatFile(version, description string) string {
	if description == "" {
		return version + ".sql"
	}
	return version + "_" + description + ".sql"
}

// atlasQuote quotes s as an SQL string literal.
func atlasQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", "''") + "'"
}
