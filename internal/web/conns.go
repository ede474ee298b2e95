package web

import (
	"context"
	"crypto/tls"
	"errors"
	"log/slog"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// busyGrace is how long a request may keep its connection before the
// connection can be closed to make room: no handler here runs that long
// (a probe takes microseconds, a scrape milliseconds), so a connection
// busy for longer is a client reading its answer slowly, on purpose or not.
const busyGrace = time.Second

// connLimit bounds the open client connections. When a new connection
// would pass the bound, an older one is closed to make room: the oldest
// idle connection of the address that holds the most connections, or, if
// no connection is idle, the one whose request has run longest, provided
// that is longer than busyGrace. Only if there is none is the new
// connection closed instead. Idle means not running a request: a fresh
// connection that has not sent one yet, a keep-alive connection between
// requests, a connection whose answer is written and which is being
// closed.
//
// So a client that opens connections and holds them only ever pushes out
// its own, as long as it holds more than anyone else; the kubelet's and
// Prometheus's few connections send their request at once and are served
// within milliseconds. A listener that stops accepting at its bound
// (netutil.LimitListener) would instead leave them waiting in the
// kernel's queue behind the attacker's.
type connLimit struct {
	max    int
	logger *slog.Logger

	mu    sync.Mutex
	open  int
	busy  connList                  // connections running a request, longest first
	addrs map[netip.Addr]*addrConns // the idle ones are here

	evicted, refused atomic.Uint64
	lastWarn         atomic.Int64 // unix nanos of the last "limit reached" log line
}

// addrConns are the connections from one address (an IPv6 /64).
type addrConns struct {
	open int
	idle connList // its idle connections, oldest first
}

// trackedConn is an accepted connection, counted until it is closed.
type trackedConn struct {
	net.Conn
	limit *connLimit
	addr  netip.Addr
	// guarded by limit.mu:
	busy     links // on limit.busy while running a request
	idle     links // on its addrConns.idle otherwise
	requests int   // running now (HTTP/2 runs several at once)
	gone     bool
}

// links place a connection on one connList.
type links struct {
	prev, next *trackedConn
	on         *connList
	since      time.Time // when it joined the list
}

// connList is an intrusive list of connections, through one of their two
// links.
type connList struct {
	head, tail *trackedConn
	of         func(*trackedConn) *links
}

func viaBusy(c *trackedConn) *links { return &c.busy }
func viaIdle(c *trackedConn) *links { return &c.idle }

func (l *connList) pushBack(c *trackedConn, now time.Time) {
	lk := l.of(c)
	*lk = links{prev: l.tail, on: l, since: now}
	if l.tail != nil {
		l.of(l.tail).next = c
	} else {
		l.head = c
	}
	l.tail = c
}

func (l *connList) remove(c *trackedConn) {
	lk := l.of(c)
	if lk.on != l {
		return
	}
	if lk.prev != nil {
		l.of(lk.prev).next = lk.next
	} else {
		l.head = lk.next
	}
	if lk.next != nil {
		l.of(lk.next).prev = lk.prev
	} else {
		l.tail = lk.prev
	}
	*lk = links{}
}

func newConnLimit(max int, logger *slog.Logger) *connLimit {
	return &connLimit{max: max, logger: logger, addrs: map[netip.Addr]*addrConns{}, busy: connList{of: viaBusy}}
}

// listener wraps l so that its connections count against the limit.
func (cl *connLimit) listener(l net.Listener) net.Listener {
	return &limitListener{Listener: l, limit: cl}
}

type limitListener struct {
	net.Listener
	limit *connLimit
}

func (l *limitListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			if errors.Is(err, syscall.EMFILE) || errors.Is(err, syscall.ENFILE) {
				// Out of descriptors all the same (something else took
				// them): free one for the next accept.
				l.limit.evictOne()
			}
			return nil, err
		}
		if tc := l.limit.admit(c); tc != nil {
			return tc, nil
		}
	}
}

// connAddr is the address a connection is counted under, as clientAddr
// for requests.
func connAddr(c net.Conn) netip.Addr {
	tcp, ok := c.RemoteAddr().(*net.TCPAddr)
	if !ok {
		return netip.Addr{}
	}
	return limitKey(tcp.AddrPort().Addr())
}

// admit counts c in, closing an older connection when the limit is
// reached; nil when c itself had to be closed.
func (cl *connLimit) admit(c net.Conn) *trackedConn {
	now := time.Now()
	tc := &trackedConn{Conn: c, limit: cl, addr: connAddr(c)}
	cl.mu.Lock()
	var victim *trackedConn
	if cl.open >= cl.max {
		if victim = cl.victimLocked(now); victim == nil {
			cl.mu.Unlock()
			cl.refused.Add(1)
			cl.warn("refusing new")
			_ = c.Close()
			return nil
		}
		cl.forgetLocked(victim)
	}
	cl.open++
	a := cl.addrs[tc.addr]
	if a == nil {
		a = &addrConns{idle: connList{of: viaIdle}}
		cl.addrs[tc.addr] = a
	}
	a.open++
	a.idle.pushBack(tc, now)
	cl.mu.Unlock()
	if victim != nil {
		cl.evicted.Add(1)
		cl.warn("closing idle")
		_ = victim.Conn.Close()
	}
	return tc
}

// victimLocked picks the connection to close to make room, or nil. It
// looks at every address: there are at most as many as connections, and
// it runs only at the bound.
func (cl *connLimit) victimLocked(now time.Time) *trackedConn {
	var heaviest *addrConns
	for _, a := range cl.addrs {
		if a.idle.head == nil {
			continue
		}
		if heaviest == nil || a.open > heaviest.open ||
			a.open == heaviest.open && a.idle.head.idle.since.Before(heaviest.idle.head.idle.since) {
			heaviest = a
		}
	}
	if heaviest != nil {
		return heaviest.idle.head
	}
	if b := cl.busy.head; b != nil && now.Sub(b.busy.since) >= busyGrace {
		return b
	}
	return nil
}

// evictOne closes the connection victimLocked picks, if any.
func (cl *connLimit) evictOne() {
	cl.mu.Lock()
	victim := cl.victimLocked(time.Now())
	if victim != nil {
		cl.forgetLocked(victim)
	}
	cl.mu.Unlock()
	if victim != nil {
		cl.evicted.Add(1)
		_ = victim.Conn.Close()
	}
}

func (cl *connLimit) forgetLocked(c *trackedConn) {
	if c.gone {
		return
	}
	c.gone = true
	cl.busy.remove(c)
	a := cl.addrs[c.addr]
	a.idle.remove(c)
	if a.open--; a.open == 0 {
		delete(cl.addrs, c.addr)
	}
	cl.open--
}

func (c *trackedConn) Close() error {
	c.limit.mu.Lock()
	c.limit.forgetLocked(c)
	c.limit.mu.Unlock()
	return c.Conn.Close()
}

// warn logs that the limit was reached, at most once a minute.
func (cl *connLimit) warn(action string) {
	now := time.Now().UnixNano()
	last := cl.lastWarn.Load()
	if now-last < int64(time.Minute) || !cl.lastWarn.CompareAndSwap(last, now) {
		return
	}
	cl.logger.Warn("client connection limit reached: "+action+" connections (logged at most once a minute)", "limit", cl.max)
}

// Open reports the connections open now.
func (cl *connLimit) Open() int {
	cl.mu.Lock()
	defer cl.mu.Unlock()
	return cl.open
}

type trackedConnKey struct{}

// connContext is the http.Server's ConnContext: it lets requests find
// their connection.
func (cl *connLimit) connContext(ctx context.Context, c net.Conn) context.Context {
	if t, ok := c.(*tls.Conn); ok {
		c = t.NetConn()
	}
	if tc, ok := c.(*trackedConn); ok {
		return context.WithValue(ctx, trackedConnKey{}, tc)
	}
	return ctx
}

// started moves the request's connection to the busy list; done moves it
// back when the request ends. Requests served without a tracked
// connection (a handler called directly) are not counted.
func (cl *connLimit) started(ctx context.Context) *trackedConn {
	tc, _ := ctx.Value(trackedConnKey{}).(*trackedConn)
	if tc == nil {
		return nil
	}
	cl.mu.Lock()
	defer cl.mu.Unlock()
	if tc.requests++; tc.requests == 1 && !tc.gone {
		cl.addrs[tc.addr].idle.remove(tc)
		cl.busy.pushBack(tc, time.Now())
	}
	return tc
}

func (cl *connLimit) done(tc *trackedConn) {
	if tc == nil {
		return
	}
	cl.mu.Lock()
	defer cl.mu.Unlock()
	if tc.requests--; tc.requests == 0 && !tc.gone {
		cl.busy.remove(tc)
		cl.addrs[tc.addr].idle.pushBack(tc, time.Now())
	}
}
