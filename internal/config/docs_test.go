package config

import (
	"os"
	"reflect"
	"strings"
	"testing"
)

// keys lists the dotted keys of a file type, from its yaml tags.
func keys(t reflect.Type, prefix string) []string {
	var out []string
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		tag, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if tag == "-" || !f.IsExported() {
			continue
		}
		ft := f.Type
		if ft.Kind() == reflect.Pointer {
			ft = ft.Elem()
		}
		if strings.Contains(f.Tag.Get("yaml"), "inline") {
			out = append(out, keys(ft, prefix)...)
			continue
		}
		key := prefix + tag
		if ft.Kind() == reflect.Slice && ft.Elem().Kind() == reflect.Struct {
			out = append(out, keys(ft.Elem(), key+"[].")...)
			continue
		}
		if ft.Kind() == reflect.Struct && ft.PkgPath() == t.PkgPath() {
			out = append(out, keys(ft, key+".")...)
			continue
		}
		out = append(out, key)
	}
	return out
}

// Every key of the file is in docs/configuration.md, spelt in full or as
// `.key` after its block's first key in the same table row.
func TestDocs_EveryKeyIsDocumented(t *testing.T) {
	doc, err := os.ReadFile("../../docs/configuration.md")
	if err != nil {
		t.Fatal(err)
	}
	rows := strings.Split(string(doc), "\n")
	all := keys(reflect.TypeFor[File](), "")
	all = append(all, "targets[].database", "targets[].checks")
	if len(all) < 20 {
		t.Fatalf("only %d keys found: %v", len(all), all)
	}
	for _, key := range all {
		// A target's database and checks blocks are the top-level ones.
		if rest, ok := strings.CutPrefix(key, "targets[]."); ok && (strings.HasPrefix(rest, "database.") || strings.HasPrefix(rest, "checks.")) {
			key = rest
		}
		block, leaf := key[:strings.LastIndex(key, ".")+1], key[strings.LastIndex(key, ".")+1:]
		documented := false
		for _, row := range rows {
			if !strings.HasPrefix(row, "| `") {
				continue
			}
			if strings.Contains(row, "`"+key+"`") || strings.Contains(row, "`"+block) && strings.Contains(row, "`."+leaf+"`") {
				documented = true
			}
		}
		if !documented {
			t.Errorf("docs/configuration.md does not document %s", key)
		}
	}
}

// The reference file in examples/ loads and sets every key it shows.
func TestExamples_ReferenceFileLoads(t *testing.T) {
	f, err := Load("../../examples/dbhealth.yml", func(k string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	if f.Defaults.Interval == nil || f.Defaults.StaleAfter == nil || f.Database.DSN == "" || f.Database.Expect == "" ||
		f.Checks.Database.Critical == nil || f.Checks.Migrations.Dir == "" || f.Checks.Migrations.FailOnUnknown == nil {
		t.Fatalf("the reference file leaves keys unset: %+v", f)
	}
}
