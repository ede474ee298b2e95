package migrations

import (
	"errors"
	"slices"
	"testing"
	"testing/fstest"
)

// atlasVector is a migration directory written by the real Atlas, with the
// atlas.sum it generated: github.com/1995parham-teaching/tinyurl,
// migrations/ (20230824215746.sql, 20230824221251.sql, 20230824222826.sql
// and atlas.sum).
var atlasVector = fstest.MapFS{
	"20230824215746.sql": {Data: []byte("-- Create \"urls\" table\nCREATE TABLE \"urls\" (\"key\" text NOT NULL, \"url\" text NULL, \"visits\" bigint NULL, \"expire\" timestamptz NULL, \"created_at\" timestamptz NULL, \"updated_at\" timestamptz NULL, PRIMARY KEY (\"key\"));\n")},
	"20230824221251.sql": {Data: []byte("-- Modify \"urls\" table\nALTER TABLE \"urls\" ADD CONSTRAINT \"chk_urls_expire\" CHECK (expire > created_at), ADD CONSTRAINT \"chk_urls_visits\" CHECK (visits >= 0);\n-- Create index \"idx_urls_url\" to table: \"urls\"\nCREATE INDEX \"idx_urls_url\" ON \"urls\" (\"url\");\n")},
	"20230824222826.sql": {Data: []byte("-- atlas:delimiter -- end\n\nCREATE PROCEDURE visit(key urls.key%TYPE) LANGUAGE SQL BEGIN ATOMIC\nUPDATE\n  urls\nset\n  visits = visits + 1\nwhere\n  urls.key = key;\n\nEND;\n\n-- end\n")},
	"atlas.sum": {Data: []byte("h1:wZYDtCBb/e7bCrIdsXInW+0oszoa0EAXbFpkNgr7Vq0=\n" +
		"20230824215746.sql h1:bCLrrBfDa1o9dekkog8V3gdW8a2tdOHKYk/2MItd98g=\n" +
		"20230824221251.sql h1:ub5YupUvbaPjSrOtcdVblbwSSFudPCzPajZLwOfl5lE=\n" +
		"20230824222826.sql h1:TAdMYkVBxLfVBgkuL+4TKO8EMxNPz8fePcNeFj6YRdI=\n")},
}

func TestAtlas_Hashes_MatchWhatAtlasWroteToAtlasSum(t *testing.T) {
	got, err := atlas{}.ParseFiles(atlasVector)
	if err != nil {
		t.Fatal(err)
	}
	want := []Migration{
		{Version: "20230824215746", Name: "20230824215746", Checksum: "bCLrrBfDa1o9dekkog8V3gdW8a2tdOHKYk/2MItd98g="},
		{Version: "20230824221251", Name: "20230824221251", Checksum: "ub5YupUvbaPjSrOtcdVblbwSSFudPCzPajZLwOfl5lE="},
		{Version: "20230824222826", Name: "20230824222826", Checksum: "TAdMYkVBxLfVBgkuL+4TKO8EMxNPz8fePcNeFj6YRdI="},
	}
	if !slices.EqualFunc(got, want, func(a, b Migration) bool {
		return a.Version == b.Version && a.Name == b.Name && a.Checksum == b.Checksum
	}) {
		t.Fatalf("got %+v\nwant %+v", got, want)
	}
}

func TestAtlas_ParseFiles_VersionIsThePrefixBeforeTheFirstUnderscore(t *testing.T) {
	fsys := fstest.MapFS{
		"2_add_email_column.sql": {Data: []byte("ALTER TABLE users ADD email text;\n")},
		"10_index.sql":           {Data: []byte("CREATE INDEX i ON users (email);\n")},
		"1_init.sql":             {Data: []byte("CREATE TABLE users (id int);\n")},
		"README.md":              {},
	}
	fsys["atlas.sum"] = &fstest.MapFile{Data: atlasSumOf(t, fsys)}
	got, err := atlas{}.ParseFiles(fsys)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, m := range got {
		names = append(names, m.Version+"="+m.Name)
	}
	// Atlas orders by file name, not by number: "10" sorts before "1_".
	if want := []string{"10=10_index", "1=1_init", "2=2_add_email_column"}; !slices.Equal(names, want) {
		t.Fatalf("got %v, want %v", names, want)
	}
}

func TestAtlas_ParseFiles_RefusesWhatAtlasRefuses(t *testing.T) {
	var invalid *InvalidFileError
	noSum := fstest.MapFS{"1_init.sql": {Data: []byte("SELECT 1;")}}
	if _, err := (atlas{}).ParseFiles(noSum); !errors.As(err, &invalid) {
		t.Errorf("missing atlas.sum: %v", err)
	}
	stale := fstest.MapFS{}
	for name, f := range atlasVector {
		stale[name] = f
	}
	stale["20230824221251.sql"] = &fstest.MapFile{Data: []byte("-- edited without atlas migrate hash\n")}
	if _, err := (atlas{}).ParseFiles(stale); !errors.As(err, &invalid) {
		t.Errorf("atlas.sum out of date: %v", err)
	}
	if got, err := (atlas{}).ParseFiles(fstest.MapFS{}); err != nil || len(got) != 0 {
		t.Errorf("an empty directory needs no atlas.sum: %v %v", got, err)
	}
}

func TestAtlas_SumIgnoreDirective_HashesTheNameOnly(t *testing.T) {
	files := []atlasFile{
		{"1_a.sql", []byte("SELECT 1;")},
		{"2_b.sql", []byte("-- atlas:sum ignore\nSELECT 2;")},
		{"3_c.sql", []byte("SELECT 3;")},
	}
	sums := atlasHashes(files)
	if len(sums) != 2 || sums.byName("2_b.sql") != "" {
		t.Fatalf("an ignored file has no line: %+v", sums)
	}
	without := atlasHashes([]atlasFile{files[0], files[2]})
	if sums.byName("3_c.sql") == without.byName("3_c.sql") {
		t.Fatal("the ignored file's name still feeds the running hash")
	}
}

func TestAtlas_Rows_FailuresBaselineAndFirstChangedFile(t *testing.T) {
	disk := []Migration{
		{Version: "1", Name: "1_init", Checksum: "h1"},
		{Version: "2", Name: "2_users", Checksum: "h2"},
		{Version: "3", Name: "3_email", Checksum: "h3-edited"},
		{Version: "4", Name: "4_index", Checksum: "h4-shifted"},
		{Version: "5", Name: "5_orders", Checksum: "h5"},
	}
	revs := []atlasRevision{
		{Version: "4", Description: "index", Type: 2, Applied: 1, Total: 1, Hash: "h4"},
		{Version: "2", Description: "users", Type: 1}, // baseline: 1 and 2 exist
		{Version: "3", Description: "email", Type: 2, Applied: 2, Total: 2, Hash: "h3"},
		{Version: "5", Description: "orders", Type: 2, Applied: 1, Total: 3, Error: "relation does not exist", Hash: "h5"},
	}
	r := compareRows(disk, atlasRows(disk, revs))
	if r.AppliedCount != 4 || r.LatestApplied != "4" || r.Pending != nil ||
		!slices.Equal(r.Dirty, []string{"5_orders"}) || !slices.Equal(r.ChecksumMismatches, []string{"3_email"}) {
		t.Fatalf("%+v", r)
	}
	// A file not yet applied stops the comparison: later hashes include it.
	disk = []Migration{{Version: "1", Name: "1_a", Checksum: "x1"}, {Version: "2", Name: "2_b", Checksum: "x2"}, {Version: "3", Name: "3_c", Checksum: "x3-new"}}
	revs = []atlasRevision{{Version: "1", Applied: 1, Total: 1, Hash: "h1:x1"}, {Version: "3", Applied: 1, Total: 1, Hash: "x3"}}
	r = compareRows(disk, atlasRows(disk, revs))
	if !slices.Equal(r.Pending, []string{"2_b"}) || r.ChecksumMismatches != nil {
		t.Fatalf("out of order: %+v", r)
	}
}

func TestAtlas_DetectsItsRevisionsTable(t *testing.T) {
	own := Table{Name: "atlas_schema_revisions", Columns: map[string]string{"version": "character varying", "applied": "bigint", "total": "bigint", "hash": "character varying"}}
	if !(atlas{}).Detect(&Catalog{}, own) || (atlas{}).Detect(&Catalog{}, Table{Columns: map[string]string{"version": "bigint"}}) {
		t.Fatal("atlas_schema_revisions is recognised by its columns")
	}
}

// atlasSumOf writes the atlas.sum `atlas migrate hash` would write for the
// .sql files of fsys.
func atlasSumOf(t *testing.T, fsys fstest.MapFS) []byte {
	t.Helper()
	var names []string
	for name := range fsys {
		if len(name) > 4 && name[len(name)-4:] == ".sql" {
			names = append(names, name)
		}
	}
	slices.Sort(names)
	var files []atlasFile
	for _, n := range names {
		files = append(files, atlasFile{n, fsys[n].Data})
	}
	sums := atlasHashes(files)
	out := "h1:" + sums.total() + "\n"
	for _, s := range sums {
		out += s.name + " h1:" + s.hash + "\n"
	}
	return []byte(out)
}

func TestAtlas_SumDiff_NamesTheFirstChangedLineAsAtlasDoes(t *testing.T) {
	sums := func(pairs ...string) atlasSums {
		var s atlasSums
		for i := 0; i+1 < len(pairs); i += 2 {
			s = append(s, struct{ name, hash string }{pairs[i], pairs[i+1]})
		}
		return s
	}
	stored := sums("1_a.sql", "h1", "2_b.sql", "h2", "3_c.sql", "h3")
	cases := map[string]atlasSums{
		"L3: 2_b.sql was edited":  sums("1_a.sql", "h1", "2_b.sql", "x2", "3_c.sql", "x3"),
		"L5: 4_d.sql was added":   sums("1_a.sql", "h1", "2_b.sql", "h2", "3_c.sql", "h3", "4_d.sql", "h4"),
		"L3: 2_b.sql was removed": sums("1_a.sql", "h1", "3_c.sql", "x3"),
		"L3: 2_a.sql was added":   sums("1_a.sql", "h1", "2_a.sql", "y2", "2_b.sql", "x2", "3_c.sql", "x3"),
		"L4: 3_c.sql was removed": sums("1_a.sql", "h1", "2_b.sql", "h2"),
	}
	for want, computed := range cases {
		if got := atlasSumDiff(stored, computed); got != want {
			t.Errorf("atlasSumDiff = %q, want %q", got, want)
		}
	}
}
