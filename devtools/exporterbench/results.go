package main

import (
	"context"
	"net/http"
	"time"

	"github.com/dbhealth/dbhealth-exporter/devtools/internal/benchkit"
)

// target is one server and path of the side-by-side comparison.
type target struct {
	name   string
	url    string
	header http.Header
	pid    int           // the server's process
	runs   []measurement // one per round
}

// measurement is one wrk run on a target.
type measurement struct {
	wrkResult
	cpu  cpuShare
	peak benchkit.Memory // the server's largest VmRSS during the run
}

// measureTarget runs wrk on t once, watching the server's CPU and memory.
func measureTarget(ctx context.Context, w *wrk, l load, t *target) (measurement, error) {
	mem := sampleMemory(t.pid, 100*time.Millisecond)
	cpu := startCPU(t.pid)
	res, err := w.run(ctx, l, t.url, t.header)
	share := cpu.finish(res.CPU)
	peak := mem.stop()
	return measurement{wrkResult: res, cpu: share, peak: peak}, err
}

// results is everything one run measured.
type results struct {
	machine  benchkit.Machine
	load     load
	rounds   int
	targets  []*target
	bare     *target
	commands []string

	sustain           load
	sustain10         wrkResult
	sustain1          wrkResult
	metricsOneConn    wrkResult
	metricsOneConnCmd string

	costs    []costRow
	memory   []memRow
	outages  []outage
	started  time.Time
	finished time.Time
}

type costRow struct {
	server, probes string
	requests       int64
	cost           dbCost
	// loaded is the time the server was under load, for servers whose cost
	// follows the requests (the naive one); 0: per minute of the window.
	loaded time.Duration
	// checks are the exporter's own count and mean duration of its check
	// runs in the window (exporters only).
	checks *runsBetween
}

// memRow is one process' memory in one situation.
type memRow struct {
	process, situation string
	mem                benchkit.Memory
	hwm                bool // mem is VmHWM, the peak over the process' life
}
