package migrations

import (
	"errors"
	"hash/crc32"
	"slices"
	"strconv"
	"testing"
	"testing/fstest"
)

// The checksum algorithm was checked by hand against a history Flyway
// wrote: github.com/cebsunits/SpingBoot, doc/mysql/flyway.sql records
// 390126216 for src/main/resources/db/migration/mysql/V2020061902__create-quarz.sql
// (9 kB of DDL, too large to copy here), and flywayChecksum gives 390126216
// for it. Empty files are recorded as 0 in many public dumps.
func TestFlyway_Checksum_IgnoresLineEndingsBlankLinesAndBOM(t *testing.T) {
	if got := flywayChecksum(nil); got != 0 {
		t.Fatalf("empty file: %d", got)
	}
	lf := []byte("CREATE TABLE t (\n  id int\n);\n")
	want := int32(crc32.ChecksumIEEE([]byte("CREATE TABLE t (  id int);")))
	for name, data := range map[string][]byte{
		"LF":          lf,
		"CRLF":        []byte("CREATE TABLE t (\r\n  id int\r\n);\r\n"),
		"CR":          []byte("CREATE TABLE t (\r  id int\r);"),
		"blank lines": []byte("CREATE TABLE t (\n\n  id int\n\r\n);\n\n"),
		"BOM":         append([]byte("\uFEFF"), lf...),
	} {
		if got := flywayChecksum(data); got != want {
			t.Errorf("%s: %d, want %d", name, got, want)
		}
	}
	// A BOM is dropped from the first line only; whitespace inside a line counts.
	if flywayChecksum([]byte("a\n\uFEFFb")) == flywayChecksum([]byte("a\nb")) || flywayChecksum([]byte("a b")) == flywayChecksum([]byte("ab")) {
		t.Error("only a leading BOM and line endings are ignored")
	}
	// Stored as a signed int32: a CRC above 2^31 is negative.
	if got := flywayChecksum([]byte("a")); got != int32(crc32.ChecksumIEEE([]byte("a"))) || got >= 0 {
		t.Errorf("crc32(\"a\") = 0xe8b7be43 is stored as %d", got)
	}
}

func TestFlyway_ParseFiles_NamesVersionsAndKinds(t *testing.T) {
	fsys := fstest.MapFS{
		"V1__init.sql":                 {Data: []byte("CREATE TABLE a (id int);")},
		"sub/V1_2__add_b.sql":          {Data: []byte("CREATE TABLE b (id int);")},
		"V1.10__later.sql":             {},
		"V2.sql":                       {},
		"R__views.sql":                 {},
		"R__refresh_stats.sql":         {},
		"B1.2__baseline.sql":           {},
		"U1_2__undo_b.sql":             {},
		"V1__init.sql.conf":            {},
		"afterMigrate.sql":             {},
		"Vacuum.sql":                   {}, // not a version: Flyway skips it
		"R1__versioned_repeatable.sql": {},
	}
	got, err := flyway{}.ParseFiles(fsys)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, m := range got {
		names = append(names, m.Name+"="+m.Version)
	}
	want := []string{"V1__init=1", "V1_2__add_b=1.2", "V1.10__later=1.10", "V2=2", "B1.2__baseline=1.2", "R__refresh_stats=refresh stats", "R__views=views"}
	if !slices.Equal(names, want) {
		t.Fatalf("got %v\nwant %v", names, want)
	}
	if want := strconv.Itoa(int(int32(crc32.ChecksumIEEE([]byte("CREATE TABLE a (id int);"))))); got[0].Checksum != want {
		t.Fatalf("checksum %s, want %s", got[0].Checksum, want)
	}
}

func TestFlyway_ParseFiles_RejectsDuplicateVersions(t *testing.T) {
	var invalid *InvalidFileError
	dup := fstest.MapFS{"V1__a.sql": {}, "sub/V1.0__b.sql": {}}
	if _, err := (flyway{}).ParseFiles(dup); !errors.As(err, &invalid) {
		t.Fatalf("V1 and V1.0 are the same version: %v", err)
	}
	if _, err := (flyway{}).ParseFiles(fstest.MapFS{"V1__a.sql": {}, "B1__a.sql": {}}); err != nil {
		t.Fatalf("a baseline migration may share a versioned one's version: %v", err)
	}
}

func TestFlyway_Compare(t *testing.T) {
	v := func(s string) *string { return &s }
	c := func(n int32) *int32 { return &n }
	disk := []Migration{
		{Name: "V1__init", Version: "1", Checksum: "11"},
		{Name: "V2__users", Version: "2", Checksum: "22"},
		{Name: "V3__email", Version: "3", Checksum: "33-edited"},
		{Name: "V3_5__late", Version: "3.5", Checksum: "35"},
		{Name: "V4__index", Version: "4", Checksum: "44"},
		{Name: "V5__new", Version: "5", Checksum: "55"},
		{Name: "R__changed_view", Version: "changed view", Checksum: "99"},
		{Name: "R__same_view", Version: "same view", Checksum: "77"},
		{Name: "R__new_view", Version: "new view", Checksum: "66"},
	}
	runs := []flywayRun{
		{Version: v("0"), Type: "SCHEMA", Description: "<< Flyway Schema Creation >>", Script: `"public"`, Success: true},
		{Version: v("1"), Type: "BASELINE", Description: "<< Flyway Baseline >>", Script: "<< Flyway Baseline >>", Success: true},
		{Version: v("2"), Type: "SQL", Script: "V2__users.sql", Checksum: c(22), Success: true},
		{Version: v("3"), Type: "SQL", Script: "V3__email.sql", Checksum: c(33), Success: true},
		{Version: v("4"), Type: "SQL", Script: "V4__index.sql", Checksum: c(44), Success: true},
		{Version: v("5"), Type: "SQL", Script: "V5__new.sql", Checksum: c(55), Success: false},
		{Version: v("6"), Type: "SQL", Script: "V6__gone.sql", Checksum: c(60), Success: true},
		{Version: v("7"), Type: "SQL", Script: "V7__deleted.sql", Checksum: c(70), Success: true},
		{Version: v("7"), Type: "DELETE", Script: "V7__deleted.sql", Success: true},
		{Type: "SQL", Description: "changed view", Script: "R__changed_view.sql", Checksum: c(88), Success: true},
		{Type: "SQL", Description: "same view", Script: "R__same_view.sql", Checksum: c(70), Success: true},
		{Type: "SQL", Description: "same view", Script: "R__same_view.sql", Checksum: c(77), Success: true},
	}
	r := flywayCompare(disk, runs)
	check := func(what string, got, want []string) {
		if !slices.Equal(got, want) {
			t.Errorf("%s = %v, want %v", what, got, want)
		}
	}
	check("pending", r.Pending, []string{"V3_5__late", "R__changed_view", "R__new_view"})
	check("dirty", r.Dirty, []string{"V5__new"})
	check("unknown", r.Unknown, []string{"V6__gone"})
	check("checksum mismatches", r.ChecksumMismatches, []string{"V3__email"})
	if r.AppliedCount != 7 || r.LatestApplied != "6" || r.LatestOnDisk != "5" {
		t.Errorf("applied %d latest %q on disk %q", r.AppliedCount, r.LatestApplied, r.LatestOnDisk)
	}
	if r := flywayCompare(nil, runs); r.Pending != nil || r.Unknown != nil || r.ChecksumMismatches != nil || len(r.Dirty) != 1 {
		t.Errorf("without a directory: %+v", r)
	}
}

func TestFlyway_DetectsItsHistoryTable(t *testing.T) {
	own := Table{Name: "flyway_schema_history", Columns: map[string]string{"installed_rank": "integer", "version": "character varying",
		"script": "character varying", "checksum": "integer", "success": "boolean"}}
	if !(flyway{}).Detect(&Catalog{}, own) || (flyway{}).Detect(&Catalog{}, Table{Columns: map[string]string{"version": "bigint"}}) {
		t.Fatal("flyway_schema_history is recognised by its columns")
	}
}
