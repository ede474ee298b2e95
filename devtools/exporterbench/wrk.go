package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"
)

// load is one wrk setting: the same for every server in a comparison.
type load struct {
	threads, connections int
	duration             time.Duration
}

func (l load) String() string {
	return fmt.Sprintf("-t%d -c%d -d%s", l.threads, l.connections, l.duration)
}

// wrkResult is what the Lua done() hook of one wrk run reports: exact
// counts and latency percentiles in microseconds, no unit parsing.
type wrkResult struct {
	Requests  int64
	Duration  time.Duration
	CPU       time.Duration // wrk's own user + system time
	Bytes     int64
	Errors    int64 // connect, read, write and timeout errors
	NonOK     int64 // responses with a status >= 400 (wrk counts status > 399)
	P50, P99  time.Duration
	P999, Max time.Duration
}

func (r wrkResult) RPS() float64 {
	if r.Duration <= 0 {
		return 0
	}
	return float64(r.Requests) / r.Duration.Seconds()
}

// BytesPerResponse is the average size of a response on the wire, headers
// included.
func (r wrkResult) BytesPerResponse() float64 {
	if r.Requests == 0 {
		return 0
	}
	return float64(r.Bytes) / float64(r.Requests)
}

// wrkScript prints one machine-readable line when wrk is done.
const wrkScript = `done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("WRKRESULT requests=%.0f duration_us=%.0f bytes=%.0f errors=%.0f status=%.0f p50=%.0f p99=%.0f p999=%.0f max=%.0f\n",
    summary.requests, summary.duration, summary.bytes, e.connect + e.read + e.write + e.timeout, e.status,
    latency:percentile(50), latency:percentile(99), latency:percentile(99.9), latency.max))
end
`

// wrk runs wrk against url with the given headers.
type wrk struct {
	path   string // the wrk binary
	script string // file holding wrkScript
}

func newWrk(dir string) (*wrk, error) {
	path, err := exec.LookPath("wrk")
	if err != nil {
		return nil, fmt.Errorf("wrk is not installed (Debian: apt-get install -y wrk): %w", err)
	}
	script := filepath.Join(dir, "report.lua")
	if err := os.WriteFile(script, []byte(wrkScript), 0o644); err != nil {
		return nil, err
	}
	return &wrk{path: path, script: script}, nil
}

// command returns the wrk command line for the report.
func (w *wrk) args(l load, url string, header http.Header) []string {
	args := []string{"-t" + strconv.Itoa(l.threads), "-c" + strconv.Itoa(l.connections),
		"-d" + strconv.Itoa(int(l.duration.Seconds())) + "s", "--timeout", "5s"}
	keys := make([]string, 0, len(header))
	for k := range header {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		for _, v := range header[k] {
			args = append(args, "-H", k+": "+v)
		}
	}
	return append(args, url)
}

func (w *wrk) run(ctx context.Context, l load, url string, header http.Header) (wrkResult, error) {
	args := append([]string{"-s", w.script}, w.args(l, url, header)...)
	cmd := exec.CommandContext(ctx, w.path, args...)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Run(); err != nil {
		return wrkResult{}, fmt.Errorf("wrk %s: %v\n%s%s", strings.Join(args, " "), err, out.String(), errOut.String())
	}
	res, err := parseWrk(out.String())
	if err != nil {
		return wrkResult{}, fmt.Errorf("wrk %s: %v\n%s", strings.Join(args, " "), err, out.String())
	}
	res.CPU = cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
	return res, nil
}

// parseWrk reads the WRKRESULT line of wrk's output.
func parseWrk(out string) (wrkResult, error) {
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		line, ok := strings.CutPrefix(strings.TrimSpace(sc.Text()), "WRKRESULT ")
		if !ok {
			continue
		}
		f := map[string]int64{}
		for _, kv := range strings.Fields(line) {
			k, v, ok := strings.Cut(kv, "=")
			if !ok {
				return wrkResult{}, fmt.Errorf("bad field %q", kv)
			}
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				return wrkResult{}, fmt.Errorf("bad field %q", kv)
			}
			f[k] = n
		}
		for _, k := range []string{"requests", "duration_us", "bytes", "errors", "status", "p50", "p99", "p999", "max"} {
			if _, ok := f[k]; !ok {
				return wrkResult{}, fmt.Errorf("no %s in %q", k, line)
			}
		}
		us := func(k string) time.Duration { return time.Duration(f[k]) * time.Microsecond }
		return wrkResult{
			Requests: f["requests"], Duration: us("duration_us"), Bytes: f["bytes"],
			Errors: f["errors"], NonOK: f["status"],
			P50: us("p50"), P99: us("p99"), P999: us("p999"), Max: us("max"),
		}, nil
	}
	return wrkResult{}, fmt.Errorf("no WRKRESULT line")
}
