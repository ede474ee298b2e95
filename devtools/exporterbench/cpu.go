package main

import (
	"time"

	"github.com/dbhealth/dbhealth-exporter/devtools/internal/benchkit"
)

// cpuShare is how the machine's CPU was spent during one measurement, in
// cores (CPU seconds per second): the machine is shared, so every
// measurement notes how much went to processes other than the server under
// test and wrk.
type cpuShare struct {
	server, wrk, other, steal float64
}

// cpuWindow measures a cpuShare: start it, run, then finish with wrk's own
// CPU time.
type cpuWindow struct {
	pid    int
	at     time.Time
	busy   time.Duration // the machine's, so far
	steal  time.Duration
	server time.Duration
}

func startCPU(pid int) cpuWindow {
	w := cpuWindow{pid: pid, at: time.Now()}
	w.busy, w.steal = benchkit.MachineCPU()
	w.server = benchkit.ProcCPU(pid)
	return w
}

func (w cpuWindow) finish(wrkCPU time.Duration) cpuShare {
	secs := time.Since(w.at).Seconds()
	busy, steal := benchkit.MachineCPU()
	server := benchkit.ProcCPU(w.pid) - w.server
	other := busy - w.busy - server - wrkCPU
	return cpuShare{
		server: server.Seconds() / secs,
		wrk:    wrkCPU.Seconds() / secs,
		other:  max(0, other.Seconds()/secs),
		steal:  (steal - w.steal).Seconds() / secs,
	}
}
