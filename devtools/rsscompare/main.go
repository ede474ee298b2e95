// Command rsscompare measures the resident memory of exporter binaries side
// by side, in one run, against one throwaway PostgreSQL cluster: builds of
// dbhealth-exporter and, for comparison, prometheus-community's
// postgres_exporter.
//
//	CGO_ENABLED=0 go build -o /tmp/dbh ./cmd/exporter
//	go run ./devtools/rsscompare \
//	    -exporter now=/tmp/dbh -exporter before=/tmp/dbh-old \
//	    -postgres-exporter /tmp/postgres_exporter
//
// Each round starts every server (in an order that rotates and alternates
// from round to round), waits until all answer, leaves them idle for -idle
// and reads /proc/<pid>/status (VmRSS, RssAnon, RssFile). Then, one server
// after the other in the same order, it sends -scrapes GETs of /metrics (with
// Prometheus's headers, over -scrape-conns connections) and, to
// dbhealth-exporter only, -probes GETs of /readyz over -conns keep-alive
// connections, and reads the status again
// right after that server's load (VmHWM is the peak since start). The
// servers are stopped at the end of the round. It prints the medians over
// the rounds as Markdown, and every round's figures on stderr.
package main

import (
	"bufio"
	"context"
	"debug/buildinfo"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/dbhealth/dbhealth-exporter/internal/pgtest"
)

// server is one binary under measurement.
type server struct {
	name   string
	binary string
	pge    bool // postgres_exporter: DATA_SOURCE_NAME, no /readyz

	size    int64
	modules int
	idle    []memory // one per round
	loaded  []memory
}

type memory struct{ RSS, HWM, Anon, File int64 } // KiB

type binaries []string

func (b *binaries) String() string     { return strings.Join(*b, ",") }
func (b *binaries) Set(v string) error { *b = append(*b, v); return nil }

func main() {
	var exporters binaries
	flag.Var(&exporters, "exporter", "name=path of a dbhealth-exporter binary (repeatable)")
	pge := flag.String("postgres-exporter", "", "path of a postgres_exporter binary")
	rounds := flag.Int("rounds", 3, "rounds")
	idle := flag.Duration("idle", 30*time.Second, "idle time before the idle reading")
	scrapes := flag.Int("scrapes", 1000, "GETs of /metrics sent to every server")
	probes := flag.Int("probes", 20000, "GETs of /readyz sent to dbhealth-exporter")
	scrapeConns := flag.Int("scrape-conns", 1, "concurrent connections of the /metrics GETs (Prometheus scrapes a target one at a time)")
	conns := flag.Int("conns", 16, "concurrent keep-alive connections of the /readyz GETs")
	flag.Parse()

	var servers []*server
	for _, e := range exporters {
		name, path, ok := strings.Cut(e, "=")
		if !ok {
			name, path = filepath.Base(e), e
		}
		servers = append(servers, &server{name: name, binary: path})
	}
	if *pge != "" {
		servers = append(servers, &server{name: "postgres_exporter", binary: *pge, pge: true})
	}
	if len(servers) == 0 {
		fmt.Fprintln(os.Stderr, "rsscompare: no binary (-exporter, -postgres-exporter)")
		os.Exit(2)
	}
	for _, s := range servers {
		abs, err := filepath.Abs(s.binary)
		if err != nil {
			fatal(err)
		}
		s.binary = abs
		fi, err := os.Stat(abs)
		if err != nil {
			fatal(err)
		}
		s.size = fi.Size()
		if bi, err := buildinfo.ReadFile(abs); err == nil {
			s.modules = len(bi.Deps)
		}
	}

	cluster, err := pgtest.Start()
	if err != nil {
		fatal(err)
	}
	defer cluster.Close()
	dsn := cluster.DSN("postgres")
	logDir, err := os.MkdirTemp("", "rsscompare-")
	if err != nil {
		fatal(err)
	}
	defer os.RemoveAll(logDir)

	for r := range *rounds {
		order := slices.Clone(servers)
		k := r % len(order)
		order = append(order[k:], order[:k]...)
		if r%2 == 1 {
			slices.Reverse(order)
		}
		if err := round(r, order, dsn, logDir, *idle, *scrapes, *scrapeConns, *probes, *conns); err != nil {
			fatal(err)
		}
	}
	fmt.Print(markdown(servers, *rounds, *idle, *scrapes, *scrapeConns, *probes, *conns))
}

func fatal(err error) {
	fmt.Fprintln(os.Stderr, "rsscompare:", err)
	os.Exit(1)
}

func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "rsscompare %s %s\n", time.Now().Format("15:04:05"), fmt.Sprintf(format, args...))
}

// round starts the servers in order, measures them idle and after load,
// and stops them.
func round(r int, order []*server, dsn, logDir string, idle time.Duration, scrapes, scrapeConns, probes, conns int) error {
	names := make([]string, len(order))
	for i, s := range order {
		names[i] = s.name
	}
	logf("round %d: order %s", r+1, strings.Join(names, ", "))
	procs := make([]*proc, len(order))
	defer func() {
		for _, p := range procs {
			if p != nil {
				p.stop()
			}
		}
	}()
	for i, s := range order {
		p, err := start(s, dsn, filepath.Join(logDir, fmt.Sprintf("%s-%d.log", s.name, r)))
		if err != nil {
			return err
		}
		procs[i] = p
	}
	for _, p := range procs {
		if err := p.waitReady(30 * time.Second); err != nil {
			return err
		}
	}
	time.Sleep(idle)
	for i, s := range order {
		m, err := readMemory(procs[i].cmd.Process.Pid)
		if err != nil {
			return err
		}
		s.idle = append(s.idle, m)
		logf("round %d: %-20s idle   VmRSS %6d KiB (anon %6d, file %6d)", r+1, s.name, m.RSS, m.Anon, m.File)
	}
	for i, s := range order {
		p := procs[i]
		if err := hammer(p.url+"/metrics", scrapes, scrapeConns, prometheusHeader); err != nil {
			return fmt.Errorf("%s: %w", s.name, err)
		}
		if !s.pge {
			if err := hammer(p.url+"/readyz", probes, conns, nil); err != nil {
				return fmt.Errorf("%s: %w", s.name, err)
			}
		}
		m, err := readMemory(p.cmd.Process.Pid)
		if err != nil {
			return err
		}
		s.loaded = append(s.loaded, m)
		logf("round %d: %-20s loaded VmRSS %6d KiB (anon %6d, file %6d) VmHWM %6d KiB", r+1, s.name, m.RSS, m.Anon, m.File, m.HWM)
	}
	return nil
}

// prometheusHeader is what Prometheus sends with a scrape.
var prometheusHeader = http.Header{
	"Accept":          {"application/openmetrics-text;version=1.0.0;q=0.5,application/openmetrics-text;version=0.0.1;q=0.4,text/plain;version=0.0.4;q=0.3,*/*;q=0.2"},
	"Accept-Encoding": {"gzip"},
}

// hammer sends n GETs of url over conns keep-alive connections; every
// answer must be 200.
func hammer(url string, n, conns int, header http.Header) error {
	tr := &http.Transport{MaxIdleConnsPerHost: conns, DisableCompression: true}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, Timeout: 30 * time.Second}
	var next atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, conns)
	for range conns {
		wg.Go(func() {
			for next.Add(1) <= int64(n) {
				req, _ := http.NewRequest(http.MethodGet, url, nil)
				for k, v := range header {
					req.Header[k] = v
				}
				resp, err := client.Do(req)
				if err != nil {
					errs <- err
					return
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK {
					errs <- fmt.Errorf("GET %s: %s", url, resp.Status)
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	return <-errs
}

type proc struct {
	cmd  *exec.Cmd
	url  string
	log  string
	pge  bool
	done chan struct{}
}

func start(s *server, dsn, logPath string) (*proc, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	addr := l.Addr().String()
	l.Close()
	cmd := exec.Command(s.binary, "--web.listen-address="+addr)
	env := cleanEnv()
	if s.pge {
		env = append(env, "DATA_SOURCE_NAME="+dsn)
	} else {
		env = append(env, "DATABASE_URL="+dsn)
	}
	cmd.Env = env
	cmd.Dir = filepath.Dir(logPath) // postgres_exporter looks for its optional config file here
	f, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	cmd.Stdout, cmd.Stderr = f, f
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		f.Close()
		return nil, err
	}
	p := &proc{cmd: cmd, url: "http://" + addr, log: logPath, pge: s.pge, done: make(chan struct{})}
	go func() { _ = cmd.Wait(); f.Close(); close(p.done) }()
	return p, nil
}

// waitReady polls /readyz (postgres_exporter: /metrics) until it answers 200.
func (p *proc) waitReady(timeout time.Duration) error {
	path := "/readyz"
	if p.pge {
		path = "/metrics"
	}
	client := &http.Client{Timeout: 2 * time.Second}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, p.url+path, nil)
		if resp, err := client.Do(req); err == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				client.CloseIdleConnections()
				return nil
			}
		}
		select {
		case <-p.done:
			b, _ := os.ReadFile(p.log)
			return fmt.Errorf("%s exited:\n%s", p.cmd.Path, b)
		case <-ctx.Done():
			return fmt.Errorf("%s: no 200 from %s within %s", p.cmd.Path, path, timeout)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

func (p *proc) stop() {
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(15 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.done
	}
}

// cleanEnv is the environment without OpenTelemetry or libpq settings.
func cleanEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "OTEL_") || strings.HasPrefix(kv, "PG") || strings.HasPrefix(kv, "DATABASE_URL=") ||
			strings.HasPrefix(kv, "DATA_SOURCE_") || strings.HasPrefix(kv, "GODEBUG=") || strings.HasPrefix(kv, "GOGC=") || strings.HasPrefix(kv, "GOMEMLIMIT=") {
			continue
		}
		env = append(env, kv)
	}
	return env
}

func readMemory(pid int) (memory, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return memory{}, err
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
	return m, sc.Err()
}

// median of one field over the rounds, in MiB.
func median(ms []memory, field func(memory) int64) string {
	v := make([]int64, len(ms))
	for i, m := range ms {
		v[i] = field(m)
	}
	slices.Sort(v)
	var kib float64
	if n := len(v); n%2 == 1 {
		kib = float64(v[n/2])
	} else {
		kib = float64(v[n/2-1]+v[n/2]) / 2
	}
	return fmt.Sprintf("%.1f", kib/1024)
}

func markdown(servers []*server, rounds int, idle time.Duration, scrapes, scrapeConns, probes, conns int) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Medians of %d rounds (MiB). Idle: %s after start. After load: right after %d GETs of /metrics over %d connection(s) "+
		"and, for dbhealth-exporter, %d GETs of /readyz over %d; VmHWM is the peak since start.\n\n",
		rounds, idle, scrapes, scrapeConns, probes, conns)
	b.WriteString("| binary | size (MB) | modules | VmRSS idle | RssAnon idle | RssFile idle | VmRSS after load | RssAnon after load | RssFile after load | VmHWM |\n")
	b.WriteString("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n")
	rss := func(m memory) int64 { return m.RSS }
	anon := func(m memory) int64 { return m.Anon }
	file := func(m memory) int64 { return m.File }
	hwm := func(m memory) int64 { return m.HWM }
	for _, s := range servers {
		fmt.Fprintf(&b, "| %s | %.1f | %d | %s | %s | %s | %s | %s | %s | %s |\n", s.name, float64(s.size)/1e6, s.modules,
			median(s.idle, rss), median(s.idle, anon), median(s.idle, file),
			median(s.loaded, rss), median(s.loaded, anon), median(s.loaded, file), median(s.loaded, hwm))
	}
	return b.String()
}
