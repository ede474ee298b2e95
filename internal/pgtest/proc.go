package pgtest

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// procInfo is what we need from /proc/<pid>/stat.
type procInfo struct {
	state     byte   // R, S, D, Z, X, ...
	ppid      int    // parent pid
	startTime uint64 // clock ticks since boot; identifies the process across pid reuse
}

// readProc parses /proc/<pid>/stat. ok is false if the process does not
// exist or /proc is not available.
func readProc(pid int) (procInfo, bool) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return procInfo{}, false
	}
	// The command name (field 2) is in parentheses and may contain spaces.
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return procInfo{}, false
	}
	f := strings.Fields(s[i+1:]) // f[0] is field 3 (state)
	if len(f) < 20 || len(f[0]) == 0 {
		return procInfo{}, false
	}
	ppid, _ := strconv.Atoi(f[1])
	start, _ := strconv.ParseUint(f[19], 10, 64) // field 22
	return procInfo{state: f[0][0], ppid: ppid, startTime: start}, true
}

func haveProc() bool {
	_, err := os.Stat("/proc/self/stat")
	return err == nil
}

// processAlive reports whether pid is a running process. Zombies count as
// dead: PID 1 of many containers (this machine's included) never reaps
// orphans, so a postmaster that pg_ctl daemonized stays a zombie forever
// after it exits, and kill(pid, 0) keeps succeeding on it.
func processAlive(pid int) bool {
	if pid <= 0 {
		return false
	}
	if haveProc() {
		p, ok := readProc(pid)
		return ok && p.state != 'Z' && p.state != 'X'
	}
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}

// childrenOf lists the live processes whose parent is pid (empty without /proc).
func childrenOf(pid int) []int {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	var kids []int
	for _, e := range entries {
		n, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if p, ok := readProc(n); ok && p.ppid == pid && p.state != 'Z' {
			kids = append(kids, n)
		}
	}
	return kids
}

// waitGone waits until none of pids is alive (zombies count as gone).
func waitGone(pids []int, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		var alive []int
		for _, p := range pids {
			if processAlive(p) {
				alive = append(alive, p)
			}
		}
		if len(alive) == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("processes %v still alive after %v", alive, timeout)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// ownerFile is the name of the file in every harness directory that records
// the process owning it, as "<pid> <start time>".
const ownerFile = "owner.pid"

func ownerRecord() string {
	pid := os.Getpid()
	var start uint64
	if p, ok := readProc(pid); ok {
		start = p.startTime
	}
	return fmt.Sprintf("%d %d\n", pid, start)
}

// readOwner returns the owner recorded in dir; ok is false if there is none.
func readOwner(dir string) (pid int, start uint64, ok bool) {
	b, err := os.ReadFile(filepath.Join(dir, ownerFile))
	if err != nil {
		return 0, 0, false
	}
	f := strings.Fields(string(b))
	if len(f) == 0 {
		return 0, 0, false
	}
	pid, err = strconv.Atoi(f[0])
	if err != nil {
		return 0, 0, false
	}
	if len(f) > 1 {
		start, _ = strconv.ParseUint(f[1], 10, 64)
	}
	return pid, start, true
}

// ownerAlive reports whether the process recorded as owner is still running
// (and is the same process, not a reuse of its pid).
func ownerAlive(pid int, start uint64) bool {
	if !processAlive(pid) {
		return false
	}
	if start != 0 {
		if p, ok := readProc(pid); ok && p.startTime != start {
			return false
		}
	}
	return true
}

// pmFile is the parsed content of a data directory's postmaster.pid.
type pmFile struct {
	pid    int
	port   int
	shmKey int64
	shmID  int64
	status string // "starting", "stopping", "ready", "standby" or "" if not yet written
	listen string // listen_addresses line, "" if not yet written
}

func readPostmasterPID(dataDir string) (pmFile, error) {
	b, err := os.ReadFile(filepath.Join(dataDir, "postmaster.pid"))
	if err != nil {
		return pmFile{}, err
	}
	lines := strings.Split(string(b), "\n")
	var pm pmFile
	if pm.pid, err = strconv.Atoi(strings.TrimSpace(lines[0])); err != nil {
		return pmFile{}, fmt.Errorf("postmaster.pid: bad pid line %q", lines[0])
	}
	if len(lines) > 3 {
		pm.port, _ = strconv.Atoi(strings.TrimSpace(lines[3]))
	}
	if len(lines) > 5 {
		pm.listen = strings.TrimSpace(lines[5])
	}
	if len(lines) > 6 {
		if f := strings.Fields(lines[6]); len(f) == 2 {
			pm.shmKey, _ = strconv.ParseInt(f[0], 10, 64)
			pm.shmID, _ = strconv.ParseInt(f[1], 10, 64)
		}
	}
	if len(lines) > 7 {
		pm.status = strings.TrimSpace(lines[7])
	}
	return pm, nil
}
