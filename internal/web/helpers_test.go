package web

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/dbhealth/dbhealth-exporter/internal/testtools"
)

// writeCert writes a self-signed certificate for 127.0.0.1 with the given
// serial number to dir/tls.crt and its key to dir/tls.key, and returns a
// pool trusting it.
func writeCert(t *testing.T, dir string, serial int64) *x509.CertPool {
	t.Helper()
	certPEM, keyPEM := testtools.SelfSignedCert(t, serial)
	write(t, filepath.Join(dir, "tls.crt"), string(certPEM))
	write(t, filepath.Join(dir, "tls.key"), string(keyPEM))
	block, _ := pem.Decode(certPEM)
	cert, _ := x509.ParseCertificate(block.Bytes)
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return pool
}

func write(t *testing.T, path, content string) {
	t.Helper()
	// Write and rename, as Kubernetes updates a mounted Secret, so that
	// the server never reads a half-written file.
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
}

func hashCost(t *testing.T, password string, cost int) string {
	t.Helper()
	h, err := bcrypt.GenerateFromPassword([]byte(password), cost)
	if err != nil {
		t.Fatal(err)
	}
	return string(h)
}

func hash(t *testing.T, password string) string { return hashCost(t, password, bcrypt.MinCost) }

// testHandler answers every path with its name and whether the request was
// authenticated; /slow answers only when its client goes away (or after
// 10s).
var testHandler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == "/slow" {
		select {
		case <-r.Context().Done():
		case <-time.After(10 * time.Second):
		}
	}
	fmt.Fprintf(w, "%s authenticated=%v", r.URL.Path, Authenticated(r))
})

// publicProbes makes /readyz and /livez public, as probes.IsProbePath does.
func publicProbes(p string) bool { return p == "/readyz" || p == "/livez" }

// testServer is a Server over a real http.Server on a loopback port.
type testServer struct {
	*Server
	addr string
	url  string
	log  *testtools.Buffer
}

// serverLimits are the exporter's http.Server limits
// (internal/exporter/http.go), with a shorter header timeout where a test
// waits for it.
func serverLimits(srv *http.Server) {
	srv.ReadHeaderTimeout = 5 * time.Second
	srv.ReadTimeout = 5 * time.Second
	srv.WriteTimeout = 10 * time.Second
	srv.IdleTimeout = 2 * time.Minute
	srv.MaxHeaderBytes = 8 << 10
	srv.DisableGeneralOptionsHandler = true
}

// start serves testHandler behind a Server with opts until the test ends.
// tweak, if not nil, changes the http.Server after serverLimits.
func start(t *testing.T, opts Options, tweak func(*http.Server)) *testServer {
	t.Helper()
	logs := &testtools.Buffer{}
	if opts.Public == nil {
		opts.Public = publicProbes
	}
	opts.Logger = slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	s, err := New(opts, testHandler)
	if err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: s.Handler(), ErrorLog: slog.NewLogLogger(opts.Logger.Handler(), slog.LevelDebug)}
	serverLimits(srv)
	if tweak != nil {
		tweak(srv)
	}
	served := make(chan error, 1)
	go func() { served <- s.Serve(srv, l) }()
	t.Cleanup(func() {
		_ = srv.Close()
		<-served
		if t.Failed() {
			t.Logf("server log:\n%s", logs.String())
		}
	})
	scheme := "http://"
	if s.TLS() {
		scheme = "https://"
	}
	return &testServer{Server: s, addr: l.Addr().String(), url: scheme + l.Addr().String(), log: logs}
}

// client is a client as the kubelet's prober is: one connection per
// request, a deadline on everything, from the given loopback address
// ("" for 127.0.0.1).
func client(from string, roots *x509.CertPool) *http.Client {
	dialer := &net.Dialer{Timeout: 5 * time.Second}
	if from != "" {
		dialer.LocalAddr = &net.TCPAddr{IP: net.ParseIP(from)}
	}
	return &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{
		DialContext:       dialer.DialContext,
		DisableKeepAlives: true,
		TLSClientConfig:   &tls.Config{RootCAs: roots},
	}}
}

// get fetches url with c and optional credentials; code 0 means no answer
// (the error is in body).
func get(c *http.Client, url, user, pass string) (code int, body string) {
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	if user != "" {
		req.SetBasicAuth(user, pass)
	}
	resp, err := c.Do(req)
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// eventually polls cond every 10ms until it holds, for at most wait.
func eventually(t *testing.T, what string, wait time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(wait)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("waited %s for %s", wait, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// latencies summarises durations.
type latencies []time.Duration

func (l latencies) quantile(q float64) time.Duration {
	if len(l) == 0 {
		return 0
	}
	s := slices.Clone(l)
	slices.Sort(s)
	return s[int(q*float64(len(s)-1))]
}

func (l latencies) String() string {
	return fmt.Sprintf("n=%d median=%s p99=%s max=%s", len(l), l.quantile(0.5).Round(time.Microsecond),
		l.quantile(0.99).Round(time.Microsecond), l.quantile(1).Round(time.Microsecond))
}
