package pgtest

import (
	"os"
	"path/filepath"
	"sync"
	"time"
)

var orphanOnce sync.Once

// cleanupOrphans removes, once per process, the harness directories of test
// processes that no longer exist, stopping their servers first.
func cleanupOrphans(in *install) {
	orphanOnce.Do(func() { removeOrphans(in) })
}

func removeOrphans(in *install) {
	seen := map[string]bool{}
	for _, root := range append([]string{tempRoot(in)}, rootCandidates()...) {
		if seen[root] {
			continue
		}
		seen[root] = true
		for _, dir := range harnessDirs(root) {
			pid, start, ok := readOwner(dir)
			if !ok {
				// Being created right now, or damaged: only old ones go.
				if st, err := os.Stat(dir); err == nil && time.Since(st.ModTime()) > time.Hour {
					removeOrphan(in, dir)
				}
				continue
			}
			if ownerAlive(pid, start) {
				continue
			}
			removeOrphan(in, dir)
		}
	}
}

func removeOrphan(in *install, dir string) {
	data := filepath.Join(dir, "data")
	if pm, err := readPostmasterPID(data); err == nil {
		if processAlive(pm.pid) {
			in.run(30*time.Second, dir, "pg_ctl", "-D", data, "stop", "-m", "immediate", "-w", "-t", "20")
			if processAlive(pm.pid) {
				killTree(pm.pid)
			}
		}
		removeStaleShm(pm.shmKey, pm.shmID)
	}
	os.RemoveAll(dir)
}
