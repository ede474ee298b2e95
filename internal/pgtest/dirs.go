package pgtest

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
)

// Names of the directories the harness creates under the temp root.
const (
	runPrefix      = "dbhealth-pgtest-run-"      // one per cluster: owner.pid, data/, sock/, postgres.log
	tmpPrefix      = "dbhealth-pgtest-tmp-"      // a template being built
	templatePrefix = "dbhealth-pgtest-template-" // finished templates, shared by all processes
)

// EnvDir names an environment variable that, if set, chooses the directory
// the harness keeps its clusters and templates in.
const EnvDir = "DBHEALTH_PGTEST_DIR"

var (
	rootOnce sync.Once
	rootDir  string
)

// tempRoot is where harness directories live: $DBHEALTH_PGTEST_DIR if set,
// else /dev/shm if it is a big enough tmpfs, else os.TempDir() unless the
// PostgreSQL user could not reach it (root with TMPDIR in a private
// directory) or unix socket paths under it would be too long, else /tmp.
func tempRoot(in *install) string {
	rootOnce.Do(func() {
		for _, dir := range rootCandidates() {
			if usableRoot(in, dir) {
				rootDir = dir
				return
			}
		}
		rootDir = "/tmp"
	})
	return rootDir
}

func rootCandidates() []string {
	var dirs []string
	if d := os.Getenv(EnvDir); d != "" {
		dirs = append(dirs, d)
	}
	if d := shmRoot(); d != "" {
		dirs = append(dirs, d)
	}
	return append(dirs, os.TempDir(), "/tmp")
}

func usableRoot(in *install, dir string) bool {
	const sockSuffix = "/" + runPrefix + "0123456789/sock/.s.PGSQL.65535.lock"
	if len(dir)+len(sockSuffix) > 100 {
		return false
	}
	if st, err := os.Stat(dir); err != nil || !st.IsDir() {
		return false
	}
	return in == nil || in.runAs == nil || traversableByOthers(dir)
}

// traversableByOthers reports whether every directory from / to dir is
// searchable by other users.
func traversableByOthers(dir string) bool {
	dir, err := filepath.Abs(dir)
	if err != nil {
		return false
	}
	for {
		st, err := os.Stat(dir)
		if err != nil || st.Mode().Perm()&0o001 == 0 {
			return false
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return true
		}
		dir = parent
	}
}

// makeHarnessDir creates a directory owned by the PostgreSQL user, mode
// 0755, with an owner.pid naming this process.
func makeHarnessDir(in *install, prefix string) (string, error) {
	dir, err := os.MkdirTemp(tempRoot(in), prefix)
	if err != nil {
		return "", err
	}
	if err := os.WriteFile(filepath.Join(dir, ownerFile), []byte(ownerRecord()), 0o644); err != nil {
		os.RemoveAll(dir)
		return "", err
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		os.RemoveAll(dir)
		return "", err
	}
	if err := in.chown(dir); err != nil {
		os.RemoveAll(dir)
		return "", fmt.Errorf("chown %s to %s: %v", dir, in.runAs.name, err)
	}
	return dir, nil
}

// harnessDirs lists the directories (of any process) that carry an owner file.
func harnessDirs(root string) []string {
	var dirs []string
	for _, prefix := range []string{runPrefix, tmpPrefix} {
		m, _ := filepath.Glob(filepath.Join(root, prefix+"*"))
		for _, d := range m {
			if !strings.HasPrefix(filepath.Base(d), templatePrefix) {
				dirs = append(dirs, d)
			}
		}
	}
	return dirs
}
