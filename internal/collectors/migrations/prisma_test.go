package migrations

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"testing/fstest"
)

func TestPrisma_Checksum_IsSHA256HexLikePrismaEngines(t *testing.T) {
	// The vector of schema-engine's own test (checksum.rs,
	// format_checksum_does_not_strip_zeros).
	if got := prismaChecksums([]byte("hello"))[0]; got != "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824" {
		t.Fatalf("checksum of hello: %s", got)
	}
	// checksum.rs script_matches_checksum_is_line_ending_agnostic.
	for _, pair := range [][2]string{
		{"ab\ncd\nef\ngh\rab", "ab\r\ncd\r\nef\r\ngh\rab"},
		{"ab\ncd\nef\ngh\rab\n", "ab\r\ncd\r\nef\r\ngh\rab\r\n"},
	} {
		for _, script := range pair {
			for _, other := range pair {
				stored := prismaChecksums([]byte(other))[0]
				if !prismaChecksumMatches(strings.Join(prismaChecksums([]byte(script)), " "), stored) {
					t.Errorf("%q must accept the checksum of %q", script, other)
				}
			}
		}
	}
	// script_matches_checksum_negative.
	if prismaChecksumMatches(strings.Join(prismaChecksums([]byte("abc")), " "), prismaChecksums([]byte("abcd"))[0]) ||
		prismaChecksumMatches(strings.Join(prismaChecksums([]byte("abc\n")), " "), prismaChecksums([]byte("abc"))[0]) {
		t.Error("different scripts must not match")
	}
}

func TestPrisma_Checksum_AcceptsTheUnpaddedFormOfOldEngines(t *testing.T) {
	sum := "0a0b" + strings.Repeat("ff", 30)
	if !prismaChecksumMatches(sum, "ab"+strings.Repeat("ff", 30)) || prismaChecksumMatches(sum, "0a0c"+strings.Repeat("ff", 30)) {
		t.Fatal("unpadded checksums (prisma-engines#1887) must match, others not")
	}
}

func TestPrisma_ParseFiles_OneMigrationPerDirectory(t *testing.T) {
	fsys := fstest.MapFS{
		"migration_lock.toml":                    {Data: []byte(`provider = "postgresql"`)},
		"20240102000000_add_email/migration.sql": {Data: []byte("ALTER TABLE users ADD email text;")},
		"20240101000000_init/migration.sql":      {Data: []byte("CREATE TABLE users (id int);")},
		"20240101000000_init/README.md":          {},
	}
	got, err := prisma{}.ParseFiles(fsys)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, m := range got {
		names = append(names, m.Version)
	}
	if want := []string{"20240101000000_init", "20240102000000_add_email"}; !slices.Equal(names, want) || got[0].Name != got[0].Version {
		t.Fatalf("got %v, want %v", got, want)
	}
	var invalid *InvalidFileError
	if _, err := (prisma{}).ParseFiles(fstest.MapFS{"20240101000000_init/down.sql": {}}); !errors.As(err, &invalid) {
		t.Fatalf("a directory without migration.sql: %v", err)
	}
}

func TestPrisma_Rows_FailedRolledBackAndEdited(t *testing.T) {
	sum := func(s string) string { return strings.Join(prismaChecksums([]byte(s)), " ") }
	first := func(s string) string { return prismaChecksums([]byte(s))[0] }
	disk := []Migration{
		{Version: "1_init", Name: "1_init", Checksum: sum("a")},
		{Version: "2_users", Name: "2_users", Checksum: sum("b-edited")},
		{Version: "3_retry", Name: "3_retry", Checksum: sum("c")},
		{Version: "4_rolled_back", Name: "4_rolled_back", Checksum: sum("d")},
		{Version: "5_broken", Name: "5_broken", Checksum: sum("e")},
	}
	attempts := []prismaAttempt{
		{Name: "1_init", Checksum: first("a"), Finished: true},
		{Name: "2_users", Checksum: first("b"), Finished: true},
		{Name: "3_retry", Checksum: first("c"), RolledBack: true},
		{Name: "3_retry", Checksum: first("c"), Finished: true},
		{Name: "4_rolled_back", Checksum: first("d"), RolledBack: true},
		{Name: "5_broken", Checksum: first("e")},
		{Name: "9_gone", Checksum: first("z"), Finished: true},
	}
	r := compareRows(disk, prismaRows(disk, attempts))
	if r.AppliedCount != 4 || r.LatestApplied != "9_gone" ||
		!slices.Equal(r.Pending, []string{"4_rolled_back"}) || !slices.Equal(r.Dirty, []string{"5_broken"}) ||
		!slices.Equal(r.ChecksumMismatches, []string{"2_users"}) || !slices.Equal(r.Unknown, []string{"9_gone"}) {
		t.Fatalf("%+v", r)
	}
}

func TestPrisma_DetectsItsTable(t *testing.T) {
	own := Table{Name: "_prisma_migrations", Columns: map[string]string{"id": "character varying", "checksum": "character varying",
		"finished_at": "timestamp with time zone", "migration_name": "character varying", "rolled_back_at": "timestamp with time zone"}}
	if !(prisma{}).Detect(&Catalog{}, own) || (prisma{}).Detect(&Catalog{}, Table{Columns: map[string]string{"checksum": "text"}}) {
		t.Fatal("_prisma_migrations is recognised by its columns")
	}
}
