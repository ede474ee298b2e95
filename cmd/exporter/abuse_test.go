package main

// The acceptance figures, tried as an attacker on the same network
// would, against the exporter as it ships: built like `make build`
// (CGO_ENABLED=0, no race detector: under -race bcrypt is twelve times
// slower and memory several times larger, so neither figure would mean
// anything), run under `prlimit --nofile=1024`, watching a real
// PostgreSQL, with basic auth at bcrypt's default cost. Attackers connect
// from 127.0.0.2 (and 127.0.x.y where each needs an address of its own);
// the kubelet and Prometheus from 127.0.0.1. The figures depend on the
// machine and are logged; the assertions are the bounds.

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"io"
	mrand "math/rand/v2"
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
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/dbhealth/dbhealth-exporter/internal/pgtest"
	"github.com/dbhealth/dbhealth-exporter/internal/testtools"
)

const (
	attackFileLimit = 1024                   // the common default the issue names
	memoryBudget    = 64 << 20               // what the shipped manifests grant
	probeBound      = 100 * time.Millisecond // the bound for /readyz during the held-body attack
	scrapeBound     = time.Second            // the bound for a valid scrape during a password flood
	kubeletTimeout  = time.Second            // every other probe
	readTimeout     = 5 * time.Second        // internal/exporter/http.go: the documented bound for a held request
)

// buildShipped builds the exporter as `make build` does, or returns
// $DBHEALTH_ABUSE_EXPORTER, a binary built elsewhere (to run the suite
// against another version).
func buildShipped(t *testing.T) string {
	t.Helper()
	if bin := os.Getenv("DBHEALTH_ABUSE_EXPORTER"); bin != "" {
		return bin
	}
	bin := filepath.Join(t.TempDir(), "dbhealth-exporter")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	build := exec.CommandContext(ctx, "go", "build", "-o", bin, "github.com/dbhealth/dbhealth-exporter/cmd/exporter")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("building the exporter: %v\n%s", err, out)
	}
	return bin
}

// victim is a shipped exporter process under a descriptor limit.
type victim struct {
	t      *testing.T
	cmd    *exec.Cmd
	addr   string
	scheme string
	roots  *x509.CertPool
	output *testtools.Buffer
	exited chan struct{}
}

// startVictim runs bin under `prlimit --nofile=attackFileLimit` with a
// web configuration file and waits until it answers /livez.
func startVictim(t *testing.T, bin, dsn, webConfig string, roots *x509.CertPool) *victim {
	t.Helper()
	v := &victim{t: t, addr: testtools.FreeAddr(t), scheme: "http", roots: roots, output: &testtools.Buffer{}, exited: make(chan struct{})}
	if roots != nil {
		v.scheme = "https"
	}
	v.cmd = exec.Command("prlimit", "--nofile="+strconv.Itoa(attackFileLimit), bin,
		"--web.listen-address="+v.addr, "--web.config.file="+webConfig,
		// Frequent checks, so that many run during an attack; three
		// failures before readiness turns, so that one run slowed by a
		// busy machine does not fail a probe (failures are asserted on by
		// reason).
		"--check.interval=400ms", "--check.timeout=350ms", "--check.failure-threshold=3")
	v.cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME"), "DATABASE_URL=" + dsn}
	v.cmd.Stdout, v.cmd.Stderr = v.output, v.output
	if err := v.cmd.Start(); err != nil {
		t.Fatalf("prlimit (util-linux) and the exporter: %v", err)
	}
	go func() { _ = v.cmd.Wait(); close(v.exited) }()
	t.Cleanup(func() {
		_ = v.cmd.Process.Kill()
		<-v.exited
		if t.Failed() {
			t.Logf("exporter output:\n%s", v.output.String())
		}
	})
	deadline := time.Now().Add(20 * time.Second)
	for {
		if code, _, _ := v.fetch(v.client(""), "/readyz", "", ""); code == http.StatusOK {
			return v
		}
		select {
		case <-v.exited:
			t.Fatalf("the exporter exited:\n%s", v.output.String())
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatal("the exporter did not become ready")
		}
	}
}

// client connects as the kubelet does: a new connection per request, from
// the given loopback address ("" for 127.0.0.1).
func (v *victim) client(from string) *http.Client {
	dialer := &net.Dialer{Timeout: 5 * time.Second}
	if from != "" {
		dialer.LocalAddr = &net.TCPAddr{IP: net.ParseIP(from)}
	}
	return &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{
		DialContext: dialer.DialContext, DisableKeepAlives: true, TLSClientConfig: &tls.Config{RootCAs: v.roots},
	}}
}

func (v *victim) fetch(c *http.Client, path, user, pass string) (code int, body string, took time.Duration) {
	req, _ := http.NewRequest(http.MethodGet, v.scheme+"://"+v.addr+path, nil)
	if user != "" {
		req.SetBasicAuth(user, pass)
	}
	began := time.Now()
	resp, err := c.Do(req)
	if err != nil {
		return 0, err.Error(), time.Since(began)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), time.Since(began)
}

// metric reads one series from a valid scrape.
func (v *victim) metric(series string) (float64, bool) {
	_, body, _ := v.fetch(v.client(""), "/metrics", "prometheus", "scrape-secret")
	for _, line := range strings.Split(body, "\n") {
		if rest, ok := strings.CutPrefix(line, series+" "); ok {
			f, err := strconv.ParseFloat(rest, 64)
			return f, err == nil
		}
	}
	return 0, false
}

// databaseFailures returns the database check's failed runs by reason.
func (v *victim) databaseFailures() map[string]float64 {
	_, body, _ := v.fetch(v.client(""), "/metrics", "prometheus", "scrape-secret")
	out := map[string]float64{}
	for _, line := range strings.Split(body, "\n") {
		rest, ok := strings.CutPrefix(line, `dbhealth_check_failures_total{check="database",reason="`)
		if !ok {
			continue
		}
		reason, value, _ := strings.Cut(rest, `"`)
		_, value, _ = strings.Cut(value, " ")
		out[reason], _ = strconv.ParseFloat(value, 64)
	}
	return out
}

// status reads a field of /proc/<pid>/status in bytes (VmRSS, VmHWM).
func (v *victim) status(field string) int64 {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", v.cmd.Process.Pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(raw), "\n") {
		if rest, ok := strings.CutPrefix(line, field+":"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			return kb << 10
		}
	}
	return 0
}

// openFiles counts the exporter's file descriptors.
func (v *victim) openFiles() int {
	entries, _ := os.ReadDir(fmt.Sprintf("/proc/%d/fd", v.cmd.Process.Pid))
	return len(entries)
}

// during runs the kubelet (a /readyz probe every 20ms) and Prometheus (a
// valid scrape every 200ms) against v until the returned function is
// called, which reports their worst latencies and every failure.
func (v *victim) during() func() (probes, scrapes []time.Duration, failures []string) {
	var mu sync.Mutex
	var probes, scrapes []time.Duration
	var failures []string
	stop := make(chan struct{})
	var wg sync.WaitGroup
	loop := func(every time.Duration, path, user, pass string, into *[]time.Duration) {
		defer wg.Done()
		c := v.client("")
		for {
			code, body, took := v.fetch(c, path, user, pass)
			mu.Lock()
			*into = append(*into, took)
			if code != http.StatusOK {
				failures = append(failures, fmt.Sprintf("%s: %d %.120s", path, code, body))
			}
			mu.Unlock()
			select {
			case <-stop:
				return
			case <-time.After(every):
			}
		}
	}
	wg.Add(2)
	go loop(20*time.Millisecond, "/readyz", "", "", &probes)
	go loop(200*time.Millisecond, "/metrics", "prometheus", "scrape-secret", &scrapes)
	return func() ([]time.Duration, []time.Duration, []string) {
		close(stop)
		wg.Wait()
		return probes, scrapes, failures
	}
}

func quantile(d []time.Duration, q float64) time.Duration {
	if len(d) == 0 {
		return 0
	}
	s := slices.Clone(d)
	slices.Sort(s)
	return s[int(q*float64(len(s)-1))]
}

func summary(d []time.Duration) string {
	return fmt.Sprintf("n=%d median=%s p99=%s max=%s", len(d), quantile(d, 0.5).Round(10*time.Microsecond),
		quantile(d, 0.99).Round(10*time.Microsecond), quantile(d, 1).Round(10*time.Microsecond))
}

// served asserts that the kubelet and Prometheus were answered 200 within
// bound throughout.
func served(t *testing.T, stop func() ([]time.Duration, []time.Duration, []string), bound time.Duration) {
	t.Helper()
	probes, scrapes, failures := stop()
	t.Logf("/readyz during the attack: %s", summary(probes))
	t.Logf("valid scrapes during the attack: %s", summary(scrapes))
	for _, f := range failures {
		t.Errorf("failed: %s", f)
	}
	if len(probes) == 0 || len(scrapes) == 0 {
		t.Fatal("no probe or scrape during the attack")
	}
	if worst := quantile(probes, 1); worst >= bound {
		t.Errorf("slowest /readyz %s, bound %s", worst, bound)
	}
	if worst := quantile(scrapes, 1); worst >= scrapeBound {
		t.Errorf("slowest scrape %s, bound %s", worst, scrapeBound)
	}
}

// attackers runs hold on n connections from `from`, once all are dialed
// (16 dials at a time), each at a random moment within spread of that,
// and returns how long each lasted from its dial until the server cut it
// (negative: never cut).
func attackers(t *testing.T, addr, from string, n int, spread time.Duration, hold func(c net.Conn) error) []time.Duration {
	t.Helper()
	var mu sync.Mutex
	var cuts []time.Duration
	var dialed, held sync.WaitGroup
	dialing := make(chan struct{}, 16)
	go_ := make(chan struct{})
	dialer := net.Dialer{Timeout: 5 * time.Second, LocalAddr: &net.TCPAddr{IP: net.ParseIP(from)}}
	for range n {
		dialed.Add(1)
		held.Add(1)
		go func() {
			defer held.Done()
			dialing <- struct{}{}
			c, err := dialer.Dial("tcp", addr)
			<-dialing
			dialed.Done()
			if err != nil {
				t.Errorf("dial: %v", err)
				return
			}
			defer c.Close()
			began := time.Now()
			_ = c.SetDeadline(began.Add(30 * time.Second))
			<-go_
			if spread > 0 {
				time.Sleep(time.Duration(mrand.Int64N(int64(spread))))
			}
			err = hold(c)
			took := time.Since(began)
			if ne, ok := err.(net.Error); ok && ne.Timeout() {
				took = -took
			}
			mu.Lock()
			cuts = append(cuts, took)
			mu.Unlock()
		}()
	}
	dialed.Wait()
	close(go_)
	held.Wait()
	return cuts
}

// drained reads c until the server closes it (EOF or reset).
func drained(c net.Conn) error {
	_, err := io.Copy(io.Discard, c)
	if err != nil && (strings.Contains(err.Error(), "reset") || strings.Contains(err.Error(), "broken pipe")) {
		return nil
	}
	return err
}

func webConfig(t *testing.T, dir, tlsPart string) string {
	t.Helper()
	hash, err := bcrypt.GenerateFromPassword([]byte("scrape-secret"), bcrypt.DefaultCost)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "web.yml")
	writeAtomic(t, path, tlsPart+"basic_auth_users:\n  prometheus: "+string(hash)+"\n")
	return path
}

func writeAtomic(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path+".tmp", []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(path+".tmp", path); err != nil {
		t.Fatal(err)
	}
}

func TestExporter_UnderAttack(t *testing.T) {
	bin := buildShipped(t)
	cluster := pgtest.New(t)
	dsn := cluster.DSN("postgres")

	// 1,100 connections announcing a body they never send, more than the
	// 1,024 descriptors the process has: /readyz answers within 100ms
	// throughout, the database check never runs out of descriptors, and
	// every attacking connection is cut within the read timeout.
	t.Run("held bodies under 1024 descriptors", func(t *testing.T) {
		// The 100ms bound is the issue's; a shared machine can stall any
		// process that long by itself (the calm window before each attack
		// shows it), so the bound must hold in one of three attempts, each
		// on a fresh exporter. Everything else must hold in every attempt.
		for attempt := 1; ; attempt++ {
			worst := heldBodies(t, bin, dsn)
			if worst < probeBound {
				return
			}
			if attempt == 3 {
				t.Fatalf("slowest /readyz %s in each of 3 attempts, bound %s", worst, probeBound)
			}
			t.Logf("attempt %d: slowest /readyz %s, bound %s; again on a fresh exporter", attempt, worst, probeBound)
		}
	})

	// 300 connections each trickling a 1,000 KiB header that never ends:
	// the resident memory never reaches the 64 MiB the manifests grant.
	t.Run("oversized headers", func(t *testing.T) {
		v := startVictim(t, bin, dsn, webConfig(t, t.TempDir(), ""), nil)
		before := v.status("VmRSS")
		stop := v.during()
		chunk := []byte(strings.Repeat("a", 16<<10))
		answers := map[string]int{}
		var mu sync.Mutex
		cuts := attackers(t, v.addr, "127.0.0.2", 300, 0, func(c net.Conn) error {
			if _, err := c.Write([]byte("GET /readyz HTTP/1.1\r\nHost: x\r\nX-Big: ")); err != nil {
				return nil
			}
			go func() {
				line, _ := bufio.NewReader(c).ReadString('\n')
				mu.Lock()
				answers[strings.TrimSpace(line)]++
				mu.Unlock()
			}()
			for sent := 0; sent < 1000<<10; sent += len(chunk) {
				if _, err := c.Write(chunk); err != nil {
					return nil // cut
				}
				time.Sleep(10 * time.Millisecond)
			}
			return nil
		})
		served(t, stop, kubeletTimeout)
		peak := v.status("VmHWM")
		mu.Lock()
		t.Logf("resident memory: %.1f MiB before, peak %.1f MiB, %.1f MiB after; answers %v; cut after %s",
			float64(before)/(1<<20), float64(peak)/(1<<20), float64(v.status("VmRSS"))/(1<<20), answers, summary(cuts))
		mu.Unlock()
		if peak == 0 || peak >= memoryBudget {
			t.Errorf("peak resident memory %d bytes, budget %d", peak, memoryBudget)
		}
	})

	// 200 concurrent wrong-password requests: a valid scrape, cached or
	// the first of its kind, completes within a second.
	t.Run("wrong-password flood", func(t *testing.T) {
		dir := t.TempDir()
		config := webConfig(t, dir, "")
		second, _ := bcrypt.GenerateFromPassword([]byte("other-secret"), bcrypt.DefaultCost)
		raw, _ := os.ReadFile(config)
		writeAtomic(t, config, string(raw)+"  grafana: "+string(second)+"\n")
		v := startVictim(t, bin, dsn, config, nil)
		stop := v.during()
		codes := map[int]int{}
		var mu sync.Mutex
		var guesses atomic.Int32
		flooded := make(chan struct{})
		go func() {
			defer close(flooded)
			attackers(t, v.addr, "127.0.0.2", 200, 0, func(c net.Conn) error {
				req, _ := http.NewRequest(http.MethodGet, "/metrics", nil)
				req.SetBasicAuth("prometheus", fmt.Sprintf("guess-%d", guesses.Add(1)))
				if err := req.Write(c); err != nil {
					return err
				}
				resp, err := http.ReadResponse(bufio.NewReader(c), req)
				if err != nil {
					return err
				}
				resp.Body.Close()
				mu.Lock()
				codes[resp.StatusCode]++
				mu.Unlock()
				return nil
			})
		}()
		time.Sleep(50 * time.Millisecond) // the flood under way
		code, _, first := v.fetch(v.client(""), "/metrics", "grafana", "other-secret")
		<-flooded
		served(t, stop, kubeletTimeout)
		mu.Lock()
		t.Logf("attacker's answers %v; first scrape of another user during the flood: %d in %s", codes, code, first)
		mu.Unlock()
		if code != http.StatusOK || first >= scrapeBound {
			t.Errorf("first scrape of another user: %d in %s", code, first)
		}
	})

	// Unknown users and wrong passwords take the same time: the same
	// bcrypt comparison at the same cost. Each request from an address
	// of its own, so none is throttled.
	t.Run("unknown-user timing", func(t *testing.T) {
		v := startVictim(t, bin, dsn, webConfig(t, t.TempDir(), ""), nil)
		const samples = 12
		var known, unknown []time.Duration
		for i := range 2 * samples {
			user, into := "prometheus", &known
			if i%2 == 1 {
				user, into = "nobody", &unknown
			}
			code, body, took := v.fetch(v.client(fmt.Sprintf("127.0.5.%d", i+1)), "/metrics", user, fmt.Sprintf("guess-%d", i))
			if code != http.StatusUnauthorized {
				t.Fatalf("%s: %d %s", user, code, body)
			}
			*into = append(*into, took)
		}
		k, u := quantile(known, 0.5), quantile(unknown, 0.5)
		t.Logf("bcrypt cost %d: wrong password %s; unknown user %s; medians differ by %s", bcrypt.DefaultCost, summary(known), summary(unknown), (u - k).Abs())
		if ratio := float64(u) / float64(k); ratio < 0.5 || ratio > 2 {
			t.Errorf("median unknown user %s, wrong password %s", u, k)
		}
	})

	// The web configuration broken mid-run: TLS keeps serving the last
	// good certificate, the error is logged at error level, the reload
	// gauge says so; a good file is taken up again.
	t.Run("web config broken mid-run", func(t *testing.T) {
		dir := t.TempDir()
		first, second := newServingCert(t, 1), newServingCert(t, 2)
		roots := x509.NewCertPool()
		roots.AddCert(first.leaf)
		roots.AddCert(second.leaf)
		first.write(t, dir)
		config := webConfig(t, dir, "tls_server_config:\n  cert_file: tls.crt\n  key_file: tls.key\n")
		good, _ := os.ReadFile(config)
		v := startVictim(t, bin, dsn, config, roots)
		stop := v.during()

		writeAtomic(t, config, string(good)+"tls_server_config: {\n")
		v.waitMetric("dbhealth_web_config_last_reload_successful", 0)
		if serial := v.servedSerial(); serial != 1 {
			t.Errorf("serving certificate %d after a broken file, want the last good one (1)", serial)
		}
		if !strings.Contains(v.output.String(), "level=ERROR") || !strings.Contains(v.output.String(), "web config reload failed") {
			t.Errorf("the failure is not logged at error level:\n%s", v.output.String())
		}

		writeAtomic(t, config, string(good))
		second.write(t, dir)
		v.waitMetric("dbhealth_web_config_last_reload_successful", 1)
		if serial := v.servedSerial(); serial != 2 {
			t.Errorf("serving certificate %d after the fix, want 2", serial)
		}
		served(t, stop, kubeletTimeout)
	})
}

// heldBodies runs the held-body attack against a fresh exporter: 1,100
// connections, more than the 1,024 descriptors the process has, all open
// before any sends its request, then each announcing a body it never
// sends. The database check never runs out of descriptors, every
// attacking connection is cut within the read timeout, and a valid scrape
// is served throughout. It returns the slowest /readyz during the attack.
func heldBodies(t *testing.T, bin, dsn string) time.Duration {
	v := startVictim(t, bin, dsn, webConfig(t, t.TempDir(), ""), nil)
	if limit, _ := v.metric("dbhealth_web_connections_limit"); limit != 512 {
		t.Errorf("connection limit %v under %d descriptors, want 512", limit, attackFileLimit)
	}
	calm := v.during()
	time.Sleep(time.Second)
	calmProbes, _, _ := calm()
	t.Logf("/readyz before the attack (the machine's own noise): %s", summary(calmProbes))
	failuresBefore := v.databaseFailures()
	runsBefore, _ := v.metric(`dbhealth_check_runs_total{check="database",result="success",target="default"}`)
	var mostFiles int
	sampling, sampled := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(sampled)
		for {
			mostFiles = max(mostFiles, v.openFiles())
			select {
			case <-sampling:
				return
			case <-time.After(5 * time.Millisecond):
			}
		}
	}()
	stop := v.during()
	// The requests come within a second of the last connection opening.
	cuts := attackers(t, v.addr, "127.0.0.2", 1100, time.Second, func(c net.Conn) error {
		if _, err := c.Write([]byte("GET /readyz HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n")); err != nil {
			return nil // already cut at the connection bound
		}
		return drained(c)
	})
	probes, scrapes, failures := stop()
	close(sampling)
	<-sampled
	t.Logf("/readyz during the attack: %s", summary(probes))
	t.Logf("valid scrapes during the attack: %s", summary(scrapes))
	for _, f := range failures {
		t.Errorf("failed: %s", f)
	}
	if len(probes) == 0 || len(scrapes) == 0 {
		t.Fatal("no probe or scrape during the attack")
	}
	if worst := quantile(scrapes, 1); worst >= scrapeBound {
		t.Errorf("slowest scrape %s, bound %s", worst, scrapeBound)
	}
	evicted, _ := v.metric("dbhealth_web_connections_evicted_total")
	open, _ := v.metric("dbhealth_web_connections")
	t.Logf("exporter: at most %d descriptors open (limit %d); %v connections evicted; %v open after", mostFiles, attackFileLimit, evicted, open)
	t.Logf("attacking connections cut after (from their dial): %s", summary(cuts))
	if slices.ContainsFunc(cuts, func(d time.Duration) bool { return d < 0 }) || quantile(cuts, 1) > readTimeout+time.Second {
		t.Errorf("held connections not all cut within %s: %s", readTimeout, summary(cuts))
	}
	if mostFiles >= attackFileLimit {
		t.Errorf("%d descriptors open", mostFiles)
	}
	runsAfter, _ := v.metric(`dbhealth_check_runs_total{check="database",result="success",target="default"}`)
	failuresAfter := v.databaseFailures()
	t.Logf("database check: %v successful runs during the attack; failures by reason before %v, after %v", runsAfter-runsBefore, failuresBefore, failuresAfter)
	for reason, n := range failuresAfter {
		// A timeout is the machine being busy; running out of
		// descriptors shows as any other reason (a dial error).
		if reason != "timeout" && n != failuresBefore[reason] {
			t.Errorf("the database check failed with reason %s during the attack", reason)
		}
	}
	if strings.Contains(v.output.String(), "too many open files") {
		t.Errorf("the exporter ran out of descriptors:\n%s", v.output.String())
	}
	return quantile(probes, 1)
}

// waitMetric polls until the series has value want (reloads are looked
// for every 5s).
func (v *victim) waitMetric(series string, want float64) {
	v.t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		if got, ok := v.metric(series); ok && got == want {
			return
		}
		if time.Now().After(deadline) {
			v.t.Fatalf("%s never became %v", series, want)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func (v *victim) servedSerial() int64 {
	conn, err := tls.DialWithDialer(&net.Dialer{Timeout: 5 * time.Second}, "tcp", v.addr, &tls.Config{RootCAs: v.roots})
	if err != nil {
		v.t.Logf("handshake: %v", err)
		return 0
	}
	defer conn.Close()
	return conn.ConnectionState().PeerCertificates[0].SerialNumber.Int64()
}

// servingCert is a self-signed certificate for 127.0.0.1 and its key.
type servingCert struct {
	leaf            *x509.Certificate
	certPEM, keyPEM string
}

func newServingCert(t *testing.T, serial int64) servingCert {
	t.Helper()
	certPEM, keyPEM := testtools.SelfSignedCert(t, serial)
	block, _ := pem.Decode(certPEM)
	leaf, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return servingCert{leaf: leaf, certPEM: string(certPEM), keyPEM: string(keyPEM)}
}

// write puts the pair in dir/tls.key and dir/tls.crt, the key first: in
// between they do not match, as in a rotation caught half-way.
func (c servingCert) write(t *testing.T, dir string) {
	t.Helper()
	writeAtomic(t, filepath.Join(dir, "tls.key"), c.keyPEM)
	writeAtomic(t, filepath.Join(dir, "tls.crt"), c.certPEM)
}
