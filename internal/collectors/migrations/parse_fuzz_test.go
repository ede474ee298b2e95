package migrations

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"reflect"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"testing"
	"testing/fstest"
)

// fuzzBase is a small valid migrations directory per tool, to which
// FuzzParseFiles adds its fuzzed file (or replaces one of these with it).
var fuzzBase = map[string]map[string]string{
	"golang-migrate":  {"1_init.up.sql": "CREATE TABLE t ();", "1_init.down.sql": "DROP TABLE t;", "2_more.up.sql": ""},
	"goose":           {"00001_init.sql": "-- +goose Up\nCREATE TABLE t ();\n", "00002_helper.go": "package m\n"},
	"dbmate":          {"20240101000000_init.sql": "-- migrate:up\nCREATE TABLE t ();\n-- migrate:down\n"},
	"rails":           {"20240101000000_create_users.rb": "class CreateUsers < ActiveRecord::Migration[7.1]\nend\n", "sub/20240102000000_add_email.rb": ""},
	"tern":            {"001_init.sql": "CREATE TABLE t ();\n---- create above / drop below ----\n", "002_more.sql": ""},
	"sql-migrate":     {"1_init.sql": "-- +migrate Up\nCREATE TABLE t ();\n-- +migrate Down\n", "notes.sql": "-- +migrate Down\n"},
	"atlas":           {"20240101000000_init.sql": "CREATE TABLE t ();\n", "20240102000000_more.sql": "-- atlas:sum ignore\n"},
	"flyway":          {"V1__init.sql": "CREATE TABLE t ();\r\n", "R__views.sql": "CREATE VIEW v AS SELECT 1;", "sub/V1_1__more.sql": "\uFEFFSELECT 1;\n", "U1__undo.sql": ""},
	"liquibase":       {"changelog.sql": "--liquibase formatted sql\n--changeset ann:1\nCREATE TABLE t ();\n--rollback DROP TABLE t;\n", "plain.sql": "SELECT 1;"},
	"prisma":          {"20240101000000_init/migration.sql": "CREATE TABLE t ();\n", "migration_lock.toml": "provider = \"postgresql\"\n"},
	"alembic":         {"abc123_init.py": "revision = 'abc123'\ndown_revision = None\n", "def456_more.py": "revision: str = \"def456\"\ndown_revision: Union[str, None] = 'abc123'\n", "__init__.py": ""},
	"django":          {"app/migrations/0001_initial.py": "", "app/migrations/__init__.py": "", "app/migrations/0002_more.py": "", "venv/lib/x/migrations/0001_initial.py": ""},
	"knex":            {"20240101000000_init.js": "exports.up = () => {};\n", "README.md": ""},
	"node-pg-migrate": {"1700000000000_init.js": "exports.up = () => {};\n", "1700000000001_more.sql": "-- Up Migration\n"},
	"sqitch":          {"sqitch.plan": "%project=app\n\ninit 2024-01-01T00:00:00Z A <a@b>\n@v1 2024-01-02T00:00:00Z A <a@b>\n", "deploy/init.sql": "CREATE TABLE t ();\n"},
}

// fuzzFS is tool's base directory plus the fuzzed file; for Atlas the
// atlas.sum is then written to match (unless the fuzzed file is atlas.sum).
// ok is false when name is not a path an fs.FS can hold.
func fuzzFS(tool, name string, content []byte) (fstest.MapFS, bool) {
	if !fs.ValidPath(name) || name == "." {
		return nil, false
	}
	fsys := fstest.MapFS{}
	for n, c := range fuzzBase[tool] {
		fsys[n] = &fstest.MapFile{Data: []byte(c)}
	}
	// A file cannot also be a directory of another file.
	for n := range fsys {
		if strings.HasPrefix(n, name+"/") || strings.HasPrefix(name, n+"/") {
			delete(fsys, n)
		}
	}
	fsys[name] = &fstest.MapFile{Data: content}
	if tool == "atlas" && name != atlasSumFile {
		var names []string
		for n := range fsys {
			if !strings.Contains(n, "/") && strings.HasSuffix(n, ".sql") {
				names = append(names, n)
			}
		}
		slices.Sort(names)
		var files []atlasFile
		for _, n := range names {
			files = append(files, atlasFile{n, fsys[n].Data})
		}
		fsys[atlasSumFile] = &fstest.MapFile{Data: atlasSumText(atlasHashes(files))}
	}
	return fsys, true
}

// atlasSumText renders sums as atlas.sum.
func atlasSumText(sums atlasSums) []byte {
	var b bytes.Buffer
	b.WriteString("h1:" + sums.total() + "\n")
	for _, s := range sums {
		b.WriteString(s.name + " h1:" + s.hash + "\n")
	}
	return b.Bytes()
}

// uniqueVersions are the tools whose ParseFiles rejects (or cannot
// produce) two migrations with one Version; their history tables are keyed
// by it.
var uniqueVersions = map[string]bool{
	"golang-migrate": true, "goose": true, "rails": true, "tern": true, "sql-migrate": true, "liquibase": true,
	"prisma": true, "alembic": true, "django": true, "knex": true, "node-pg-migrate": true, "sqitch": true,
}

// FuzzParseFiles gives every tool's ParseFiles a small valid directory plus
// one fuzzed file (name and content; a name of a base file replaces it).
// Properties, for every tool:
//
//   - no panic;
//   - an error is an *InvalidFileError or an fs error (*fs.PathError), so
//     the check reports invalid_files or unreadable_directory correctly;
//   - on success every Migration has a Name and a Version (empty only where
//     the tool itself records an empty one, see emptyVersionOK), Versions
//     are unique where the tool keys its history by them, and the list is
//     in the tool's order where that order is simple to state;
//   - parsing the same directory twice gives the same result.
func FuzzParseFiles(f *testing.F) {
	seeds := []struct{ name, content string }{
		{"3_add.up.sql", "ALTER TABLE t ADD c int;"},
		{"01_dup.up.sql", ""},
		{"99999999999999999999_big.up.sql", ""},
		{"00003_add.sql", "-- +goose Up\n"},
		{"0_zero.sql", ""},
		{"-1_neg.sql", ""},
		{"helper.go", "package m"},
		{"x_test.go", ""},
		{"20240103000000_add.sql", "-- migrate:up\n"},
		{"20240103000000_add_index.rb", ""},
		{"20240103000000_AddIndex.rb", ""},
		{"20240104000000_init.rb", ""},
		{".hidden/20240105000000_x.rb", ""},
		{"003_more.sql", ""},
		{"005_gap.sql", ""},
		{"2147483648_big.sql", ""},
		{"2_more.sql", "-- +migrate Up\nSELECT 1;\n"},
		{"3.sql", "-- +migrate \n"},
		{"dir.sql/x", ""},
		{"_x.sql", "SELECT 1;"},
		{"20240103000000_x.sql", "-- atlas:sum ignore\nSELECT 1;"},
		{"atlas.sum", "h1:bogus\n20240101000000_init.sql h1:bogus\n"},
		{"atlas.sum", "h1:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n"},
		{"atlas.sum", "h1:x\nno hash here\n"},
		{"V2__add.sql", "ALTER TABLE t ADD c int;\n"},
		{"V1.0__dup.sql", ""},
		{"V1.1__dup.sql", ""},
		{"B2__base.sql", ""},
		{"R__.sql", ""},
		{"R.sql", ""},
		{"V.sql", ""},
		{"V1a__bad.sql", ""},
		{"v1__lower.sql", ""},
		{"more.sql", "--liquibase formatted sql\n--changeset bob:2 runOnChange:true\nSELECT 1;\n"},
		{"more.sql", "--liquibase formatted sql logicalFilePath:db/x.sql\n--changeset bob:1\nSELECT 1;\n--changeset bob:1\nSELECT 2;\n"},
		{"changelog.sql", "--liquibase formatted sql\n--changeset ann:1 dbms:oracle\nSELECT 1;\n--changeset \"a b\":\"c d\"\nSELECT 2;\n"},
		{"changelog.sql", "--liquibase formatted sql\n--changeset ann:1\n--ignoreLines:start\nx\n--ignoreLines:end\nSELECT 1;\n--comment: hi\n/* liquibase rollback\nDROP\n*/\n"},
		{"changelog.sql", "--liquibase formatted sql\n--changeset ann:a::b\nSELECT 1;\n"},
		{"changelog.sql", "--liquibase formatted sql\n--changeset ann: \nSELECT 1;\n"},
		{"changelog.sql", "--liquibase formatted sql\n--changeset ann:1\n--precondition-bogus x\n"},
		{"changelog.sql", "--liquibase formatted sql\n--changeset ann:1\n--ignoreLines:-5\nSELECT 1;\n"},
		{"changelog.sql", "--liquibase formatted sql\n--changeset ann:1\n/* liquibase rollback\n"},
		{"20240102000000_more/migration.sql", "SELECT 1;\r\n"},
		{"20240102000000_empty/readme.md", ""},
		{"ghi789_merge.py", "revision = 'ghi789'\ndown_revision = ('abc123', 'def456')\nbranch_labels = None\n"},
		{"ghi789_list.py", "revision = 'ghi789'\ndown_revision = [\n    'def456',\n]\ndepends_on = 'label'\n"},
		{"loop_a.py", "revision = 'loop'\ndown_revision = 'loop'\n"},
		{"nothing.py", "# no revision here\n"},
		{"bad.py", "revision = f'x'\n"},
		{"empty.py", "revision = ''\n"},
		{"tuple.py", "revision = ('a', 'b')\n"},
		{"missing.py", "revision = 'm'\ndown_revision = 'nope'\n"},
		{"other/migrations/0001_initial.py", ""},
		{"lib/app/migrations/0001_initial.py", ""},
		{"app/migrations/0010_later.py", ""},
		{"app/migrations/~0003_tmp.py", ""},
		{"20240102000000_more.ts", ""},
		{"20240102000000_more.mjs", ""},
		{"1700000000000_init.sql", ""},
		{"20240101000000000_time.js", ""},
		{"20241399000000000_badtime.js", ""},
		{"noprefix.js", ""},
		{".eslintrc.js", ""},
		{"sqitch.plan", "%project=app\n\ninit 2024-01-01T00:00:00Z A <a@b>\n@v1 2024-01-02T00:00:00Z A <a@b>\ninit [init@v1] 2024-01-03T00:00:00Z A <a@b>\n"},
		{"sqitch.plan", "%project=app\n\na\na\n"},
		{"sqitch.plan", "%project=app\n\n@v1\n"},
		{"sqitch.plan", "%syntax-version=1.0.0\n"},
		{"sqitch.plan", "no pragma\n"},
		{"sqitch.plan", "%project=\n\ninit\n"},
		{"deploy/init@v1.sql", "-- old\n"},
	}
	for _, s := range seeds {
		f.Add(s.name, []byte(s.content))
	}
	f.Fuzz(func(t *testing.T, name string, content []byte) {
		for _, tool := range Tools {
			fsys, ok := fuzzFS(tool.Name(), name, content)
			if !ok {
				return
			}
			got, err := parseNoPanic(t, tool, fsys)
			again, errAgain := parseNoPanic(t, tool, fsys)
			if fmt.Sprint(err) != fmt.Sprint(errAgain) || !reflect.DeepEqual(got, again) {
				t.Fatalf("%s: not deterministic: %v, %v then %v, %v", tool.Name(), got, err, again, errAgain)
			}
			if err != nil {
				var invalid *InvalidFileError
				var pathErr *fs.PathError
				if !errors.As(err, &invalid) && !errors.As(err, &pathErr) {
					t.Fatalf("%s: error %v (%T) is neither an *InvalidFileError nor an fs error", tool.Name(), err, err)
				}
				continue
			}
			checkParsed(t, tool.Name(), got)
		}
	})
}

// emptyVersionOK reports whether the tool itself records m with an empty
// version, so that ParseFiles must too: Alembic accepts an empty revision
// string and stores it as version_num (checked with alembic 1.x); a Flyway
// repeatable's Version is its description, empty for R__.sql (and R.sql);
// Atlas takes what precedes the first '_' of _x.sql.
func emptyVersionOK(tool string, m Migration) bool {
	switch tool {
	case "alembic":
		return true
	case "flyway":
		return m.Name[0] == flywayRepeatable
	case "atlas": // Atlas's version is what precedes the first '_' of the name
		return strings.HasPrefix(m.Name, "_") || m.Name == ".sql"
	}
	return false
}

// parseNoPanic is tool.ParseFiles, failing the test (not the whole binary)
// on a panic, so that every saved failing input reports.
func parseNoPanic(t *testing.T, tool Tool, fsys fs.FS) (ms []Migration, err error) {
	t.Helper()
	defer func() {
		if r := recover(); r != nil {
			t.Fatalf("%s: ParseFiles panics: %v\n%s", tool.Name(), r, debug.Stack())
		}
	}()
	return tool.ParseFiles(fsys)
}

// checkParsed checks a successful ParseFiles result.
func checkParsed(t *testing.T, tool string, got []Migration) {
	t.Helper()
	versions := map[string]bool{}
	for _, m := range got {
		if m.Name == "" {
			t.Fatalf("%s: migration without a name (its label in lists): %+v in %+v", tool, m, got)
		}
		if m.Version == "" && !emptyVersionOK(tool, m) {
			t.Fatalf("%s: migration with an empty version: %+v in %+v", tool, m, got)
		}
		if uniqueVersions[tool] && versions[m.Version] {
			t.Fatalf("%s: version %q twice in %+v", tool, m.Version, got)
		}
		versions[m.Version] = true
	}
	sorted := func(cmp func(a, b Migration) int) {
		t.Helper()
		if !slices.IsSortedFunc(got, cmp) {
			t.Fatalf("%s: out of order: %+v", tool, got)
		}
	}
	switch tool {
	case "golang-migrate", "goose", "rails":
		sorted(func(a, b Migration) int { return compareVersions(a.Version, b.Version) })
	case "knex", "prisma":
		sorted(func(a, b Migration) int { return strings.Compare(a.Version, b.Version) })
	case "tern":
		for i, m := range got {
			if m.Version != strconv.Itoa(i+1) {
				t.Fatalf("tern: migration %d has version %q: %+v", i+1, m.Version, got)
			}
		}
	case "flyway":
		keys := map[string]bool{}
		for _, m := range got {
			key := m.Name[:1] + flywayKey(m)
			if keys[key] {
				t.Fatalf("flyway: %s twice: %+v", key, got)
			}
			keys[key] = true
		}
	}
}
