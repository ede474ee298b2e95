package migrations

import (
	"errors"
	"slices"
	"testing"
	"testing/fstest"
)

const sqlMigrateUpDown = "-- +migrate Up\nCREATE TABLE t (id int);\n-- +migrate Down\nDROP TABLE t;\n"

func TestSqlMigrate_ParseFiles_NumericPrefixFirstThenByName(t *testing.T) {
	file := &fstest.MapFile{Data: []byte(sqlMigrateUpDown)}
	fsys := fstest.MapFS{
		"10_ten.sql":      file,
		"2_two.sql":       file,
		"1_one.sql":       file,
		"02_also_two.sql": file, // same number: by name
		"beta.sql":        file,
		"alpha.sql":       file,
		"README.md":       {},
	}
	got, err := sqlMigrate{}.ParseFiles(fsys)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"1_one.sql=1_one", "02_also_two.sql=02_also_two", "2_two.sql=2_two", "10_ten.sql=10_ten",
		"alpha.sql=alpha", "beta.sql=beta",
	}
	if labels := gooseLabels(got); !slices.Equal(labels, want) {
		t.Fatalf("got %v, want %v", labels, want)
	}
}

func TestSqlMigrate_ParseFiles_RejectsWhatSqlMigrateRejects(t *testing.T) {
	cases := map[string]fstest.MapFS{
		"no sections":         {"1_a.sql": {Data: []byte("CREATE TABLE t (id int);\n")}},
		"empty command":       {"1_a.sql": {Data: []byte(sqlMigrateUpDown + "-- +migrate \n")}},
		"prefix beyond int64": {"99999999999999999999_a.sql": {Data: []byte(sqlMigrateUpDown)}},
		"directory":           {"1_a.sql/x": {}},
	}
	for name, fsys := range cases {
		_, err := sqlMigrate{}.ParseFiles(fsys)
		var invalid *InvalidFileError
		if !errors.As(err, &invalid) {
			t.Errorf("%s: got %v, want an InvalidFileError", name, err)
		}
	}
	down := fstest.MapFS{"1_a.sql": {Data: []byte("-- +migrate Down notransaction\nDROP TABLE t;\n")}}
	if _, err := (sqlMigrate{}).ParseFiles(down); err != nil {
		t.Fatalf("a Down section alone parses: %v", err)
	}
}

func TestSqlMigrate_Detect_ByColumns(t *testing.T) {
	own := Table{Name: "gorp_migrations", Columns: map[string]string{"id": "text", "applied_at": "timestamp with time zone"}}
	other := Table{Name: "gorp_migrations", Columns: map[string]string{"id": "integer"}}
	if !(sqlMigrate{}).Detect(&Catalog{}, own) || (sqlMigrate{}).Detect(&Catalog{}, other) {
		t.Fatal("gorp_migrations must be recognised by id and applied_at")
	}
}
