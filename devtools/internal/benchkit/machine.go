package benchkit

import (
	"bufio"
	"os"
	"runtime"
	"strings"
	"time"
)

// Machine describes where a run happened.
type Machine struct {
	CPUs      int
	CPU       string
	Kernel    string
	MemTotal  string
	GoVersion string
	Postgres  string
	// Versions are other programs the run used, name and version, listed
	// after PostgreSQL.
	Versions  [][2]string
	LoadStart string
	LoadEnd   string
	// OthersAtStart is the CPU other processes used just before the run,
	// in cores.
	OthersAtStart float64
}

// DescribeMachine reads the CPUs, the kernel, the memory and the Go
// version; the caller adds the rest.
func DescribeMachine() Machine {
	kernel := strings.TrimSpace(ReadFile("/proc/sys/kernel/osrelease"))
	if kernel == "" {
		kernel = "unknown"
	}
	return Machine{
		CPUs:      runtime.NumCPU(),
		CPU:       procField("/proc/cpuinfo", "model name"),
		Kernel:    kernel,
		MemTotal:  procField("/proc/meminfo", "MemTotal"),
		GoVersion: runtime.Version(),
	}
}

// Table prints the machine as a two-column Markdown table, one row a call
// of p, without a heading and open for the caller's further rows.
func (m Machine) Table(p func(format string, args ...any)) {
	p("| | |\n|---|---|")
	p("| CPUs (`nproc`) | %d |", m.CPUs)
	p("| CPU model (/proc/cpuinfo) | %s |", m.CPU)
	p("| memory | %s |", m.MemTotal)
	p("| kernel | %s |", m.Kernel)
	p("| Go | %s |", m.GoVersion)
	p("| PostgreSQL | %s |", m.Postgres)
	for _, v := range m.Versions {
		p("| %s | %s |", v[0], v[1])
	}
	p("| load average (1/5/15 min), start → end | %s → %s |", m.LoadStart, m.LoadEnd)
	p("| CPU used by other processes just before the start | %.2f cores |", m.OthersAtStart)
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

// LoadAvg is the 1, 5 and 15 minute load average: the machine is shared.
func LoadAvg() string {
	f := strings.Fields(ReadFile("/proc/loadavg"))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], " ")
}

// OthersBusy is the CPU, in cores, the machine used over d while the
// caller waited: before a run starts, all of it is other processes'.
func OthersBusy(d time.Duration) float64 {
	before, _ := MachineCPU()
	at := time.Now()
	time.Sleep(d)
	after, _ := MachineCPU()
	return (after - before).Seconds() / time.Since(at).Seconds()
}

// WaitQuiet waits, at most max, until other processes use less than a
// quarter of a core, and returns what they used at the last look. It
// reports each wait through logf.
func WaitQuiet(max time.Duration, logf func(format string, args ...any)) float64 {
	deadline := time.Now().Add(max)
	for {
		busy := OthersBusy(3 * time.Second)
		if busy < 0.25 || time.Now().After(deadline) {
			return busy
		}
		logf("the machine is busy (other processes use %.2f cores); waiting up to %s for it to calm down", busy, time.Until(deadline).Round(time.Second))
	}
}
