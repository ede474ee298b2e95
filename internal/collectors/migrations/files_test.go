package migrations

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// countingTool counts how often its files are parsed.
type countingTool struct {
	golangMigrate
	parses *int
}

func (c countingTool) ParseFiles(fsys fs.FS) ([]Migration, error) {
	*c.parses++
	return c.golangMigrate.ParseFiles(fsys)
}

func TestFileCache_ParsesOnlyWhenTheDirectoryChanges(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{"1_a.up.sql": "SELECT 1;", "2_b.up.sql": "SELECT 2;"})
	var parses int
	tool := countingTool{parses: &parses}
	var cache fileCache

	parse := func() []Migration {
		t.Helper()
		m, err := cache.parse(tool, dir)
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	parse()
	parse()
	if parses != 1 {
		t.Fatalf("an unchanged directory was parsed %d times", parses)
	}
	writeFiles(t, dir, map[string]string{"3_c.up.sql": "SELECT 3;"}) // mounted at runtime
	if m := parse(); len(m) != 3 || parses != 2 {
		t.Fatalf("a new file: %d migrations after %d parses", len(m), parses)
	}
	writeFiles(t, dir, map[string]string{"3_c.up.sql": "SELECT 33;"}) // resized
	if parse(); parses != 3 {
		t.Fatalf("a changed file was not re-read (%d parses)", parses)
	}
	later := time.Now().Add(time.Hour)
	if err := os.Chtimes(filepath.Join(dir, "1_a.up.sql"), later, later); err != nil { // touched
		t.Fatal(err)
	}
	if parse(); parses != 4 {
		t.Fatalf("a touched file was not re-read (%d parses)", parses)
	}
	if err := os.Remove(filepath.Join(dir, "2_b.up.sql")); err != nil {
		t.Fatal(err)
	}
	if m := parse(); len(m) != 2 || parses != 5 {
		t.Fatalf("a removed file: %d migrations after %d parses", len(m), parses)
	}
}

// BenchmarkFileCache compares a run on an unchanged directory of 2,000
// Flyway migrations (listed, not read) with a cold parse of the same
// directory (every file read and checksummed).
//
//	go test -run '^$' -bench FileCache -benchmem ./internal/collectors/migrations/
func BenchmarkFileCache(b *testing.B) {
	dir := b.TempDir()
	for i := 1; i <= 2000; i++ {
		name := filepath.Join(dir, fmt.Sprintf("V%d__migration_%d.sql", i, i))
		sql := fmt.Sprintf("CREATE TABLE t%d (\n  id bigserial PRIMARY KEY,\n  name text NOT NULL\n);\n", i)
		if err := os.WriteFile(name, []byte(strings.Repeat(sql, 20)), 0o644); err != nil {
			b.Fatal(err)
		}
	}
	b.Run("cold", func(b *testing.B) {
		for b.Loop() {
			var cache fileCache
			if _, err := cache.parse(flyway{}, dir); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("unchanged", func(b *testing.B) {
		var cache fileCache
		if _, err := cache.parse(flyway{}, dir); err != nil {
			b.Fatal(err)
		}
		for b.Loop() {
			if _, err := cache.parse(flyway{}, dir); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// configMapVolume lays out files as the kubelet mounts a ConfigMap: the
// data in a hidden ..<timestamp> directory, a ..data link to it, and one
// link per file at the top.
func configMapVolume(t *testing.T, dir, version string, files map[string]string) {
	t.Helper()
	data := filepath.Join(dir, "..2026_11_22_"+version)
	if err := os.Mkdir(data, 0o755); err != nil {
		t.Fatal(err)
	}
	writeFiles(t, data, files)
	tmp := filepath.Join(dir, "..data_tmp")
	if err := os.Symlink(filepath.Base(data), tmp); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, filepath.Join(dir, "..data")); err != nil { // the atomic swap
		t.Fatal(err)
	}
	for name := range files {
		link := filepath.Join(dir, name)
		if _, err := os.Lstat(link); err == nil {
			continue
		}
		if err := os.Symlink(filepath.Join("..data", name), link); err != nil {
			t.Fatal(err)
		}
	}
}

func TestFileCache_ConfigMapVolume_SeenOnceAndUpdatesAreRead(t *testing.T) {
	dir := t.TempDir()
	configMapVolume(t, dir, "1", map[string]string{"V1__init.sql": "CREATE TABLE a (id int);", "V2__more.sql": "CREATE TABLE b (id int);"})
	var cache fileCache
	first, err := cache.parse(flyway{}, dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(first) != 2 {
		t.Fatalf("%d migrations, want 2 (the hidden copy must not count): %+v", len(first), first)
	}
	// The ConfigMap is updated: V2's content changes, the links stay.
	configMapVolume(t, dir, "2", map[string]string{"V1__init.sql": "CREATE TABLE a (id int);", "V2__more.sql": "CREATE TABLE b (id bigint);"})
	second, err := cache.parse(flyway{}, dir)
	if err != nil {
		t.Fatal(err)
	}
	if second[1].Checksum == first[1].Checksum {
		t.Fatal("the updated ConfigMap was served from the cache")
	}
	for _, tool := range []Tool{flyway{}, liquibase{}, golangMigrate{}, prisma{}} {
		if _, err := tool.ParseFiles(os.DirFS(dir)); err != nil {
			t.Errorf("%s on a ConfigMap volume: %v", tool.Name(), err)
		}
	}
}
