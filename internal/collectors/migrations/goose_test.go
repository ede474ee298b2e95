package migrations

import (
	"errors"
	"slices"
	"testing"
	"testing/fstest"
)

// gooseLabels renders migrations as "version=name" for comparisons (also
// used by the dbmate, rails, tern and sql-migrate tests).
func gooseLabels(ms []Migration) []string {
	out := make([]string, len(ms))
	for i, m := range ms {
		out[i] = m.Version + "=" + m.Name
	}
	return out
}

func TestGoose_ParseFiles_OrdersByVersionAndKeepsGoMigrations(t *testing.T) {
	fsys := fstest.MapFS{
		"00010_ten.sql":          {},
		"2_two.go":               {},
		"00001_one.sql":          {},
		"20240101000000_big.sql": {},
		"helpers.go":             {}, // no version: a helper, not a migration
		"3_three_test.go":        {}, // a Go test file
		"README.md":              {},
		"sub/4_nested.sql":       {}, // goose does not look into subdirectories
	}
	got, err := goose{}.ParseFiles(fsys)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"1=00001_one", "2=2_two", "10=00010_ten", "20240101000000=20240101000000_big"}
	if names := gooseLabels(got); !slices.Equal(names, want) {
		t.Fatalf("got %v, want %v", names, want)
	}
}

func TestGoose_ParseFiles_RejectsSQLFilesGooseRejects(t *testing.T) {
	cases := map[string]fstest.MapFS{
		"no separator":                  {"001.sql": {}},
		"version not a number":          {"abc_init.sql": {}},
		"version zero":                  {"0_init.sql": {}},
		"version too large":             {"99999999999999999999_init.sql": {}},
		"duplicate version":             {"1_a.sql": {}, "001_b.sql": {}},
		"duplicate across .sql and .go": {"1_a.sql": {}, "1_b.go": {}},
	}
	for name, fsys := range cases {
		_, err := goose{}.ParseFiles(fsys)
		var invalid *InvalidFileError
		if !errors.As(err, &invalid) {
			t.Errorf("%s: got %v, want an InvalidFileError", name, err)
		}
	}
}

func TestGoose_Detect_ByColumns(t *testing.T) {
	own := Table{Name: "goose_db_version", Columns: map[string]string{
		"id": "integer", "version_id": "bigint", "is_applied": "boolean", "tstamp": "timestamp without time zone"}}
	other := Table{Name: "goose_db_version", Columns: map[string]string{"version": "bigint"}}
	if !(goose{}).Detect(&Catalog{}, own) || (goose{}).Detect(&Catalog{}, other) {
		t.Fatal("goose_db_version must be recognised by version_id and is_applied")
	}
}
