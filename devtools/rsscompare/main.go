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
	"context"
	"debug/buildinfo"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/dbhealth/dbhealth-exporter/devtools/internal/benchkit"
	"github.com/dbhealth/dbhealth-exporter/internal/pgtest"
)

// server is one binary under measurement.
type server struct {
	name   string
	binary string
	pge    bool // postgres_exporter: DATA_SOURCE_NAME, no /readyz

	size    int64
	modules int
	idle    []benchkit.Memory // one per round
	loaded  []benchkit.Memory
}

// readyPath answers 200 once the server is ready: /readyz
// (postgres_exporter: /metrics).
func (s *server) readyPath() string {
	if s.pge {
		return "/metrics"
	}
	return "/readyz"
}

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
	procs := make([]*benchkit.Proc, len(order))
	defer func() {
		for _, p := range procs {
			if p != nil {
				p.Stop()
			}
		}
	}()
	for i, s := range order {
		p, err := start(s, dsn, logDir, fmt.Sprintf("%s-%d", s.name, r))
		if err != nil {
			return err
		}
		procs[i] = p
	}
	for i, p := range procs {
		if err := waitReady(p, order[i].readyPath(), 30*time.Second); err != nil {
			return err
		}
	}
	time.Sleep(idle)
	for i, s := range order {
		m, err := benchkit.ReadMemory(procs[i].PID())
		if err != nil {
			return err
		}
		s.idle = append(s.idle, m)
		logf("round %d: %-20s idle   VmRSS %6d KiB (anon %6d, file %6d)", r+1, s.name, m.RSS, m.Anon, m.File)
	}
	for i, s := range order {
		p := procs[i]
		if err := hammer(p.URL+"/metrics", scrapes, scrapeConns, prometheusHeader); err != nil {
			return fmt.Errorf("%s: %w", s.name, err)
		}
		if !s.pge {
			if err := hammer(p.URL+"/readyz", probes, conns, nil); err != nil {
				return fmt.Errorf("%s: %w", s.name, err)
			}
		}
		m, err := benchkit.ReadMemory(p.PID())
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

// start runs s's binary against dsn on a free loopback port, its output
// in logDir.
func start(s *server, dsn, logDir, name string) (*benchkit.Proc, error) {
	return benchkit.StartServer(name, logDir, func(addr string) *exec.Cmd {
		cmd := exec.Command(s.binary, "--web.listen-address="+addr)
		env := benchkit.CleanEnv("DATA_SOURCE_", "GODEBUG=", "GOGC=", "GOMEMLIMIT=")
		if s.pge {
			env = append(env, "DATA_SOURCE_NAME="+dsn)
		} else {
			env = append(env, "DATABASE_URL="+dsn)
		}
		cmd.Env = env
		cmd.Dir = logDir // postgres_exporter looks for its optional config file here
		return cmd
	})
}

// waitReady polls path of p until it answers 200.
func waitReady(p *benchkit.Proc, path string, timeout time.Duration) error {
	client := &http.Client{Timeout: 2 * time.Second}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, p.URL+path, nil)
		if resp, err := client.Do(req); err == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				client.CloseIdleConnections()
				return nil
			}
		}
		select {
		case <-p.Done():
			b, _ := os.ReadFile(p.Log)
			return fmt.Errorf("%s exited:\n%s", p.Cmd.Path, b)
		case <-ctx.Done():
			return fmt.Errorf("%s: no 200 from %s within %s", p.Cmd.Path, path, timeout)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// median of one field over the rounds, in MiB.
func median(ms []benchkit.Memory, field func(benchkit.Memory) int64) string {
	kib := make([]float64, len(ms))
	for i, m := range ms {
		kib[i] = float64(field(m))
	}
	return fmt.Sprintf("%.1f", benchkit.Median(kib)/1024)
}

func markdown(servers []*server, rounds int, idle time.Duration, scrapes, scrapeConns, probes, conns int) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Medians of %d rounds (MiB). Idle: %s after start. After load: right after %d GETs of /metrics over %d connection(s) "+
		"and, for dbhealth-exporter, %d GETs of /readyz over %d; VmHWM is the peak since start.\n\n",
		rounds, idle, scrapes, scrapeConns, probes, conns)
	b.WriteString("| binary | size (MB) | modules | VmRSS idle | RssAnon idle | RssFile idle | VmRSS after load | RssAnon after load | RssFile after load | VmHWM |\n")
	b.WriteString("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n")
	rss := func(m benchkit.Memory) int64 { return m.RSS }
	anon := func(m benchkit.Memory) int64 { return m.Anon }
	file := func(m benchkit.Memory) int64 { return m.File }
	hwm := func(m benchkit.Memory) int64 { return m.HWM }
	for _, s := range servers {
		fmt.Fprintf(&b, "| %s | %.1f | %d | %s | %s | %s | %s | %s | %s | %s |\n", s.name, float64(s.size)/1e6, s.modules,
			median(s.idle, rss), median(s.idle, anon), median(s.idle, file),
			median(s.loaded, rss), median(s.loaded, anon), median(s.loaded, file), median(s.loaded, hwm))
	}
	return b.String()
}
