package migrations

import (
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// Liquibase starts a JVM per command (~5 s), so this test runs it three
// times: an update that stops at a failing changeset, an update refused
// for a changed checksum, and an update killed mid-changeset.

const liquibaseMaster = `databaseChangeLog:
  - includeAll:
      path: changes/
      relativeToChangelogFile: true
`

// liquibaseUsers has CRLF line endings, tabs, comments and non-ASCII text,
// all of which the checksum must treat as Liquibase does.
const liquibaseUsers = "--liquibase formatted sql\r\n\r\n" +
	"--changeset alice:1\r\n--comment: the first table\r\n" +
	"CREATE TABLE users (\r\n\tid   serial PRIMARY KEY,   -- tab-indented\r\n\tname text DEFAULT 'Zoë'\r\n);\r\n" +
	"--rollback DROP TABLE users;\r\n\r\n" +
	"--changeset alice:2 runOnChange:true\r\nALTER TABLE users ADD COLUMN email text;\r\n"

const liquibaseMore = `--liquibase formatted sql logicalFilePath:legacy/more.sql

--changeset bob:3 dbms:!h2
/* liquibase rollback
DROP INDEX users_email;
*/
CREATE INDEX users_email ON users (email);
INSERT INTO users (name) VALUES ('a;b');

--changeset bob:4 dbms:mysql
SELECT 'never on PostgreSQL';

--changeset bob:5 ignore:true
SELECT 'never';

--changeset "carol":"quoted id" splitStatements:false
CREATE FUNCTION one() RETURNS int LANGUAGE sql AS $$ SELECT 1; $$;
`

func liquibaseLast(seven string) string {
	return "--liquibase formatted sql\n\n--changeset dave:6\nCREATE TABLE good (id int);\n\n--changeset dave:7\n" + seven + "\n"
}

func TestCompat_Liquibase(t *testing.T) {
	bin := requireTool(t, "liquibase")
	dsn := freshDatabase(t)
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{
		"changelog.yaml":        liquibaseMaster,
		"changes/001_users.sql": liquibaseUsers,
		"changes/002_more.sql":  liquibaseMore,
		"changes/003_last.sql":  liquibaseLast("ALTER TABLE no_such_table ADD COLUMN x int;"),
	})
	update := liquibaseCommand(t, bin, dsn, dir, "update")
	opts := Options{Dir: dir}
	const seven = "changes/003_last.sql::7::dave"

	// Each changeset commits on its own; the failing one is not recorded
	// and stays pending. Every recorded md5sum matches the parser's.
	if out, err := update.CombinedOutput(); err == nil || !strings.Contains(string(out), "no_such_table") {
		t.Fatalf("liquibase update did not fail on the broken changeset (%v):\n%s", err, out)
	}
	expect(t, dsn, opts, expectation{reason: ReasonPending, tool: "liquibase", applied: 5, pending: []string{seven}})
	// The directory of the included files alone: recorded filenames carry
	// the "changes/" prefix, which still matches.
	expect(t, dsn, Options{Dir: filepath.Join(dir, "changes"), Tool: "liquibase"},
		expectation{reason: ReasonPending, tool: "liquibase", applied: 5, pending: []string{"003_last.sql::7::dave"}})

	// An applied changeset edited: Liquibase refuses to update, naming the
	// same changeset; reformatting another one changes nothing for either.
	writeFiles(t, dir, map[string]string{
		"changes/001_users.sql": strings.Replace(liquibaseUsers, "name text", "name varchar(80)", 1),
		"changes/003_last.sql":  strings.Replace(liquibaseLast("SELECT 1;"), "(id int)", "(   id\tint   )", 1),
	})
	expect(t, dsn, opts, expectation{reason: ReasonChecksumMismatch, tool: "liquibase", applied: 5,
		pending: []string{seven}, checksumMismatches: []string{"changes/001_users.sql::1::alice"}})
	out, err := liquibaseCommand(t, bin, dsn, dir, "update").CombinedOutput()
	if err == nil || !strings.Contains(string(out), "changes/001_users.sql::1::alice") || strings.Contains(string(out), "::6::dave") {
		t.Fatalf("liquibase update with a changed changeset (%v):\n%s", err, out)
	}
	disk, err := liquibase{}.ParseFiles(os.DirFS(dir))
	if err != nil {
		t.Fatal(err)
	}
	if m := regexp.MustCompile(`is now: (9:[0-9a-f]{32})`).FindStringSubmatch(string(out)); m == nil || m[1] != disk[0].Checksum {
		t.Fatalf("Liquibase's checksum of the edited changeset %v, the parser's %s:\n%s", m, disk[0].Checksum, out)
	}

	// An update killed mid-changeset leaves the lock held.
	writeFiles(t, dir, map[string]string{
		"changes/001_users.sql": liquibaseUsers,
		"changes/003_last.sql":  liquibaseLast("SELECT pg_sleep(60);"),
	})
	killToolDuring(t, dsn, "pg_sleep(60)", liquibaseCommand(t, bin, dsn, dir, "update"))
	r := expect(t, dsn, opts, expectation{reason: ReasonLocked, tool: "liquibase", applied: 5, pending: []string{seven}, locked: true})
	if !strings.Contains(r.LockDetail, "databasechangeloglock") || !strings.Contains(r.LockDetail, "locked by") {
		t.Fatalf("lock detail %q", r.LockDetail)
	}

	// Code rolled back: the database has changesets the directory lacks.
	os.Remove(filepath.Join(dir, "changes", "002_more.sql"))
	pgExec(t, dsn, "UPDATE databasechangeloglock SET locked = false")
	expect(t, dsn, opts, expectation{tool: "liquibase", applied: 5, pending: []string{seven},
		reason: ReasonPending, unknown: []string{"legacy/more.sql::3::bob", "legacy/more.sql::quoted id::carol"}})
	expect(t, dsn, Options{}, expectation{tool: "liquibase", applied: 5})
}

func TestCompat_Liquibase_CustomTableName(t *testing.T) {
	bin := requireTool(t, "liquibase")
	dsn := freshDatabase(t)
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{"changelog.sql": "--liquibase formatted sql\n--changeset ann:1\nCREATE TABLE t (id int);\n"})
	cmd := liquibaseCommand(t, bin, dsn, dir, "update")
	cmd.Args = append(cmd.Args[:1], append([]string{"--database-changelog-table-name=app_changelog",
		"--database-changelog-lock-table-name=app_changeloglock"}, cmd.Args[1:]...)...)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("liquibase update: %v\n%s", err, out)
	}
	opts := Options{Dir: dir, Table: "app_changelog"}
	expect(t, dsn, opts, expectation{tool: "liquibase", applied: 1})
	pgExec(t, dsn, "UPDATE app_changeloglock SET locked = true, lockgranted = now(), lockedby = 'host (10.0.0.1)'")
	expect(t, dsn, opts, expectation{reason: ReasonLocked, tool: "liquibase", applied: 1, locked: true})
}

// liquibaseCommand runs a Liquibase command against dsn with the changelog
// changelog.yaml (or changelog.sql) in dir.
func liquibaseCommand(t *testing.T, bin, dsn, dir, command string) *exec.Cmd {
	t.Helper()
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	changelog := "changelog.yaml"
	if _, err := os.Stat(filepath.Join(dir, changelog)); err != nil {
		changelog = "changelog.sql"
	}
	cmd := exec.Command(bin, "--show-banner=false", "--search-path="+dir, "--changelog-file="+changelog,
		"--url=jdbc:postgresql://"+u.Host+u.Path, "--username="+u.User.Username(), command)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "HOME="+t.TempDir())
	return cmd
}
