package migrations

import (
	"errors"
	"slices"
	"testing"
	"testing/fstest"
)

func TestGolangMigrate_ParseFiles(t *testing.T) {
	fsys := fstest.MapFS{
		"10_ten.up.sql":       {},
		"10_ten.down.sql":     {},
		"2_two.up.sql":        {},
		"000001_one.up.sql":   {},
		"000001_one.down.sql": {},
		"README.md":           {},
		"3_three.down.sql":    {}, // a down file alone is not a migration
		"sub/4_nested.up.sql": {},
	}
	got, err := golangMigrate{}.ParseFiles(fsys)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, m := range got {
		names = append(names, m.Version+"="+m.Name)
	}
	if want := []string{"1=000001_one", "2=2_two", "10=10_ten"}; !slices.Equal(names, want) {
		t.Fatalf("got %v, want %v", names, want)
	}
	_, err = golangMigrate{}.ParseFiles(fstest.MapFS{"1_a.up.sql": {}, "01_b.up.sql": {}})
	var invalid *InvalidFileError
	if !errors.As(err, &invalid) {
		t.Fatalf("duplicate versions: %v", err)
	}
}

func TestGolangMigrate_DetectsOnlyItsOwnSchemaMigrations(t *testing.T) {
	own := Table{Name: "schema_migrations", Columns: map[string]string{"version": "bigint", "dirty": "boolean"}}
	dbmate := Table{Name: "schema_migrations", Columns: map[string]string{"version": "character varying"}}
	if !(golangMigrate{}).Detect(&Catalog{}, own) || (golangMigrate{}).Detect(&Catalog{}, dbmate) {
		t.Fatal("schema_migrations must be told apart by its columns")
	}
}
