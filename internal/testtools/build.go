package testtools

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/dbhealth/dbhealth-exporter/internal/pgtest"
)

// BuildExporter builds the exporter binary with the race detector into a new
// temporary directory, for tests that run it as a user would. remove deletes
// it.
func BuildExporter() (binary string, remove func(), err error) {
	dir, err := os.MkdirTemp("", "dbhealth-exporter-bin-")
	if err != nil {
		return "", nil, err
	}
	binary = filepath.Join(dir, "dbhealth-exporter")
	build := exec.Command("go", "build", "-race", "-o", binary, "github.com/dbhealth/dbhealth-exporter/cmd/exporter")
	if out, err := build.CombinedOutput(); err != nil {
		os.RemoveAll(dir)
		return "", nil, fmt.Errorf("building the exporter: %w\n%s", err, out)
	}
	return binary, func() { os.RemoveAll(dir) }, nil
}

// MainWithExporter is a TestMain for packages that run the exporter binary:
// it builds it into *binary, runs the tests with pgtest.Main (which stops
// their clusters) and removes the binary.
func MainWithExporter(m *testing.M, binary *string) int {
	path, remove, err := BuildExporter()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer remove()
	*binary = path
	return pgtest.Main(m)
}
