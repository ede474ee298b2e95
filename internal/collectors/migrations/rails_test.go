package migrations

import (
	"errors"
	"slices"
	"testing"
	"testing/fstest"
)

func TestRails_ParseFiles_NumericOrderIntegerVersionsAndSubdirectories(t *testing.T) {
	fsys := fstest.MapFS{
		"20240102000000_add_email.rb":              {},
		"001_create_users.rb":                      {}, // recorded as "1"
		"20240101000000_add_name.rb":               {},
		"engine/20240103000000_blog_posts.blog.rb": {}, // an engine's, with a scope
		".hidden/20240104000000_ignored.rb":        {},
		"schema.rb":                                {},
		"20240105000000_notes.txt":                 {},
	}
	got, err := rails{}.ParseFiles(fsys)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"1=001_create_users",
		"20240101000000=20240101000000_add_name",
		"20240102000000=20240102000000_add_email",
		"20240103000000=20240103000000_blog_posts.blog",
	}
	if labels := gooseLabels(got); !slices.Equal(labels, want) {
		t.Fatalf("got %v, want %v", labels, want)
	}
}

func TestRails_ParseFiles_RejectsWhatActiveRecordRejects(t *testing.T) {
	cases := map[string]fstest.MapFS{
		"upper case name":           {"20240101000000_CreateUsers.rb": {}},
		"dash in name":              {"20240101000000_create-users.rb": {}},
		"duplicate version":         {"1_a.rb": {}, "0001_b.rb": {}},
		"duplicate class":           {"1_add_email.rb": {}, "sub/2_add_email.rb": {}},
		"same class after camelize": {"1_add_x1.rb": {}, "2_add_x_1.rb": {}},
	}
	for name, fsys := range cases {
		_, err := rails{}.ParseFiles(fsys)
		var invalid *InvalidFileError
		if !errors.As(err, &invalid) {
			t.Errorf("%s: got %v, want an InvalidFileError", name, err)
		}
	}
}

func TestRails_NormalizeAndCamelize(t *testing.T) {
	for in, want := range map[string]string{"0001": "1", "20240101000000": "20240101000000", "0": "0", "v1": "v1", "": ""} {
		if got := railsNormalize(in); got != want {
			t.Errorf("railsNormalize(%q) = %q, want %q", in, got, want)
		}
	}
	for in, want := range map[string]string{"add_email": "AddEmail", "a__b": "AB", "x": "X", "add_x1": "AddX1"} {
		if got := railsCamelize(in); got != want {
			t.Errorf("railsCamelize(%q) = %q, want %q", in, got, want)
		}
	}
	for in, want := range map[string]string{
		"schema_migrations": "ar_internal_metadata", "app_schema_migrations_v2": "app_ar_internal_metadata_v2", "history": "ar_internal_metadata",
	} {
		if got := railsMetadataTable(in); got != want {
			t.Errorf("railsMetadataTable(%q) = %q, want %q", in, got, want)
		}
	}
}
