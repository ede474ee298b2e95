// Package testtools holds what the tests of several packages share: the
// real migration tools they drive, the exporter binary, a buffer safe for
// concurrent writers, a free loopback address and a self-signed serving
// certificate.
//
// The migration tools are installed by .ci/install-tools (`make tools`)
// into .tools/bin at the repository's top, or found in
// $DBHEALTH_TOOLS_DIR/bin or on PATH. A missing tool fails the test with
// that instruction; it is never skipped.
package testtools

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// Require returns the path of the named tool's executable.
func Require(t testing.TB, name string) string {
	t.Helper()
	var candidates []string
	if dir := os.Getenv("DBHEALTH_TOOLS_DIR"); dir != "" {
		candidates = append(candidates, filepath.Join(dir, "bin", name))
	}
	if root, ok := repoRoot(); ok {
		candidates = append(candidates, filepath.Join(root, ".tools", "bin", name))
	}
	for _, c := range candidates {
		if info, err := os.Stat(c); err == nil && !info.IsDir() {
			return c
		}
	}
	if path, err := exec.LookPath(name); err == nil {
		return path
	}
	t.Fatalf("migration tool %q is not installed: run `make tools` (.ci/install-tools)", name)
	return ""
}

// repoRoot walks up from the working directory to the directory holding
// go.mod.
func repoRoot() (string, bool) {
	dir, err := os.Getwd()
	if err != nil {
		return "", false
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, true
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", false
		}
		dir = parent
	}
}
