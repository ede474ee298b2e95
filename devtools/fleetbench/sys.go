package main

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/dbhealth/dbhealth-exporter/devtools/internal/benchkit"
)

// treeCPU is the CPU time of a process and of every process below it,
// live or reaped: for a PostgreSQL cluster, the postmaster, its auxiliary
// processes and every backend, including those that have exited since
// (their time moves from the live children to the postmaster's cutime, so
// a difference of two readings counts every backend once).
func treeCPU(root int) time.Duration {
	st, ok := benchkit.ReadProcStat(root)
	if !ok {
		return 0
	}
	total := st.Own + st.Children
	for _, child := range childrenOf(root) {
		total += treeCPU(child)
	}
	return total
}

// childrenOf lists the live children of pid.
func childrenOf(pid int) []int {
	if b, err := os.ReadFile(fmt.Sprintf("/proc/%d/task/%d/children", pid, pid)); err == nil {
		var out []int
		for _, f := range strings.Fields(string(b)) {
			if n, err := strconv.Atoi(f); err == nil {
				out = append(out, n)
			}
		}
		return out
	}
	entries, _ := os.ReadDir("/proc")
	var out []int
	for _, e := range entries {
		n, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if st, ok := benchkit.ReadProcStat(n); ok && st.PPID == pid {
			out = append(out, n)
		}
	}
	return out
}

// readMemory is a process's memory, zero once it is gone.
func readMemory(pid int) benchkit.Memory {
	m, _ := benchkit.ReadMemory(pid)
	return m
}

// privateKiB is the memory only this process holds (Private_Clean +
// Private_Dirty of /proc/<pid>/smaps_rollup), in KiB: for a backend, what
// it costs the server beyond the shared buffers and the binary.
func privateKiB(pid int) int64 {
	f, err := os.Open(fmt.Sprintf("/proc/%d/smaps_rollup", pid))
	if err != nil {
		return 0
	}
	defer f.Close()
	var total int64
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		parts := strings.Fields(sc.Text())
		if len(parts) >= 2 && (parts[0] == "Private_Clean:" || parts[0] == "Private_Dirty:") {
			v, _ := strconv.ParseInt(parts[1], 10, 64)
			total += v
		}
	}
	return total
}

// describeMachine describes this machine and the PostgreSQL the clusters
// run.
func describeMachine() benchkit.Machine {
	m := benchkit.DescribeMachine()
	m.Postgres = pgVersion()
	return m
}

func pgVersion() string {
	bin := os.Getenv("PG_BINDIR")
	if bin == "" {
		out, err := exec.Command("pg_config", "--bindir").Output()
		if err != nil {
			return "unknown"
		}
		bin = strings.TrimSpace(string(out))
	}
	out, err := exec.Command(filepath.Join(bin, "postgres"), "--version").Output()
	if err != nil {
		return "unknown"
	}
	return strings.TrimSpace(string(out))
}
