package benchkit

import (
	"bufio"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

// Tick is the unit of the CPU times in /proc/<pid>/stat and /proc/stat
// (USER_HZ, 1/100 s on Linux).
const Tick = 10 * time.Millisecond

// ReadFile is the content of a file, or "" if it cannot be read.
func ReadFile(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	return string(b)
}

// ProcStat is what one /proc/<pid>/stat says: the parent, and the CPU time
// of the process itself and of its children it has reaped.
type ProcStat struct {
	PPID     int
	Own      time.Duration // utime + stime
	Children time.Duration // cutime + cstime
}

// ReadProcStat reads /proc/<pid>/stat; false if the process is gone.
func ReadProcStat(pid int) (ProcStat, bool) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return ProcStat{}, false
	}
	return ParseProcStat(string(b))
}

// ParseProcStat reads the fields after the command name, which may hold
// spaces and parentheses: state ppid ... utime(14) stime(15) cutime(16)
// cstime(17), counted from 1 over the whole line.
func ParseProcStat(s string) (ProcStat, bool) {
	i := strings.LastIndex(s, ") ")
	if i < 0 {
		return ProcStat{}, false
	}
	f := strings.Fields(s[i+2:]) // f[0] is field 3 (state)
	if len(f) < 15 {
		return ProcStat{}, false
	}
	n := func(field int) int64 { v, _ := strconv.ParseInt(f[field-3], 10, 64); return v }
	return ProcStat{
		PPID:     int(n(4)),
		Own:      time.Duration(n(14)+n(15)) * Tick,
		Children: time.Duration(n(16)+n(17)) * Tick,
	}, true
}

// ProcCPU is a process's own CPU time (user + system) so far; 0 once it is
// gone.
func ProcCPU(pid int) time.Duration {
	st, _ := ReadProcStat(pid)
	return st.Own
}

// MachineCPU is the machine's busy CPU time so far (every CPU; user, nice,
// system, irq, softirq), and the hypervisor's steal, from /proc/stat.
func MachineCPU() (busy, steal time.Duration) {
	line, _, _ := strings.Cut(ReadFile("/proc/stat"), "\n")
	f := strings.Fields(line) // cpu user nice system idle iowait irq softirq steal ...
	if len(f) < 9 || f[0] != "cpu" {
		return 0, 0
	}
	n := func(i int) time.Duration { v, _ := strconv.ParseInt(f[i], 10, 64); return time.Duration(v) * Tick }
	return n(1) + n(2) + n(3) + n(6) + n(7), n(8)
}

// Memory is a process's memory from /proc/<pid>/status, in KiB.
type Memory struct {
	RSS, HWM, Anon, File int64
}

// MiB is VmRSS in MiB.
func (m Memory) MiB() float64 { return float64(m.RSS) / 1024 }

// ReadMemory reads VmRSS, VmHWM, RssAnon and RssFile of a process.
func ReadMemory(pid int) (Memory, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return Memory{}, err
	}
	defer f.Close()
	var m Memory
	fields := map[string]*int64{"VmRSS:": &m.RSS, "VmHWM:": &m.HWM, "RssAnon:": &m.Anon, "RssFile:": &m.File}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		parts := strings.Fields(sc.Text())
		if len(parts) >= 2 {
			if p, ok := fields[parts[0]]; ok {
				*p, _ = strconv.ParseInt(parts[1], 10, 64)
			}
		}
	}
	return m, sc.Err()
}
