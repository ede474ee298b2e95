package migrations

import (
	"crypto/sha256"
	"encoding/binary"
	"io/fs"
	"os"
	"strings"
	"sync"
)

// fileCache keeps the parsed migrations of a directory until a file in it
// is added, removed, resized or touched: the directory is listed on every
// run (so a file mounted at runtime is seen at once) but read and parsed only
// when it changed.
type fileCache struct {
	mu          sync.Mutex
	fingerprint [sha256.Size]byte
	tool        string
	migrations  []Migration
}

// parse returns tool's migrations in dir, parsing only if the directory
// changed since the last call.
func (c *fileCache) parse(tool Tool, dir string) ([]Migration, error) {
	fsys := os.DirFS(dir)
	fp, err := fingerprint(fsys)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.migrations != nil && fp == c.fingerprint && c.tool == tool.Name() {
		return c.migrations, nil
	}
	migrations, err := tool.ParseFiles(fsys)
	if err != nil {
		return nil, err
	}
	if migrations == nil {
		migrations = []Migration{}
	}
	c.fingerprint, c.tool, c.migrations = fp, tool.Name(), migrations
	return migrations, nil
}

// skipDir reports directories no tool keeps migrations in, which may be
// large (a Django project root holds its virtualenv and node_modules).
func skipDir(name string) bool {
	switch name {
	case "node_modules", "__pycache__", "site-packages", "venv":
		return true
	}
	return strings.HasPrefix(name, ".") && name != "."
}

// fingerprint hashes the name, size and modification time of every file
// below the root, outside skipDir directories.
func fingerprint(fsys fs.FS) ([sha256.Size]byte, error) {
	h := sha256.New()
	err := fs.WalkDir(fsys, ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && skipDir(d.Name()) {
			return fs.SkipDir
		}
		// Stat follows symbolic links: a ConfigMap volume's files are links
		// into a ..data directory that the kubelet swaps on every update,
		// so the links themselves never change.
		info, err := fs.Stat(fsys, path)
		if err != nil {
			return err
		}
		var meta [16]byte
		binary.LittleEndian.PutUint64(meta[:8], uint64(info.Size()))
		binary.LittleEndian.PutUint64(meta[8:], uint64(info.ModTime().UnixNano()))
		h.Write([]byte(path))
		h.Write([]byte{0})
		h.Write(meta[:])
		return nil
	})
	var sum [sha256.Size]byte
	copy(sum[:], h.Sum(nil))
	return sum, err
}
