package migrations

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"testing/fstest"
)

// The md5sum values below were stored by Liquibase 4.28.0 on PostgreSQL 15
// for these changesets (liquibase update, then SELECT md5sum FROM
// databasechangelog); the compatibility test checks more of them live.
func TestLiquibaseChecksum_MatchesWhatLiquibaseStored(t *testing.T) {
	cases := []struct{ body, want string }{
		{"CREATE TABLE users (id int);\n", "9:c79f4efc9ddfa2f54fbae4603bad4c96"},
		{"-- a comment\nALTER TABLE users ADD COLUMN email text;\n  ALTER TABLE users ADD COLUMN name\ttext;\n\n", "9:a7dac132b3ef03d4d09c1a1143644391"},
		{"CREATE INDEX users_email ON users (email);\n", "9:9449e58e4b75353456ee6e5d8d783a7e"},
		{"CREATE TABLE crlf (x text DEFAULT 'héllo');\r\n", "9:f53018c23c01dd9c6d30b364baa2d2cb"},
	}
	for _, tc := range cases {
		if got := liquibaseChecksum(tc.body); got != tc.want {
			t.Errorf("%q: %s, want %s", tc.body, got, tc.want)
		}
	}
	if liquibaseChecksum("SELECT  1;\n") != liquibaseChecksum("SELECT 1;") {
		t.Error("Liquibase ignores whitespace")
	}
}

func TestLiquibase_ParseFiles_FormattedChangelogsInPathOrder(t *testing.T) {
	fsys := fstest.MapFS{
		"changelog.sql": {Data: []byte(`--liquibase formatted sql

--changeset alice:1
CREATE TABLE users (id int);
--rollback DROP TABLE users;

--changeset alice:2 runOnChange:true
--comment: runOnChange changesets are re-run, not checksum-checked
ALTER TABLE users ADD COLUMN email text;

--changeset "bob smith":"3" logicalFilePath:legacy/old.sql
/* liquibase rollback
DROP INDEX x;
*/
CREATE INDEX x ON users (email);

--changeset bob:4 dbms:mysql,oracle
SELECT 1;

--changeset bob:5 ignore:true
SELECT 1;

--changeset bob:6 dbms:!h2
--precondition-sql-check expectedResult:0 SELECT count(*) FROM users
--validCheckSum: 9:00000000000000000000000000000000
SELECT 1;

--changeset bob:7
--ignoreLines:start
SELECT 'not part of it';
--ignoreLines:end
INSERT INTO users VALUES (${id});
`)},
		"changes/001_more.sql": {Data: []byte("\n\n-- Liquibase formatted SQL logicalFilePath:shared.sql\n--changeset carol:a\nSELECT 2;\n")},
		"plain.sql":            {Data: []byte("CREATE TABLE not_a_changelog (id int);\n")},
		"master.xml":           {Data: []byte("<databaseChangeLog/>")},
	}
	got, err := liquibase{}.ParseFiles(fsys)
	if err != nil {
		t.Fatal(err)
	}
	var versions []string
	for _, m := range got {
		versions = append(versions, m.Version)
	}
	want := []string{"changelog.sql::1::alice", "changelog.sql::2::alice", "legacy/old.sql::3::bob smith",
		"changelog.sql::6::bob", "changelog.sql::7::bob", "shared.sql::a::carol"} // changelog.sql < changes/
	if !slices.Equal(versions, want) {
		t.Fatalf("got %v, want %v", versions, want)
	}
	sums := map[string]string{}
	for _, m := range got {
		sums[m.Version] = m.Checksum
	}
	if sums["changelog.sql::1::alice"] != "9:c79f4efc9ddfa2f54fbae4603bad4c96" {
		t.Errorf("rollback lines are not part of the checksum: %s", sums["changelog.sql::1::alice"])
	}
	if sums["legacy/old.sql::3::bob smith"] != liquibaseChecksum("CREATE INDEX x ON users (email);") {
		t.Errorf("a multi-line rollback is not part of the checksum")
	}
	for _, v := range []string{"changelog.sql::2::alice", "changelog.sql::6::bob", "changelog.sql::7::bob"} {
		if sums[v] != "" {
			t.Errorf("%s: runOnChange, validCheckSum and ${properties} leave the checksum unchecked, got %s", v, sums[v])
		}
	}
}

func TestLiquibase_ParseFiles_RejectsWhatLiquibaseRejects(t *testing.T) {
	head := "--liquibase formatted sql\n"
	for name, body := range map[string]string{
		"space after the colon":   "--changeset alice: 1\nSELECT 1;\n",
		"no colon":                "--changeset alice\nSELECT 1;\n",
		"empty changeset":         "--changeset alice:1\n--changeset alice:2\nSELECT 1;\n",
		"duplicate identifier":    "--changeset alice:1\nSELECT 1;\n--changeset alice:1\nSELECT 2;\n",
		"comment outside":         "--comment: hello\n--changeset alice:1\nSELECT 1;\n",
		"single-dash rollback":    "--changeset alice:1\nSELECT 1;\n-rollback DROP x;\n",
		"unclosed rollback block": "--changeset alice:1\nSELECT 1;\n/* liquibase rollback\nDROP x;\n",
		"unknown precondition":    "--changeset alice:1\n--precondition-foo bar\nSELECT 1;\n",
	} {
		_, err := liquibase{}.ParseFiles(fstest.MapFS{"c.sql": {Data: []byte(head + body)}})
		var invalid *InvalidFileError
		if !errors.As(err, &invalid) {
			t.Errorf("%s: %v", name, err)
		}
	}
}

func TestLiquibaseRows_MatchRecordedFilenamesWithOrWithoutAPrefix(t *testing.T) {
	disk := []Migration{
		{Version: "changelog.sql::1::alice", Checksum: "9:aa"},
		{Version: "changes/002.sql::2::alice"},
		{Version: "db/other.sql::3::bob"},
	}
	history := []liquibaseRow{
		{ID: "1", Author: "alice", Filename: "changelog.sql", MD5Sum: "9:aa", ExecType: "EXECUTED"},
		{ID: "2", Author: "alice", Filename: "classpath:/db/changes/002.sql", MD5Sum: "8:old", ExecType: "EXECUTED"},
		{ID: "3", Author: "bob", Filename: "other.sql", MD5Sum: "9:cc", ExecType: "MARK_RAN"},
		{ID: "9", Author: "eve", Filename: "gone.sql", MD5Sum: "9:dd", ExecType: "EXECUTED"},
	}
	rows := liquibaseRows(disk, history)
	var got []string
	for _, r := range rows {
		got = append(got, r.Version+" "+r.Checksum)
	}
	want := []string{"changelog.sql::1::alice 9:aa", "changes/002.sql::2::alice ", "db/other.sql::3::bob 9:cc", "gone.sql::9::eve 9:dd"}
	if !slices.Equal(got, want) {
		t.Fatalf("got %q, want %q", got, want)
	}
	r := compareRows(disk, rows)
	if r.AppliedCount != 4 || len(r.Pending) != 0 || strings.Join(r.Unknown, ",") != "gone.sql::9::eve" {
		t.Fatalf("%+v", r)
	}
}

func TestLiquibase_RunsOnPostgres(t *testing.T) {
	for dbms, want := range map[string]bool{
		"": true, "postgresql": true, "mysql, postgresql": true, "mysql": false, "!h2": true,
		"!postgresql": false, "all": true, "none": false, "!h2,oracle": false, "PostgreSQL": true,
	} {
		if got := lbRunsOnPostgres(dbms); got != want {
			t.Errorf("dbms:%s: %v, want %v", dbms, got, want)
		}
	}
}

func TestLiquibase_DetectsItsTableByColumns(t *testing.T) {
	own := Table{Name: "databasechangelog", Columns: map[string]string{
		"id": "character varying", "author": "character varying", "filename": "character varying",
		"orderexecuted": "integer", "md5sum": "character varying"}}
	if !(liquibase{}).Detect(&Catalog{}, own) || (liquibase{}).Detect(&Catalog{}, Table{Columns: map[string]string{"id": "integer"}}) {
		t.Fatal("databasechangelog must be recognised by its columns")
	}
}
