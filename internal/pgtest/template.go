package pgtest

import (
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"time"
)

var (
	templateMu   sync.Mutex
	templateData string // cached path of the template's data directory
)

// template returns the data directory of a freshly initdb'd cluster that new
// clusters copy. There is one per machine, PostgreSQL major version and
// owning uid, kept under the temp root across runs. It is built at most once
// at a time (flock) and published atomically (rename), so concurrently
// running test binaries share it safely.
func (in *install) template() (string, error) {
	templateMu.Lock()
	defer templateMu.Unlock()
	if templateData != "" {
		return templateData, nil
	}
	root := tempRoot(in)
	final := filepath.Join(root, fmt.Sprintf("%s%s-uid%d", templatePrefix, in.major, in.ownerUID()))
	data := filepath.Join(final, "data")
	if templateComplete(data) {
		templateData = data
		return data, nil
	}

	lock, err := os.OpenFile(final+".lock", os.O_RDONLY|os.O_CREATE, 0o644)
	if err != nil {
		return "", fmt.Errorf("template lock: %v", err)
	}
	defer lock.Close()
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX); err != nil {
		return "", fmt.Errorf("template lock: %v", err)
	}
	defer syscall.Flock(int(lock.Fd()), syscall.LOCK_UN)

	if templateComplete(data) { // another process built it while we waited
		templateData = data
		return data, nil
	}
	if _, err := os.Stat(final); err == nil {
		// Damaged (someone deleted files in it): rebuild.
		if err := os.RemoveAll(final); err != nil {
			return "", fmt.Errorf("removing damaged template %s: %v", final, err)
		}
	}

	tmp, err := makeHarnessDir(in, tmpPrefix)
	if err != nil {
		return "", fmt.Errorf("template: %v", err)
	}
	out, err := in.run(5*time.Minute, tmp, "initdb",
		"-D", filepath.Join(tmp, "data"),
		"-A", "trust", "-U", "postgres", "-E", "UTF8", "--locale=C", "--no-sync")
	if err != nil {
		os.RemoveAll(tmp)
		return "", fmt.Errorf("initdb failed: %v\n%s", err, out)
	}
	if err := os.Rename(tmp, final); err != nil {
		os.RemoveAll(tmp)
		if !templateComplete(data) {
			return "", fmt.Errorf("publishing template: %v", err)
		}
	}
	os.Remove(filepath.Join(final, ownerFile))
	templateData = data
	return data, nil
}

func templateComplete(data string) bool {
	_, err := os.Stat(filepath.Join(data, "global", "pg_control"))
	if err != nil {
		return false
	}
	_, err = os.Stat(filepath.Join(data, "PG_VERSION"))
	return err == nil
}
