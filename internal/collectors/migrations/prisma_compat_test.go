package migrations

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
)

// TestCompat_Prisma checks the Prisma support against _prisma_migrations.
// The real tool cannot be installed here (its CLI downloads a schema
// engine at run time), so the test creates the table with the DDL of
// prisma-engines' PostgreSQL flavour (sql-schema-connector,
// create_migrations_table) and writes rows as `prisma migrate deploy` and
// `prisma migrate resolve` do: a row when a migration starts, holding the
// hex SHA-256 of migration.sql; applied_steps_count and finished_at when it
// succeeds; logs and no finished_at when it fails; rolled_back_at when the
// operator resolves it as rolled back.
func TestCompat_Prisma(t *testing.T) {
	dsn := freshDatabase(t)
	dir := t.TempDir() // prisma/migrations
	writeFiles(t, dir, map[string]string{
		"migration_lock.toml":                       "provider = \"postgresql\"\n",
		"20240101120000_init/migration.sql":         "-- CreateTable\nCREATE TABLE \"User\" (\"id\" SERIAL NOT NULL, CONSTRAINT \"User_pkey\" PRIMARY KEY (\"id\"));\n",
		"20240102120000_add_email/migration.sql":    "-- AlterTable\nALTER TABLE \"User\" ADD COLUMN \"email\" TEXT;\n",
		"20240103120000_email_unique/migration.sql": "-- CreateIndex\nCREATE UNIQUE INDEX \"User_email_key\" ON \"User\"(\"email\");\n",
	})
	pgExec(t, dsn, `CREATE TABLE _prisma_migrations (
		id                      VARCHAR(36) PRIMARY KEY NOT NULL,
		checksum                VARCHAR(64) NOT NULL,
		finished_at             TIMESTAMPTZ,
		migration_name          VARCHAR(255) NOT NULL,
		logs                    TEXT,
		rolled_back_at          TIMESTAMPTZ,
		started_at              TIMESTAMPTZ NOT NULL DEFAULT now(),
		applied_steps_count     INTEGER NOT NULL DEFAULT 0)`)
	deploy := func(name string) { prismaCompatDeploy(t, dsn, dir, name) }
	opts := Options{Dir: dir}

	deploy("20240101120000_init")
	deploy("20240102120000_add_email")
	expect(t, dsn, opts, expectation{reason: ReasonPending, tool: "prisma", applied: 2, pending: []string{"20240103120000_email_unique"}})
	deploy("20240103120000_email_unique")
	expect(t, dsn, opts, expectation{tool: "prisma", applied: 3})

	// A failing migration leaves its row unfinished: failed, and Prisma
	// refuses to deploy past it.
	writeFiles(t, dir, map[string]string{"20240104120000_backfill/migration.sql": "UPDATE no_such_table SET x = 1;\n"})
	deploy("20240104120000_backfill")
	expect(t, dsn, opts, expectation{reason: ReasonDirty, tool: "prisma", applied: 3, dirty: []string{"20240104120000_backfill"}})

	// `prisma migrate resolve --rolled-back`: the attempt no longer counts
	// and the migration is pending again; the fixed file then deploys.
	pgExec(t, dsn, "UPDATE _prisma_migrations SET rolled_back_at = now() WHERE migration_name = '20240104120000_backfill' AND finished_at IS NULL")
	expect(t, dsn, opts, expectation{reason: ReasonPending, tool: "prisma", applied: 3, pending: []string{"20240104120000_backfill"}})
	writeFiles(t, dir, map[string]string{"20240104120000_backfill/migration.sql": "UPDATE \"User\" SET email = lower(email);\n"})
	deploy("20240104120000_backfill")
	expect(t, dsn, opts, expectation{tool: "prisma", applied: 4})

	// An applied migration edited afterwards: checksum mismatch. Only its
	// line endings changed (git on Windows): Prisma accepts it, so do we.
	file := filepath.Join(dir, "20240102120000_add_email", "migration.sql")
	original, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	writeFiles(t, dir, map[string]string{"20240102120000_add_email/migration.sql": strings.ReplaceAll(string(original), "\n", "\r\n")})
	expect(t, dsn, opts, expectation{tool: "prisma", applied: 4})
	writeFiles(t, dir, map[string]string{"20240102120000_add_email/migration.sql": string(original) + "-- edited\n"})
	expect(t, dsn, opts, expectation{reason: ReasonChecksumMismatch, tool: "prisma", applied: 4, checksumMismatches: []string{"20240102120000_add_email"}})
	writeFiles(t, dir, map[string]string{"20240102120000_add_email/migration.sql": string(original)})

	// Code rolled back while the database is ahead: unknown, informational.
	if err := os.RemoveAll(filepath.Join(dir, "20240104120000_backfill")); err != nil {
		t.Fatal(err)
	}
	expect(t, dsn, opts, expectation{tool: "prisma", applied: 4, unknown: []string{"20240104120000_backfill"}})
	expect(t, dsn, Options{}, expectation{tool: "prisma", applied: 4})
}

// prismaCompatDeploy applies one migration the way `prisma migrate deploy`
// does on PostgreSQL: record the start, run the script (one implicit
// transaction), then record the step and the finish, or the error in logs.
func prismaCompatDeploy(t *testing.T, dsn, dir, name string) {
	t.Helper()
	script, err := os.ReadFile(filepath.Join(dir, name, "migration.sql"))
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(script)
	id := hex.EncodeToString(sum[:])[:8] + "-" + name[:14] // unique here, as Prisma's UUID is
	record := func(sql string, args ...any) {
		t.Helper()
		if err := prismaCompatExec(dsn, sql, args...); err != nil {
			t.Fatal(err)
		}
	}
	record("INSERT INTO _prisma_migrations (id, checksum, migration_name, started_at) VALUES ($1, $2, $3, now())",
		id, hex.EncodeToString(sum[:]), name)
	if err := prismaCompatExec(dsn, string(script)); err != nil {
		record("UPDATE _prisma_migrations SET logs = $1 WHERE id = $2", err.Error(), id)
		return
	}
	record("UPDATE _prisma_migrations SET applied_steps_count = 1, finished_at = now() WHERE id = $1", id)
}

// prismaCompatExec runs sql on dsn and returns its error.
func prismaCompatExec(dsn, sql string, args ...any) error {
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	_, err = conn.Exec(ctx, sql, args...)
	return err
}
