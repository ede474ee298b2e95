package migrations

import (
	"errors"
	"slices"
	"testing"
	"testing/fstest"
)

func TestTern_ParseFiles_NumbersOneToN(t *testing.T) {
	fsys := fstest.MapFS{
		"010_ten.sql":     {},
		"2_two.sql":       {},
		"001_one.sql":     {},
		"3_three.sql":     {},
		"4_four.sql":      {},
		"5_five.sql":      {},
		"6_six.sql":       {},
		"7_seven.sql":     {},
		"8_eight.sql":     {},
		"9_nine.sql":      {},
		"tern.conf":       {},
		"11.sql":          {}, // no "_<name>": not a migration
		"sub/11_deep.sql": {},
	}
	got, err := tern{}.ParseFiles(fsys)
	if err != nil {
		t.Fatal(err)
	}
	labels := gooseLabels(got)
	if len(labels) != 10 || labels[0] != "1=001_one" || labels[1] != "2=2_two" || labels[9] != "10=010_ten" {
		t.Fatalf("got %v", labels)
	}
	if got, _ := (tern{}).ParseFiles(fstest.MapFS{}); len(got) != 0 {
		t.Fatalf("an empty directory has no migrations: %v", got)
	}
}

func TestTern_ParseFiles_RejectsWhatTernRejects(t *testing.T) {
	cases := map[string]fstest.MapFS{
		"gap":                 {"1_a.sql": {}, "3_c.sql": {}},
		"not starting at one": {"2_b.sql": {}},
		"duplicate":           {"1_a.sql": {}, "01_b.sql": {}},
		"zero":                {"0_a.sql": {}, "1_b.sql": {}},
		"beyond int4":         {"1_a.sql": {}, "2147483648_b.sql": {}},
	}
	for name, fsys := range cases {
		_, err := tern{}.ParseFiles(fsys)
		var invalid *InvalidFileError
		if !errors.As(err, &invalid) {
			t.Errorf("%s: got %v, want an InvalidFileError", name, err)
		}
	}
}

func TestTern_Detect_OnlyASingleIntegerVersion(t *testing.T) {
	own := Table{Name: "schema_version", Columns: map[string]string{"version": "integer"}}
	oldFlyway := Table{Name: "schema_version", Columns: map[string]string{
		"installed_rank": "integer", "version": "character varying", "script": "character varying", "success": "boolean"}}
	if !(tern{}).Detect(&Catalog{}, own) || (tern{}).Detect(&Catalog{}, oldFlyway) {
		t.Fatal("schema_version must be tern's only with a lone integer version")
	}
	if !slices.Equal((tern{}).Tables(), []string{"schema_version"}) || (tern{}).DefaultSchema() != "public" {
		t.Fatal("tern's default table is public.schema_version")
	}
}
