package web

// The abuse suite: attacks an unauthenticated client on the same network
// can make, each against a real Server over loopback, each while a normal
// client probes /readyz the way the kubelet does and Prometheus scrapes
// with valid credentials. Every attack is bounded in connections and time.
// The bound asserted for probes and scrapes is the kubelet's 1s probe
// timeout (and Prometheus's is 10s); the measured figures are logged.
// cmd/exporter's abuse_test.go runs the acceptance figures against
// the built binary.

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"
)

// kubeletTimeout is the kubelet's default probe timeout.
const kubeletTimeout = time.Second

// normalClients are the kubelet and Prometheus during an attack.
type normalClients struct {
	stop     chan struct{}
	done     sync.WaitGroup
	mu       sync.Mutex
	probes   latencies
	scrapes  latencies
	failures []string
}

// watch probes /readyz every 25ms (a new connection each time, like the
// kubelet) and scrapes /metrics as prom/pw every 200ms, from 127.0.0.1,
// until stopped.
func watch(s *testServer) *normalClients {
	n := &normalClients{stop: make(chan struct{})}
	loop := func(every time.Duration, path, user, pass string, into *latencies) {
		defer n.done.Done()
		c := client("", nil)
		c.Timeout = 10 * time.Second
		tick := time.NewTicker(every)
		defer tick.Stop()
		for {
			began := time.Now()
			code, body := get(c, s.url+path, user, pass)
			took := time.Since(began)
			n.mu.Lock()
			*into = append(*into, took)
			if code != http.StatusOK {
				n.failures = append(n.failures, fmt.Sprintf("%s: %d %.100s", path, code, body))
			}
			n.mu.Unlock()
			select {
			case <-n.stop:
				return
			case <-tick.C:
			}
		}
	}
	n.done.Add(2)
	go loop(25*time.Millisecond, "/readyz", "", "", &n.probes)
	go loop(200*time.Millisecond, "/metrics", "prom", "pw", &n.scrapes)
	return n
}

// check stops the clients and asserts that every probe and scrape was
// answered 200 within the kubelet's timeout.
func (n *normalClients) check(t *testing.T) {
	t.Helper()
	close(n.stop)
	n.done.Wait()
	t.Logf("probes during the attack: %s", n.probes)
	t.Logf("scrapes during the attack: %s", n.scrapes)
	for _, f := range n.failures {
		t.Errorf("failed: %s", f)
	}
	if len(n.probes) == 0 || len(n.scrapes) == 0 {
		t.Fatal("no probe or scrape during the attack")
	}
	if worst := n.probes.quantile(1); worst >= kubeletTimeout {
		t.Errorf("slowest probe %s, kubelet timeout %s", worst, kubeletTimeout)
	}
	if worst := n.scrapes.quantile(1); worst >= kubeletTimeout {
		t.Errorf("slowest scrape %s, bound %s", worst, kubeletTimeout)
	}
}

// abuseServer serves with users prom/pw (and prom2/pw2, never used before
// an attack) at bcrypt's lowest cost: under -race a comparison at the
// default cost takes most of a second.
func abuseServer(t *testing.T, opts Options, tweak func(*http.Server)) *testServer {
	t.Helper()
	config := filepath.Join(t.TempDir(), "web.yml")
	write(t, config, "basic_auth_users:\n  prom: "+hash(t, "pw")+"\n  prom2: "+hash(t, "pw2")+"\n")
	opts.ConfigFile = config
	s := start(t, opts, tweak)
	if code, _ := get(client("", nil), s.url+"/metrics", "prom", "pw"); code != http.StatusOK {
		t.Fatalf("scrape before the attack: %d", code)
	}
	return s
}

// attack runs one attacker per connection, n of them, from 127.0.0.2,
// dialing at most 16 at a time, and returns how long each connection
// lasted from its first write until the server cut it (or the attacker
// gave up: then the duration is negative).
func attack(t *testing.T, s *testServer, n int, hold func(c net.Conn) error) latencies {
	t.Helper()
	var (
		mu   sync.Mutex
		cuts latencies
		wg   sync.WaitGroup
	)
	dialing := make(chan struct{}, 16)
	dialer := net.Dialer{Timeout: 5 * time.Second, LocalAddr: &net.TCPAddr{IP: net.ParseIP("127.0.0.2")}}
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			dialing <- struct{}{}
			c, err := dialer.Dial("tcp", s.addr)
			<-dialing
			if err != nil {
				t.Errorf("dial: %v", err)
				return
			}
			defer c.Close()
			_ = c.SetDeadline(time.Now().Add(20 * time.Second))
			began := time.Now()
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
	wg.Wait()
	return cuts
}

// drain reads c until the server closes it, returning what it read.
func drain(c net.Conn) (string, error) {
	b, err := io.ReadAll(c)
	if err == nil || isReset(err) {
		return string(b), nil
	}
	return string(b), err
}

func isReset(err error) bool {
	return err != nil && (strings.Contains(err.Error(), "connection reset") || strings.Contains(err.Error(), "broken pipe"))
}

// allCut asserts that the server cut every attacking connection within
// bound.
func allCut(t *testing.T, cuts latencies, bound time.Duration) {
	t.Helper()
	t.Logf("attacking connections cut after: %s", cuts)
	if slices.ContainsFunc(cuts, func(d time.Duration) bool { return d < 0 }) {
		t.Errorf("some attacking connections were never cut")
	}
	if worst := cuts.quantile(1); worst > bound {
		t.Errorf("a connection was held %s, bound %s", worst, bound)
	}
}

// 1,100 requests announcing a body that never comes: each is answered 413
// and cut as soon as its headers are read.
func TestAbuse_HeldBodies(t *testing.T) {
	s := abuseServer(t, Options{}, nil)
	normal := watch(s)
	var answers sync.Map
	cuts := attack(t, s, 1100, func(c net.Conn) error {
		if _, err := c.Write([]byte("GET /readyz HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n")); err != nil {
			return err
		}
		out, err := drain(c)
		status, _, _ := strings.Cut(out, "\r\n")
		answers.Store(status, true)
		return err
	})
	normal.check(t)
	allCut(t, cuts, 5*time.Second) // the exporter's ReadTimeout, which it never needs here
	answers.Range(func(k, _ any) bool {
		if k != "HTTP/1.1 413 Request Entity Too Large" && k != "" { // "": closed at the connection bound before answering
			t.Errorf("answer %q", k)
		}
		return true
	})
}

// 600 connections trickling their headers a byte at a time are cut at the
// header timeout (here 1s), or earlier to make room at the bound.
func TestAbuse_SlowHeaders(t *testing.T) {
	const headerTimeout = time.Second
	s := abuseServer(t, Options{}, func(srv *http.Server) { srv.ReadHeaderTimeout, srv.ReadTimeout = headerTimeout, headerTimeout })
	normal := watch(s)
	cuts := attack(t, s, 600, func(c net.Conn) error {
		if _, err := c.Write([]byte("GET /readyz HTTP/1.1\r\nHost: x\r\nX-Slow: ")); err != nil {
			return err
		}
		for {
			time.Sleep(100 * time.Millisecond)
			if _, err := c.Write([]byte("a")); err != nil {
				if isReset(err) {
					return nil
				}
				return err
			}
			if c.SetReadDeadline(time.Now().Add(time.Millisecond)) == nil {
				if _, err := c.Read(make([]byte, 1)); err == io.EOF || isReset(err) {
					return nil
				}
			}
		}
	})
	normal.check(t)
	allCut(t, cuts, headerTimeout+time.Second) // a trickle is noticed at its next write
}

// 300 connections each sending a 1,000 KiB header line that never ends
// are answered 431 after 12 KiB (MaxHeaderBytes 8 KiB plus net/http's
// 4 KiB) and cut. cmd/exporter's abuse test measures the memory.
func TestAbuse_OversizedHeaders(t *testing.T) {
	s := abuseServer(t, Options{}, nil)
	normal := watch(s)
	var rejected sync.Map
	chunk := []byte(strings.Repeat("a", 16<<10))
	cuts := attack(t, s, 300, func(c net.Conn) error {
		if _, err := c.Write([]byte("GET /readyz HTTP/1.1\r\nHost: x\r\nX-Big: ")); err != nil {
			return err
		}
		r := bufio.NewReader(c)
		go func() { // what the server answers, if the attacker reads it
			if line, err := r.ReadString('\n'); err == nil {
				rejected.Store(strings.TrimSpace(line), true)
			}
		}()
		for sent := 0; sent < 1000<<10; sent += len(chunk) {
			if _, err := c.Write(chunk); err != nil {
				return nil // cut
			}
			time.Sleep(10 * time.Millisecond) // a trickle, not a firehose
		}
		return nil
	})
	normal.check(t)
	allCut(t, cuts, 5*time.Second)
	rejected.Range(func(k, _ any) bool {
		if k != "HTTP/1.1 431 Request Header Fields Too Large" {
			t.Errorf("answer %q", k)
		}
		return true
	})
}

// 1,000 silent connections against a bound of 64: the server never holds
// more than 64, closing the oldest idle ones, and the probes get through.
func TestAbuse_ConnectionFlood(t *testing.T) {
	const bound, headerTimeout = 64, time.Second
	s := abuseServer(t, Options{MaxConnections: bound}, func(srv *http.Server) { srv.ReadHeaderTimeout, srv.ReadTimeout = headerTimeout, headerTimeout })
	normal := watch(s)
	var most int
	sampling := make(chan struct{})
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		for {
			most = max(most, s.conns.Open())
			select {
			case <-sampling:
				return
			case <-time.After(time.Millisecond):
			}
		}
	}()
	cuts := attack(t, s, 1000, func(c net.Conn) error {
		_, err := drain(c) // send nothing, hold until cut
		return err
	})
	close(sampling)
	<-sampled
	normal.check(t)
	t.Logf("at most %d connections open; %d evicted, %d refused", most, s.conns.evicted.Load(), s.conns.refused.Load())
	if most > bound {
		t.Errorf("%d connections open, bound %d", most, bound)
	}
	allCut(t, cuts, headerTimeout+time.Second) // the header timeout, for the last ones
}

// 200 concurrent wrong-password requests from one address: it gets
// failureBurst comparisons and then 429s, while scrapes from another
// address, cached or not, are served.
func TestAbuse_WrongPasswordFlood(t *testing.T) {
	s := abuseServer(t, Options{}, nil)
	normal := watch(s)
	codes := map[string]int{}
	var mu sync.Mutex
	var guesses atomic.Int32
	attack(t, s, 200, func(c net.Conn) error {
		req, _ := http.NewRequest(http.MethodGet, "/metrics", nil)
		req.SetBasicAuth("prom", fmt.Sprintf("guess-%d", guesses.Add(1)))
		if err := req.Write(c); err != nil {
			return err
		}
		resp, err := http.ReadResponse(bufio.NewReader(c), req)
		if err != nil {
			return err
		}
		resp.Body.Close()
		mu.Lock()
		codes[resp.Status]++
		mu.Unlock()
		return nil
	})
	began := time.Now()
	code, _ := get(client("127.0.0.1", nil), s.url+"/metrics", "prom2", "pw2")
	first := time.Since(began)
	normal.check(t)
	t.Logf("attacker's answers: %v; first scrape of an uncached user after it: %s", codes, first)
	if code != http.StatusOK || first >= kubeletTimeout {
		t.Errorf("first scrape of prom2: %d after %s", code, first)
	}
	if codes["401 Unauthorized"] > failureBurst+2 { // +1 per second of attack
		t.Errorf("%d comparisons for one address", codes["401 Unauthorized"])
	}
}

// Unknown users and wrong passwords cost the same: both are compared with
// bcrypt at the same cost. Each attempt comes from its own address, so
// that none is throttled.
func TestAbuse_UnknownUserTiming(t *testing.T) {
	const cost, samples = 6, 15
	config := filepath.Join(t.TempDir(), "web.yml")
	write(t, config, "basic_auth_users:\n  prom: "+hashCost(t, "pw", cost)+"\n")
	s := start(t, Options{ConfigFile: config}, nil)
	var known, unknown latencies
	for i := range samples * 2 {
		user, into := "prom", &known
		if i%2 == 1 {
			user, into = "nobody", &unknown
		}
		c := client(fmt.Sprintf("127.0.4.%d", i+1), nil)
		began := time.Now()
		code, body := get(c, s.url+"/metrics", user, fmt.Sprintf("guess-%d", i))
		*into = append(*into, time.Since(began))
		if code != http.StatusUnauthorized {
			t.Fatalf("%s: %d %s", user, code, body)
		}
	}
	k, u := known.quantile(0.5), unknown.quantile(0.5)
	t.Logf("bcrypt cost %d: wrong password %s; unknown user %s", cost, known, unknown)
	// Before, an unknown user skipped bcrypt: 0.26ms against 72ms. The
	// medians of the same work differ by noise only.
	if ratio := float64(u) / float64(k); ratio < 0.5 || ratio > 2 {
		t.Errorf("median unknown user %s, wrong password %s: ratio %.2f", u, k, ratio)
	}
	if _, err := bcrypt.Cost(s.current.Load().users.fake); err != nil {
		t.Error(err)
	}
}
