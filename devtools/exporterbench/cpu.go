package main

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

// The machine is shared: every measurement notes how much CPU went to
// processes other than the server under test and wrk, from /proc/stat and
// /proc/<pid>/stat (clock ticks of 1/100 s, USER_HZ on Linux).
const tick = 10 * time.Millisecond

// cpuTimes is the machine's busy and stolen time so far.
type cpuTimes struct {
	busy, steal time.Duration
}

func readCPU() cpuTimes {
	line, _, _ := strings.Cut(readFile("/proc/stat"), "\n")
	f := strings.Fields(line) // cpu user nice system idle iowait irq softirq steal ...
	if len(f) < 9 || f[0] != "cpu" {
		return cpuTimes{}
	}
	n := func(i int) time.Duration { v, _ := strconv.ParseInt(f[i], 10, 64); return time.Duration(v) * tick }
	return cpuTimes{busy: n(1) + n(2) + n(3) + n(6) + n(7), steal: n(8)}
}

// procCPU is the user + system time of a process so far.
func procCPU(pid int) time.Duration {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	_, rest, ok := strings.Cut(string(b), ") ") // after the command name
	f := strings.Fields(rest)
	if !ok || len(f) < 13 {
		return 0
	}
	utime, _ := strconv.ParseInt(f[11], 10, 64)
	stime, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(utime+stime) * tick
}

// cpuShare is how the machine's CPU was spent during one measurement, in
// cores (CPU seconds per second).
type cpuShare struct {
	server, wrk, other, steal float64
}

// cpuWindow measures a cpuShare: start it, run, then finish with wrk's own
// CPU time.
type cpuWindow struct {
	pid    int
	at     time.Time
	cpu    cpuTimes
	server time.Duration
}

func startCPU(pid int) cpuWindow {
	return cpuWindow{pid: pid, at: time.Now(), cpu: readCPU(), server: procCPU(pid)}
}

func (w cpuWindow) finish(wrkCPU time.Duration) cpuShare {
	secs := time.Since(w.at).Seconds()
	now := readCPU()
	server := procCPU(w.pid) - w.server
	other := now.busy - w.cpu.busy - server - wrkCPU
	return cpuShare{
		server: server.Seconds() / secs,
		wrk:    wrkCPU.Seconds() / secs,
		other:  max(0, other.Seconds()/secs),
		steal:  (now.steal - w.cpu.steal).Seconds() / secs,
	}
}

// othersBusy is the CPU, in cores, the rest of the machine used over d
// (the harness is idle meanwhile).
func othersBusy(d time.Duration) float64 {
	before, at := readCPU(), time.Now()
	time.Sleep(d)
	return (readCPU().busy - before.busy).Seconds() / time.Since(at).Seconds()
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
