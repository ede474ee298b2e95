package web

import (
	"bufio"
	"crypto/tls"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestServer_TLSWithBasicAuthOnPrivatePathsOnly(t *testing.T) {
	dir := t.TempDir()
	roots := writeCert(t, dir, 1)
	config := filepath.Join(dir, "web.yml")
	write(t, config, "tls_server_config:\n  cert_file: tls.crt\n  key_file: tls.key\nbasic_auth_users:\n  prom: "+hash(t, "pw1")+"\n")
	s := start(t, Options{ConfigFile: config, ReloadInterval: 20 * time.Millisecond}, nil)
	c := client("", roots)

	if code, _ := get(c, s.url+"/readyz", "", ""); code != http.StatusOK {
		t.Errorf("public path without credentials: %d", code)
	}
	for _, tc := range []struct{ user, pass string }{{"", ""}, {"prom", "wrong"}, {"nobody", "pw1"}} {
		if code, _ := get(c, s.url+"/metrics", tc.user, tc.pass); code != http.StatusUnauthorized {
			t.Errorf("private path as %q/%q: %d", tc.user, tc.pass, code)
		}
	}
	if code, body := get(c, s.url+"/metrics", "prom", "pw1"); code != http.StatusOK || !strings.Contains(body, "authenticated=true") {
		t.Errorf("right password: %d %s", code, body)
	}

	// The users are read again when the file changes, and the verdicts
	// cached for the old password go with the old file.
	write(t, config, "tls_server_config:\n  cert_file: tls.crt\n  key_file: tls.key\nbasic_auth_users:\n  prom: "+hash(t, "pw2")+"\n")
	eventually(t, "the new password to be accepted", 5*time.Second, func() bool {
		code, _ := get(c, s.url+"/metrics", "prom", "pw2")
		return code == http.StatusOK
	})
	if code, _ := get(c, s.url+"/metrics", "prom", "pw1"); code != http.StatusUnauthorized {
		t.Errorf("old password after rotation: %d", code)
	}
}

func TestServer_ProbeWithCredentials_CheckedAndMarkedNeverRefused(t *testing.T) {
	dir := t.TempDir()
	config := filepath.Join(dir, "web.yml")
	write(t, config, "basic_auth_users:\n  prom: "+hash(t, "pw")+"\n")
	s := start(t, Options{ConfigFile: config}, nil)
	c := client("", nil)
	for _, tc := range []struct {
		user, pass, want string
	}{
		{"", "", "authenticated=false"},
		{"prom", "pw", "authenticated=true"},
		{"prom", "wrong", "authenticated=false"},
		{"nobody", "pw", "authenticated=false"},
	} {
		code, body := get(c, s.url+"/readyz", tc.user, tc.pass)
		if code != http.StatusOK || !strings.HasSuffix(body, tc.want) {
			t.Errorf("/readyz as %q/%q: %d %q, want 200 %s", tc.user, tc.pass, code, body, tc.want)
		}
	}
}

func TestServer_NoConfigFile_ServesEverythingAnonymously(t *testing.T) {
	s := start(t, Options{}, nil)
	for _, path := range []string{"/readyz", "/metrics"} {
		if code, body := get(client("", nil), s.url+path, "someone", "pw"); code != http.StatusOK || !strings.HasSuffix(body, "authenticated=false") {
			t.Errorf("%s: %d %q", path, code, body)
		}
	}
}

// A request that announces a body is answered 413 at once, on every path,
// and its connection closed, without waiting for a body that never comes.
func TestServer_RequestWithBody_RefusedWithoutWaitingForIt(t *testing.T) {
	s := start(t, Options{}, nil)
	for _, tc := range []struct{ name, head string }{
		{"content-length", "GET /readyz HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n"},
		{"content-length beyond what net/http drains", "GET /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 100000000\r\n\r\n"},
		{"chunked", "POST /livez HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"},
		{"expect 100-continue", "PUT / HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\nExpect: 100-continue\r\n\r\n"},
		{"OPTIONS *", "OPTIONS * HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			conn, err := net.DialTimeout("tcp", s.addr, 5*time.Second)
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
			sent := time.Now()
			if _, err := conn.Write([]byte(tc.head)); err != nil {
				t.Fatal(err)
			}
			resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusRequestEntityTooLarge {
				t.Errorf("status %d, want 413", resp.StatusCode)
			}
			// The server closes the connection: a read sees EOF (or a
			// reset) well before the 5s read timeout.
			if _, err := conn.Read(make([]byte, 1)); err == nil {
				t.Error("connection still open")
			}
			if cut := time.Since(sent); cut >= 5*time.Second {
				t.Errorf("connection cut after %s: the server waited for the body", cut)
			}
		})
	}
}

func TestServer_ConfiguredHeaders_OnEveryPath(t *testing.T) {
	dir := t.TempDir()
	config := filepath.Join(dir, "web.yml")
	write(t, config, "http_server_config:\n  headers:\n    X-Frame-Options: deny\n")
	s := start(t, Options{ConfigFile: config}, nil)
	for _, path := range []string{"/readyz", "/metrics"} {
		resp, err := client("", nil).Get(s.url + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if got := resp.Header.Get("X-Frame-Options"); got != "deny" {
			t.Errorf("%s: X-Frame-Options %q", path, got)
		}
	}
}

// Without cipher_suites in the file, TLS 1.2 offers no CBC suite; with
// them, the file decides.
func TestServer_TLS12_NoCBCSuitesUnlessConfigured(t *testing.T) {
	dir := t.TempDir()
	roots := writeCert(t, dir, 1)
	config := filepath.Join(dir, "web.yml")
	cbc := []uint16{tls.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA, tls.TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA}
	handshake := func(addr string, suites []uint16) error {
		conn, err := tls.DialWithDialer(&net.Dialer{Timeout: 5 * time.Second}, "tcp", addr,
			&tls.Config{RootCAs: roots, MaxVersion: tls.VersionTLS12, CipherSuites: suites})
		if err == nil {
			conn.Close()
		}
		return err
	}

	write(t, config, "tls_server_config:\n  cert_file: tls.crt\n  key_file: tls.key\n")
	modern := start(t, Options{ConfigFile: config}, nil)
	if err := handshake(modern.addr, cbc); err == nil {
		t.Error("a TLS 1.2 client offering only CBC-SHA suites was accepted")
	}
	if err := handshake(modern.addr, []uint16{tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256}); err != nil {
		t.Errorf("ECDHE-ECDSA-AES128-GCM: %v", err)
	}

	explicit := filepath.Join(dir, "explicit.yml")
	write(t, explicit, "tls_server_config:\n  cert_file: tls.crt\n  key_file: tls.key\n  cipher_suites: [TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA]\n")
	configured := start(t, Options{ConfigFile: explicit}, nil)
	if err := handshake(configured.addr, cbc); err != nil {
		t.Errorf("cipher_suites names a CBC suite, yet: %v", err)
	}
}

func TestNew_RejectsInvalidWebConfig(t *testing.T) {
	dir := t.TempDir()
	writeCert(t, dir, 1)
	other := t.TempDir()
	writeCert(t, other, 2)
	cases := map[string]string{
		"unknown field":      "basic_auth_users: {}\nbogus: 1\n",
		"not bcrypt":         "basic_auth_users:\n  prom: plaintext\n",
		"missing cert":       "tls_server_config:\n  cert_file: nope.crt\n  key_file: nope.key\n",
		"mismatched pair":    "tls_server_config:\n  cert_file: tls.crt\n  key_file: " + filepath.Join(other, "tls.key") + "\n",
		"bad header":         "http_server_config:\n  headers:\n    X-Forwarded-For: x\n",
		"not yaml at all":    "::::\n",
		"unknown cipher":     "tls_server_config:\n  cert_file: tls.crt\n  key_file: tls.key\n  cipher_suites: [TLS_NOPE]\n",
		"client CA, no auth": "tls_server_config:\n  cert_file: tls.crt\n  key_file: tls.key\n  client_ca_file: tls.crt\n",
	}
	for name, content := range cases {
		path := filepath.Join(dir, strings.ReplaceAll(name, " ", "_")+".yml")
		write(t, path, content)
		if _, err := New(Options{ConfigFile: path}, http.NotFoundHandler()); err == nil {
			t.Errorf("%s: accepted", name)
		}
		if err := Validate(path); err == nil {
			t.Errorf("%s: Validate accepted it", name)
		}
	}
}
