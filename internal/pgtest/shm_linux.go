package pgtest

import (
	"os"
	"strconv"
	"strings"
	"syscall"
)

// removeStaleShm removes the System V shared memory segment a SIGKILLed
// postmaster left behind, if it still exists with that key and nothing is
// attached to it. (A restarted postmaster cleans it up by itself; this is for
// clusters that are killed and then removed.)
func removeStaleShm(key, id int64) {
	if id <= 0 {
		return
	}
	b, err := os.ReadFile("/proc/sysvipc/shm")
	if err != nil {
		return
	}
	for _, line := range strings.Split(string(b), "\n")[1:] {
		// key shmid perms size cpid lpid nattch ...
		f := strings.Fields(line)
		if len(f) < 7 || f[1] != strconv.FormatInt(id, 10) {
			continue
		}
		if f[0] != strconv.FormatInt(key, 10) || f[6] != "0" {
			return
		}
		const ipcRMID = 0
		syscall.Syscall(syscall.SYS_SHMCTL, uintptr(id), ipcRMID, 0)
		return
	}
}
