package web

import (
	"crypto/tls"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/dbhealth/dbhealth-exporter/internal/testtools"
)

// servedSerial handshakes with addr and returns the serial number of the
// certificate it presents (0 when the handshake fails).
func servedSerial(t *testing.T, addr string) int64 {
	t.Helper()
	conn, err := tls.DialWithDialer(&net.Dialer{Timeout: 5 * time.Second}, "tcp", addr, &tls.Config{InsecureSkipVerify: true})
	if err != nil {
		t.Logf("handshake: %v", err)
		return 0
	}
	defer conn.Close()
	return conn.ConnectionState().PeerCertificates[0].SerialNumber.Int64()
}

func reloadGauge(t *testing.T, s *Server) float64 {
	t.Helper()
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(s.Collector())
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		if f.GetName() == "dbhealth_web_config_last_reload_successful" {
			return f.GetMetric()[0].GetGauge().GetValue()
		}
	}
	t.Fatal("dbhealth_web_config_last_reload_successful not exposed")
	return 0
}

// A configuration broken while the exporter runs (a typo, a certificate
// and key caught mid-rotation, a missing file) leaves the last good one in
// force: TLS and every endpoint keep serving, the failure is logged at
// error level and the reload gauge turns 0 until a good one is read.
func TestServer_WebConfigBrokenMidRun_KeepsServingLastGood(t *testing.T) {
	dir := t.TempDir()
	writeCert(t, dir, 1)
	config := filepath.Join(dir, "web.yml")
	good := "tls_server_config:\n  cert_file: tls.crt\n  key_file: tls.key\nbasic_auth_users:\n  prom: " + hash(t, "pw") + "\n"
	write(t, config, good)
	s := start(t, Options{ConfigFile: config, ReloadInterval: 20 * time.Millisecond}, nil)
	insecure := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{
		TLSClientConfig: &tls.Config{InsecureSkipVerify: true}, DisableKeepAlives: true}}
	serving := func(step string) {
		t.Helper()
		if serial := servedSerial(t, s.addr); serial != 1 {
			t.Errorf("%s: serving certificate %d, want the last good one (1)", step, serial)
		}
		if code, _ := get(insecure, s.url+"/readyz", "", ""); code != http.StatusOK {
			t.Errorf("%s: /readyz %d", step, code)
		}
		if code, _ := get(insecure, s.url+"/metrics", "prom", "pw"); code != http.StatusOK {
			t.Errorf("%s: scrape %d", step, code)
		}
	}
	failed := func(step string) {
		t.Helper()
		eventually(t, step+" to be noticed", 5*time.Second, func() bool { return reloadGauge(t, s.Server) == 0 })
		serving(step)
	}
	serving("start")

	write(t, config, good+"tls_server_config: {\n") // a YAML typo
	failed("a YAML typo")
	if !strings.Contains(s.log.String(), "level=ERROR msg=\"web config reload failed") {
		t.Errorf("the failure is not logged at error level:\n%s", s.log.String())
	}

	write(t, config, good)
	eventually(t, "the good file to be reloaded", 5*time.Second, func() bool { return reloadGauge(t, s.Server) == 1 })

	// A new certificate with the old key: a rotation caught half-way.
	certPEM, _ := testtools.SelfSignedCert(t, 2)
	write(t, filepath.Join(dir, "tls.crt"), string(certPEM))
	failed("a mismatched certificate and key")

	if err := os.Remove(filepath.Join(dir, "tls.key")); err != nil {
		t.Fatal(err)
	}
	failed("a missing key file")

	// The rotation completes: the new pair is served.
	writeCert(t, dir, 3)
	eventually(t, "the new certificate to be served", 5*time.Second, func() bool { return servedSerial(t, s.addr) == 3 })
	if got := reloadGauge(t, s.Server); got != 1 {
		t.Errorf("reload gauge %v after a good reload", got)
	}
}

// TLS cannot be turned off by a reload: the listeners speak TLS.
func TestServer_ReloadTurningTLSOff_RefusedUntilRestart(t *testing.T) {
	dir := t.TempDir()
	writeCert(t, dir, 1)
	config := filepath.Join(dir, "web.yml")
	write(t, config, "tls_server_config:\n  cert_file: tls.crt\n  key_file: tls.key\n")
	s := start(t, Options{ConfigFile: config, ReloadInterval: time.Hour}, nil)
	write(t, config, "basic_auth_users: {}\n")
	if err := s.Reload(); err == nil || !strings.Contains(err.Error(), "restart") {
		t.Errorf("Reload: %v", err)
	}
	if serial := servedSerial(t, s.addr); serial != 1 {
		t.Errorf("serving %d after a refused reload", serial)
	}
}

// The files are parsed when they change, not per handshake or request: a
// thousand handshakes and scrapes later, the reload count is what the
// changes made it.
func TestServer_FilesReadOnChangeOnly(t *testing.T) {
	dir := t.TempDir()
	roots := writeCert(t, dir, 1)
	config := filepath.Join(dir, "web.yml")
	write(t, config, "tls_server_config:\n  cert_file: tls.crt\n  key_file: tls.key\nbasic_auth_users:\n  prom: "+hash(t, "pw")+"\n")
	s := start(t, Options{ConfigFile: config, ReloadInterval: 20 * time.Millisecond}, nil)
	first := s.current.Load()
	c := client("", roots)
	for range 200 {
		if code, _ := get(c, s.url+"/metrics", "prom", "pw"); code != http.StatusOK {
			t.Fatalf("scrape: %d", code)
		}
	}
	if s.current.Load() != first {
		t.Error("the configuration was rebuilt although no file changed")
	}
	if strings.Contains(s.log.String(), "web config reloaded") {
		t.Errorf("reloaded without a change:\n%s", s.log.String())
	}
}

func TestCollector_Lints(t *testing.T) {
	s, err := New(Options{}, http.NotFoundHandler())
	if err != nil {
		t.Fatal(err)
	}
	problems, err := testutil.CollectAndLint(s.Collector())
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		t.Errorf("%s: %s", p.Metric, p.Text)
	}
	if got := reloadGauge(t, s); got != 1 {
		t.Errorf("without a configuration file the reload gauge is %v", got)
	}
}
