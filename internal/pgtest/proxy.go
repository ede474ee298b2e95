package pgtest

import (
	"fmt"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// Proxy is a TCP proxy in front of a server, for outages that are not the
// server's fault and for counting the connections that reach the server.
//
// Modes:
//   - forwarding (initially, and after Restore);
//   - refusing (Refuse): nothing listens on the port, so connects fail with
//     ECONNREFUSED, and every open connection has been reset;
//   - blackholed (Blackhole): connects succeed but nothing is forwarded or
//     answered, neither on new nor on existing connections, so clients hang
//     until their own timeout.
//
// Restore resets the connections that were stalled by Blackhole (as a
// stateful firewall that forgot them would) rather than delivering their
// stale bytes late; clients reconnect and the new connections are forwarded.
type Proxy struct {
	target string
	addr   string // fixed at creation; reused by Restore after Refuse
	count  atomic.Int64

	mu     sync.Mutex
	cond   *sync.Cond // signalled when mode or closed changes
	mode   proxyMode
	closed bool
	ln     net.Listener
	lnDone chan struct{} // closed when ln's accept loop has returned
	conns  map[net.Conn]struct{}
	wg     sync.WaitGroup
}

type proxyMode int

const (
	forwarding proxyMode = iota
	refusing
	blackholed
)

// NewProxy starts a proxy on 127.0.0.1 (a free port) forwarding to target
// ("host:port"). It is closed in t.Cleanup.
func NewProxy(t testing.TB, target string) *Proxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("pgtest: NewProxy: %v", err)
	}
	p := &Proxy{target: target, addr: ln.Addr().String(), conns: map[net.Conn]struct{}{}}
	p.cond = sync.NewCond(&p.mu)
	p.startAcceptingLocked(ln)
	t.Cleanup(p.close)
	return p
}

// Addr returns "127.0.0.1:PORT"; it does not change across Refuse/Restore.
func (p *Proxy) Addr() string { return p.addr }

// Port returns the proxy's port.
func (p *Proxy) Port() int {
	_, port, _ := net.SplitHostPort(p.addr)
	n, _ := strconv.Atoi(port)
	return n
}

// Connections returns the number of client connections accepted and
// forwarded to the target (the target accepted the TCP connection) since
// the proxy was created.
func (p *Proxy) Connections() int64 { return p.count.Load() }

// Refuse closes the listener, so that new connects get ECONNREFUSED, and
// resets all open connections.
func (p *Proxy) Refuse() {
	p.mu.Lock()
	p.mode = refusing
	ln, done := p.ln, p.lnDone
	p.ln = nil
	p.mu.Unlock()
	if ln != nil {
		// The socket is released only once the accept loop has returned;
		// until then the kernel may still complete connects (and reset
		// them later), so wait for it.
		ln.Close()
		<-done
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.resetAllLocked()
	p.cond.Broadcast()
}

// Blackhole keeps accepting connections but never forwards or answers
// anything; existing connections stop forwarding too.
func (p *Proxy) Blackhole() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.mode = blackholed
	p.listenLocked()
	p.cond.Broadcast()
}

// Restore forwards normally again, listening again on the same port after
// Refuse. Connections stalled by Blackhole are reset.
func (p *Proxy) Restore() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.mode == blackholed {
		p.resetAllLocked()
	}
	p.mode = forwarding
	p.listenLocked()
	p.cond.Broadcast()
}

// listenLocked listens on p.addr again if the listener was closed by Refuse.
// The port was ours a moment ago, so failing to get it back means something
// else grabbed it; the test cannot go on meaningfully, hence the panic.
func (p *Proxy) listenLocked() {
	if p.ln != nil || p.closed {
		return
	}
	var err error
	for i := 0; i < 50; i++ {
		var ln net.Listener
		if ln, err = net.Listen("tcp", p.addr); err == nil {
			p.startAcceptingLocked(ln)
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	panic(fmt.Sprintf("pgtest: Proxy: cannot listen on %s again: %v", p.addr, err))
}

func (p *Proxy) close() {
	p.mu.Lock()
	p.closed = true
	if p.ln != nil {
		p.ln.Close()
		p.ln = nil
	}
	p.resetAllLocked()
	p.cond.Broadcast()
	p.mu.Unlock()
	p.wg.Wait()
}

// resetAllLocked closes every connection with a TCP RST.
func (p *Proxy) resetAllLocked() {
	for c := range p.conns {
		if tc, ok := c.(*net.TCPConn); ok {
			tc.SetLinger(0)
		}
		c.Close()
	}
	clear(p.conns)
}

// track adds c to the open connections; false if the proxy no longer
// forwards (c is then closed).
func (p *Proxy) track(c net.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed || p.mode == refusing {
		c.Close()
		return false
	}
	p.conns[c] = struct{}{}
	return true
}

func (p *Proxy) untrack(c net.Conn) {
	p.mu.Lock()
	delete(p.conns, c)
	p.mu.Unlock()
	c.Close()
}

// startAcceptingLocked makes ln the listener and starts its accept loop.
func (p *Proxy) startAcceptingLocked(ln net.Listener) {
	p.ln, p.lnDone = ln, make(chan struct{})
	p.wg.Add(1)
	go p.acceptLoop(ln, p.lnDone)
}

func (p *Proxy) acceptLoop(ln net.Listener, done chan struct{}) {
	defer p.wg.Done()
	defer close(done)
	for {
		c, err := ln.Accept()
		if err != nil {
			return // closed by Refuse or close
		}
		p.mu.Lock()
		if p.closed || p.mode == refusing {
			p.mu.Unlock()
			c.Close()
			continue
		}
		p.conns[c] = struct{}{}
		hold := p.mode == blackholed
		p.mu.Unlock()
		if hold {
			// Hold it open without reading; Restore, Refuse or close resets it.
			continue
		}
		p.wg.Add(1)
		go p.forward(c)
	}
}

func (p *Proxy) forward(client net.Conn) {
	defer p.wg.Done()
	server, err := net.DialTimeout("tcp", p.target, 10*time.Second)
	if err != nil {
		p.untrack(client) // the client sees the connection closed
		return
	}
	if !p.track(server) {
		p.untrack(client)
		return
	}
	// The client may have been reset by Refuse while we were dialing.
	p.mu.Lock()
	_, clientOpen := p.conns[client]
	p.mu.Unlock()
	if !clientOpen {
		p.untrack(server)
		return
	}
	p.count.Add(1)
	p.wg.Add(2)
	go p.pipe(server, client)
	go p.pipe(client, server)
}

// pipe copies src to dst until either fails, holding data back while the
// proxy is blackholed; then it closes both.
func (p *Proxy) pipe(dst, src net.Conn) {
	defer p.wg.Done()
	defer p.untrack(dst)
	defer p.untrack(src)
	buf := make([]byte, 32*1024)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			if !p.waitForwarding() {
				return
			}
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

// waitForwarding blocks while the proxy is blackholed; false once it will
// never forward again (refusing or closed; the connections are reset then).
func (p *Proxy) waitForwarding() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	for p.mode == blackholed && !p.closed {
		p.cond.Wait()
	}
	return p.mode == forwarding && !p.closed
}
