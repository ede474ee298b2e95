package migrations

import (
	"errors"
	"slices"
	"testing"
	"testing/fstest"
)

func TestNodePgMigrate_ParseFiles_OrdersByPrefixWith17DigitsAsUTCTime(t *testing.T) {
	fsys := fstest.MapFS{
		// 13 digits: Date.now() milliseconds (2027-01-15); 17 digits: a UTC
		// time (2024-01-02), which is earlier although the number is larger.
		"1800000000000_later.js":         {},
		"20240102000000000_email.sql":    {},
		"1700000000000_users.sql":        {},
		"1700000000000_alpha.ts":         {}, // same prefix: then by name
		".eslintrc.js":                   {}, // dot files are ignored
		"sub/1600000000000_nested.js":    {}, // no descent
		"1900000000000_name.with.dot.js": {},
	}
	got, err := nodePgMigrate{}.ParseFiles(fsys)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, m := range got {
		if m.Name != m.Version {
			t.Errorf("%s: name %q differs from the recorded name", m.Version, m.Name)
		}
		names = append(names, m.Version)
	}
	want := []string{"1700000000000_alpha", "1700000000000_users", "20240102000000000_email", "1800000000000_later", "1900000000000_name.with.dot"}
	if !slices.Equal(names, want) {
		t.Fatalf("got %v, want %v", names, want)
	}
}

func TestNodePgMigrate_ParseFiles_RejectsWhatItCannotOrderOrRecord(t *testing.T) {
	for name, fsys := range map[string]fstest.MapFS{
		"no numeric prefix":   {"1_a.js": {}, "README.md": {}},
		"same name twice":     {"1_a.js": {}, "1_a.sql": {}},
		"prefix then nothing": {"1_a.js": {}, "x1_b.js": {}},
	} {
		_, err := nodePgMigrate{}.ParseFiles(fsys)
		var invalid *InvalidFileError
		if !errors.As(err, &invalid) {
			t.Errorf("%s: %v", name, err)
		}
	}
}

func TestNodePgMigrate_PrefixValues(t *testing.T) {
	cases := []struct {
		file string
		want float64
	}{
		{"0001_init.sql", 1},
		{"1700000000000_x.js", 1700000000000},
		{"20240102030405678_x.sql", 1704164645678}, // 2024-01-02T03:04:05.678Z
	}
	for _, tc := range cases {
		if got, ok := nodePgMigratePrefix(tc.file); !ok || got != tc.want {
			t.Errorf("%s: %v %v, want %v", tc.file, got, ok, tc.want)
		}
	}
}

func TestNodePgMigrate_DetectsItsTableByColumns(t *testing.T) {
	own := Table{Name: "pgmigrations", Columns: map[string]string{
		"id": "integer", "name": "character varying", "run_on": "timestamp without time zone"}}
	other := Table{Name: "pgmigrations", Columns: map[string]string{"id": "integer", "name": "text"}}
	if !(nodePgMigrate{}).Detect(&Catalog{}, own) || (nodePgMigrate{}).Detect(&Catalog{}, other) {
		t.Fatal("pgmigrations must be recognised by name and run_on")
	}
}
