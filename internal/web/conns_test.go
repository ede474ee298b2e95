package web

import (
	"bufio"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// dialSilent opens a connection that sends nothing.
func dialSilent(t *testing.T, addr string) net.Conn {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// closedByServer reports whether the server has closed c, waiting up to
// wait for it.
func closedByServer(c net.Conn, wait time.Duration) bool {
	_ = c.SetReadDeadline(time.Now().Add(wait))
	_, err := c.Read(make([]byte, 1))
	if ne, ok := err.(net.Error); ok && ne.Timeout() {
		return false
	}
	return err != nil
}

// sendSlow sends a request for /slow on c and returns once the server is
// running it.
func sendSlow(t *testing.T, s *testServer, c net.Conn) {
	t.Helper()
	busyBefore := s.busyCount()
	if _, err := c.Write([]byte("GET /slow HTTP/1.1\r\nHost: x\r\n\r\n")); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the request to run", 5*time.Second, func() bool { return s.busyCount() > busyBefore })
}

func (s *testServer) busyCount() int {
	s.conns.mu.Lock()
	defer s.conns.mu.Unlock()
	n := 0
	for c := s.conns.busy.head; c != nil; c = c.busy.next {
		n++
	}
	return n
}

// At the bound, the connection that has waited longest without a request
// is closed to make room, and a probe still gets through.
func TestConnLimit_ClosesOldestIdleFirst(t *testing.T) {
	s := start(t, Options{MaxConnections: 4}, nil)
	var held []net.Conn
	for range 4 {
		held = append(held, dialSilent(t, s.addr))
		eventually(t, "the connection to be accepted", 5*time.Second, func() bool { return s.conns.Open() == len(held) })
	}
	fifth := dialSilent(t, s.addr)
	if !closedByServer(held[0], 5*time.Second) {
		t.Fatal("the oldest idle connection is still open")
	}
	for i, c := range held[1:] {
		if closedByServer(c, 50*time.Millisecond) {
			t.Errorf("connection %d closed, not the oldest", i+2)
		}
	}
	if code, _ := get(client("", nil), s.url+"/readyz", "", ""); code != http.StatusOK {
		t.Errorf("probe at the bound: %d", code)
	}
	if closedByServer(fifth, 50*time.Millisecond) {
		t.Error("the newest connection was closed")
	}
	if open := s.conns.Open(); open > 4 {
		t.Errorf("%d connections open, bound 4", open)
	}
	if s.conns.evicted.Load() < 2 {
		t.Errorf("evicted %d", s.conns.evicted.Load())
	}
}

// A connection running a request is spared while an idle one can go, and
// while its request is younger than busyGrace; past that, it goes too.
func TestConnLimit_BusyConnectionsLast(t *testing.T) {
	s := start(t, Options{MaxConnections: 1}, nil)
	busy := dialSilent(t, s.addr)
	sendSlow(t, s, busy)

	refused := dialSilent(t, s.addr)
	if !closedByServer(refused, 5*time.Second) {
		t.Fatal("a connection beyond the bound was kept while the only other one runs a young request")
	}
	if closedByServer(busy, 50*time.Millisecond) {
		t.Fatal("the busy connection was closed before busyGrace")
	}
	if s.conns.refused.Load() != 1 {
		t.Errorf("refused %d", s.conns.refused.Load())
	}

	time.Sleep(busyGrace)
	late := dialSilent(t, s.addr)
	if !closedByServer(busy, 5*time.Second) {
		t.Fatal("a request running longer than busyGrace kept its connection at the bound")
	}
	if _, err := late.Write([]byte("GET /livez HTTP/1.1\r\nHost: x\r\n\r\n")); err != nil {
		t.Fatal(err)
	}
	_ = late.SetReadDeadline(time.Now().Add(5 * time.Second))
	resp, err := http.ReadResponse(bufio.NewReader(late), nil)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("the connection admitted in its place: %v %v", resp, err)
	}
	resp.Body.Close()
}

// A keep-alive connection goes back to the idle list between requests
// and counts once.
func TestConnLimit_KeepAliveCountedOnce(t *testing.T) {
	s := start(t, Options{MaxConnections: 8}, nil)
	c := &http.Client{Timeout: 5 * time.Second}
	for range 20 {
		code, body := get(c, s.url+"/livez", "", "")
		if code != http.StatusOK || !strings.HasPrefix(body, "/livez") {
			t.Fatalf("%d %q", code, body)
		}
	}
	if open := s.conns.Open(); open != 1 {
		t.Errorf("%d connections open after 20 requests on one", open)
	}
	c.CloseIdleConnections()
	eventually(t, "the connection to be forgotten", 5*time.Second, func() bool { return s.conns.Open() == 0 })
}
