package main

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"
)

// tick is the unit of the CPU times in /proc/<pid>/stat and /proc/stat
// (USER_HZ, 1/100 s on Linux).
const tick = 10 * time.Millisecond

// procStat is what one /proc/<pid>/stat says: the parent, and the CPU time
// of the process itself and of its children it has reaped.
type procStat struct {
	ppid     int
	own      time.Duration // utime + stime
	children time.Duration // cutime + cstime
}

func readProcStat(pid int) (procStat, bool) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return procStat{}, false
	}
	return parseProcStat(string(b))
}

// parseProcStat reads the fields after the command name, which may hold
// spaces and parentheses: state ppid ... utime(14) stime(15) cutime(16)
// cstime(17), counted from 1 over the whole line.
func parseProcStat(s string) (procStat, bool) {
	i := strings.LastIndex(s, ") ")
	if i < 0 {
		return procStat{}, false
	}
	f := strings.Fields(s[i+2:]) // f[0] is field 3 (state)
	if len(f) < 15 {
		return procStat{}, false
	}
	n := func(field int) int64 { v, _ := strconv.ParseInt(f[field-3], 10, 64); return v }
	return procStat{
		ppid:     int(n(4)),
		own:      time.Duration(n(14)+n(15)) * tick,
		children: time.Duration(n(16)+n(17)) * tick,
	}, true
}

// procCPU is a process's own CPU time so far (0 once it is gone).
func procCPU(pid int) time.Duration {
	st, _ := readProcStat(pid)
	return st.own
}

// treeCPU is the CPU time of a process and of every process below it,
// live or reaped: for a PostgreSQL cluster, the postmaster, its auxiliary
// processes and every backend, including those that have exited since
// (their time moves from the live children to the postmaster's cutime, so
// a difference of two readings counts every backend once).
func treeCPU(root int) time.Duration {
	st, ok := readProcStat(root)
	if !ok {
		return 0
	}
	total := st.own + st.children
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
		if st, ok := readProcStat(n); ok && st.ppid == pid {
			out = append(out, n)
		}
	}
	return out
}

// machineBusy is the machine's busy CPU time so far (every CPU; user,
// nice, system, irq, softirq), and the hypervisor's steal.
func machineBusy() (busy, steal time.Duration) {
	line, _, _ := strings.Cut(readFile("/proc/stat"), "\n")
	f := strings.Fields(line) // cpu user nice system idle iowait irq softirq steal ...
	if len(f) < 9 || f[0] != "cpu" {
		return 0, 0
	}
	n := func(i int) time.Duration { v, _ := strconv.ParseInt(f[i], 10, 64); return time.Duration(v) * tick }
	return n(1) + n(2) + n(3) + n(6) + n(7), n(8)
}

// memory is a process's memory from /proc/<pid>/status, in KiB.
type memory struct {
	RSS, HWM, Anon, File int64
}

func (m memory) mib() float64 { return float64(m.RSS) / 1024 }

func readMemory(pid int) memory {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return memory{}
	}
	defer f.Close()
	var m memory
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

func readFile(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	return string(b)
}

// procField returns the value of the first "key: value" line of a /proc
// file.
func procField(path, key string) string {
	f, err := os.Open(path)
	if err != nil {
		return "unknown"
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if ok && strings.TrimSpace(k) == key {
			return strings.TrimSpace(v)
		}
	}
	return "unknown"
}

// machine describes where the run happened.
type machine struct {
	cpus                          int
	cpu, kernel, memTotal, goVers string
	postgres                      string
	loadStart, loadEnd            string
	othersAtStart                 float64
}

func describeMachine() machine {
	return machine{
		cpus:     runtime.NumCPU(),
		cpu:      procField("/proc/cpuinfo", "model name"),
		kernel:   strings.TrimSpace(readFile("/proc/sys/kernel/osrelease")),
		memTotal: procField("/proc/meminfo", "MemTotal"),
		goVers:   runtime.Version(),
		postgres: pgVersion(),
	}
}

func loadAvg() string {
	f := strings.Fields(readFile("/proc/loadavg"))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], " ")
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

// othersBusy is the CPU, in cores, the machine used over d while the
// harness waited: before anything starts, all of it is other sessions'.
func othersBusy(d time.Duration) float64 {
	before, _ := machineBusy()
	at := time.Now()
	time.Sleep(d)
	after, _ := machineBusy()
	return (after - before).Seconds() / time.Since(at).Seconds()
}

// waitQuiet waits, at most max, until other processes use less than a
// quarter of a core, and returns what they used at the last look.
func waitQuiet(max time.Duration) float64 {
	deadline := time.Now().Add(max)
	for {
		busy := othersBusy(3 * time.Second)
		if busy < 0.25 || time.Now().After(deadline) {
			return busy
		}
		logf("the machine is busy (other processes use %.2f cores); waiting up to %s for it to calm down", busy, time.Until(deadline).Round(time.Second))
	}
}
