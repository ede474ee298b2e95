package web

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"
)

// writeCert writes a self-signed certificate for 127.0.0.1 and its key.
func writeCert(t *testing.T, dir string) *x509.CertPool {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "dbhealth test"},
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, _ := x509.MarshalECPrivateKey(key)
	write(t, filepath.Join(dir, "tls.crt"), string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})))
	write(t, filepath.Join(dir, "tls.key"), string(pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER})))
	cert, _ := x509.ParseCertificate(der)
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return pool
}

func write(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

func hash(t *testing.T, password string) string {
	t.Helper()
	h, err := bcrypt.GenerateFromPassword([]byte(password), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	return string(h)
}

// serveTLS starts a Server over TLS with basic auth on everything but
// /readyz, and returns its URL and a client trusting its certificate.
func serveTLS(t *testing.T, configFile string, roots *x509.CertPool) (string, *http.Client) {
	t.Helper()
	ok := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write([]byte("ok")) })
	s, err := New(Options{ConfigFile: configFile, Public: func(p string) bool { return p == "/readyz" }}, ok)
	if err != nil {
		t.Fatal(err)
	}
	if !s.TLS() {
		t.Fatal("TLS not enabled")
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: s.Handler(), ReadHeaderTimeout: time.Second}
	go func() { _ = s.Serve(srv, l) }()
	t.Cleanup(func() { _ = srv.Close() })
	return "https://" + l.Addr().String(), &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots}}}
}

func status(t *testing.T, client *http.Client, url, user, pass string) int {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	if user != "" {
		req.SetBasicAuth(user, pass)
	}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

func TestServer_TLSWithBasicAuthOnPrivatePathsOnly(t *testing.T) {
	dir := t.TempDir()
	roots := writeCert(t, dir)
	config := filepath.Join(dir, "web.yml")
	write(t, config, "tls_server_config:\n  cert_file: tls.crt\n  key_file: tls.key\nbasic_auth_users:\n  prom: "+hash(t, "pw1")+"\n")
	url, client := serveTLS(t, config, roots)

	if got := status(t, client, url+"/readyz", "", ""); got != http.StatusOK {
		t.Errorf("public path without credentials: %d", got)
	}
	if got := status(t, client, url+"/metrics", "", ""); got != http.StatusUnauthorized {
		t.Errorf("private path without credentials: %d", got)
	}
	if got := status(t, client, url+"/metrics", "prom", "wrong"); got != http.StatusUnauthorized {
		t.Errorf("wrong password: %d", got)
	}
	if got := status(t, client, url+"/metrics", "nobody", "pw1"); got != http.StatusUnauthorized {
		t.Errorf("unknown user: %d", got)
	}
	if got := status(t, client, url+"/metrics", "prom", "pw1"); got != http.StatusOK {
		t.Errorf("right password: %d", got)
	}

	// Users are re-read on every private request, as exporter-toolkit does.
	write(t, config, "tls_server_config:\n  cert_file: tls.crt\n  key_file: tls.key\nbasic_auth_users:\n  prom: "+hash(t, "pw2")+"\n")
	if got := status(t, client, url+"/metrics", "prom", "pw1"); got != http.StatusUnauthorized {
		t.Errorf("old password after rotation: %d", got)
	}
	if got := status(t, client, url+"/metrics", "prom", "pw2"); got != http.StatusOK {
		t.Errorf("new password after rotation: %d", got)
	}
}

func TestNew_RejectsInvalidWebConfig(t *testing.T) {
	dir := t.TempDir()
	cases := map[string]string{
		"unknown field":   "basic_auth_users: {}\nbogus: 1\n",
		"not bcrypt":      "basic_auth_users:\n  prom: plaintext\n",
		"missing cert":    "tls_server_config:\n  cert_file: nope.crt\n  key_file: nope.key\n",
		"bad header":      "http_server_config:\n  headers:\n    X-Forwarded-For: x\n",
		"not yaml at all": "::::\n",
	}
	for name, content := range cases {
		path := filepath.Join(dir, strings.ReplaceAll(name, " ", "_")+".yml")
		write(t, path, content)
		if _, err := New(Options{ConfigFile: path}, http.NotFoundHandler()); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}
