package migrations

import (
	"slices"
	"testing"
	"testing/fstest"
)

func TestDbmate_ParseFiles_KeepsTheDigitsAsWrittenInFileNameOrder(t *testing.T) {
	fsys := fstest.MapFS{
		"20240102000000_add_email.sql":    {},
		"001_init.sql":                    {},
		"20240101000000_create_users.sql": {},
		"20240101000000b.sql":             {}, // anything may follow the digits
		"schema.sql":                      {}, // no leading digits
		"002_notes.txt":                   {},
		"sub/003_nested.sql":              {}, // dbmate does not look into subdirectories
	}
	got, err := dbmate{}.ParseFiles(fsys)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"001=001_init",
		"20240101000000=20240101000000_create_users",
		"20240101000000=20240101000000b",
		"20240102000000=20240102000000_add_email",
	}
	if labels := gooseLabels(got); !slices.Equal(labels, want) {
		t.Fatalf("got %v, want %v", labels, want)
	}
}

// The three tools that name their table schema_migrations are told apart
// by its version column and by Rails' ar_internal_metadata beside it.
func TestSchemaMigrations_ExactlyOneOfTheThreeToolsClaimsEachLayout(t *testing.T) {
	varcharVersion := map[string]string{"version": "character varying"}
	metadata := Table{Schema: "public", Name: "ar_internal_metadata", Columns: map[string]string{"key": "character varying"}}
	prefixedMetadata := Table{Schema: "public", Name: "app_ar_internal_metadata", Columns: map[string]string{"key": "character varying"}}
	cases := []struct {
		name  string
		table Table
		also  []Table
		want  string
	}{
		{"golang-migrate", Table{Schema: "public", Name: "schema_migrations", Columns: map[string]string{"version": "bigint", "dirty": "boolean"}}, nil, "golang-migrate"},
		{"dbmate", Table{Schema: "public", Name: "schema_migrations", Columns: varcharVersion}, nil, "dbmate"},
		{"rails", Table{Schema: "public", Name: "schema_migrations", Columns: varcharVersion}, []Table{metadata}, "rails"},
		{"rails metadata in another schema is not this table's", Table{Schema: "app", Name: "schema_migrations", Columns: varcharVersion}, []Table{metadata}, "dbmate"},
		{"rails with a table name prefix", Table{Schema: "public", Name: "app_schema_migrations", Columns: varcharVersion}, []Table{prefixedMetadata}, "rails"},
	}
	for _, tc := range cases {
		cat := &Catalog{tables: append([]Table{tc.table}, tc.also...)}
		var claimed []string
		for _, tool := range []Tool{golangMigrate{}, dbmate{}, rails{}} {
			if tool.Detect(cat, tc.table) {
				claimed = append(claimed, tool.Name())
			}
		}
		if !slices.Equal(claimed, []string{tc.want}) {
			t.Errorf("%s: claimed by %v, want only %s", tc.name, claimed, tc.want)
		}
	}
}
