package exporter_test

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/dbhealth/dbhealth-exporter/internal/pgtest"
)

// rawRequest sends head on a new connection to the exporter and returns
// the status code and body of the answer.
func rawRequest(t *testing.T, p *inProcess, head string) (int, http.Header, string) {
	t.Helper()
	conn, err := net.DialTimeout("tcp", strings.TrimPrefix(p.url, "http://"), 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.WriteString(conn, head); err != nil {
		t.Fatal(err)
	}
	method, _, _ := strings.Cut(head, " ") // a HEAD answer has no body to wait for
	resp, err := http.ReadResponse(bufio.NewReader(conn), &http.Request{Method: method})
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, string(body)
}

// /metrics and / answer GET and HEAD only, as the probes do.
func TestHTTP_MetricsAndLanding_GetAndHeadOnly(t *testing.T) {
	cluster := pgtest.New(t)
	p := startInProcess(t, schedule(cluster.DSN("postgres"), 100*time.Millisecond, 50*time.Millisecond))
	for _, path := range []string{"/metrics", "/", "/readyz", "/livez"} {
		for _, method := range []string{"PUT", "DELETE", "TRACE", "OPTIONS", "POST", "PATCH"} {
			code, header, _ := rawRequest(t, p, method+" "+path+" HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n")
			if code != http.StatusMethodNotAllowed || header.Get("Allow") != "GET, HEAD" {
				t.Errorf("%s %s: %d Allow=%q, want 405 GET, HEAD", method, path, code, header.Get("Allow"))
			}
		}
		for _, method := range []string{"GET", "HEAD"} {
			if code, _, _ := rawRequest(t, p, method+" "+path+" HTTP/1.1\r\nHost: x\r\n\r\n"); code == http.StatusMethodNotAllowed {
				t.Errorf("%s %s: 405", method, path)
			}
		}
	}
}

// Error answers never repeat long input: an unknown check's name is cut,
// an unknown path is not repeated, and a request line beyond the header
// limit is refused before routing.
func TestHTTP_LongInput_NeverEchoed(t *testing.T) {
	cluster := pgtest.New(t)
	p := startInProcess(t, schedule(cluster.DSN("postgres"), 100*time.Millisecond, 50*time.Millisecond))
	long := strings.Repeat("x", 6000)
	for _, tc := range []struct {
		path string
		want int
	}{
		{"/readyz/" + long, http.StatusNotFound},
		{"/nope/" + long, http.StatusNotFound},
		{"/readyz?verbose&exclude=" + long, 0}, // whatever readiness is
		{"/readyz?exclude=" + long, 0},
		{"/" + strings.Repeat("y", 64<<10), http.StatusRequestHeaderFieldsTooLarge},
	} {
		code, _, body := rawRequest(t, p, "GET "+tc.path+" HTTP/1.1\r\nHost: x\r\n\r\n")
		if tc.want != 0 && code != tc.want {
			t.Errorf("GET %.20s...: %d, want %d", tc.path, code, tc.want)
		}
		if strings.Contains(body, strings.Repeat("x", 100)) || strings.Contains(body, strings.Repeat("y", 100)) || len(body) > 8<<10 {
			t.Errorf("GET %.20s...: %d echoes the input (%d bytes): %.200s", tc.path, code, len(body), body)
		}
	}
}

// The exporter's server limits, seen from a client: a body is refused at
// once, a header block beyond 8 KiB (plus net/http's 4 KiB) is refused.
func TestHTTP_ServerLimits(t *testing.T) {
	cluster := pgtest.New(t)
	p := startInProcess(t, schedule(cluster.DSN("postgres"), 100*time.Millisecond, 50*time.Millisecond))
	began := time.Now()
	code, _, _ := rawRequest(t, p, "GET /livez HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n")
	if code != http.StatusRequestEntityTooLarge {
		t.Errorf("a held body: %d, want 413", code)
	}
	if took := time.Since(began); took >= 5*time.Second {
		t.Errorf("a held body was answered after %s: the read timeout, not at once", took)
	}
	if code, _, _ := rawRequest(t, p, "GET /livez HTTP/1.1\r\nHost: x\r\nX-Big: "+strings.Repeat("a", 13<<10)+"\r\n\r\n"); code != http.StatusRequestHeaderFieldsTooLarge {
		t.Errorf("13 KiB of headers: %d, want 431", code)
	}
	if code, _, _ := rawRequest(t, p, "GET /livez HTTP/1.1\r\nHost: x\r\nX-Token: "+strings.Repeat("a", 2<<10)+"\r\n\r\n"); code != http.StatusOK {
		t.Errorf("a 2 KiB bearer-token-sized header: %d, want 200", code)
	}
}
