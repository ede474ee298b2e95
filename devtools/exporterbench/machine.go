package main

import (
	"bufio"
	"os"
	"os/exec"
	"runtime"
	"strings"
)

// machine describes where the run happened.
type machine struct {
	cpus      int
	cpu       string
	kernel    string
	memTotal  string
	goVersion string
	postgres  string
	wrk       string
	loadStart string
	loadEnd   string
	// othersAtStart is the CPU other processes used just before the run,
	// in cores.
	othersAtStart float64
}

func describeMachine() machine {
	return machine{
		cpus:      runtime.NumCPU(),
		cpu:       procField("/proc/cpuinfo", "model name"),
		kernel:    strings.TrimSpace(readFile("/proc/sys/kernel/osrelease")),
		memTotal:  procField("/proc/meminfo", "MemTotal"),
		goVersion: runtime.Version(),
		wrk:       wrkVersion(),
	}
}

func readFile(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return "unknown"
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

// loadAvg is the 1, 5 and 15 minute load average: the machine is shared.
func loadAvg() string {
	f := strings.Fields(readFile("/proc/loadavg"))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], " ")
}

func wrkVersion() string {
	out, _ := exec.Command("wrk", "-v").CombinedOutput() // exits 1 after printing
	line, _, _ := strings.Cut(string(out), "\n")
	if line == "" {
		return "unknown"
	}
	return strings.TrimSpace(line)
}
