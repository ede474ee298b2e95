package web

import (
	"net/http"
	"net/netip"
	"sync"
	"time"
)

// maxAddrs bounds the addresses addrLimits remembers. Beyond it, addresses
// it has no room for share one bucket, so that a client with more
// addresses than this gains nothing by using them all.
const maxAddrs = 4096

// addrLimits is a token bucket per client address: burst tokens, one more
// every interval. Its lock is taken only on requests that already cost
// something (a bcrypt comparison, a rate-limited path), never on the cached
// path of an accepted scrape.
type addrLimits struct {
	every time.Duration
	burst int

	mu        sync.Mutex
	buckets   map[netip.Addr]*bucket
	overflow  bucket
	lastSweep time.Time
}

type bucket struct {
	tokens float64
	at     time.Time
}

func newAddrLimits(every time.Duration, burst int) *addrLimits {
	burst = max(burst, 1)
	return &addrLimits{every: every, burst: burst, buckets: map[netip.Addr]*bucket{},
		overflow: bucket{tokens: float64(burst)}}
}

// take spends one of addr's tokens; false when it has none left.
func (l *addrLimits) take(addr netip.Addr, now time.Time) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.bucketLocked(addr, now)
	l.refillLocked(b, now)
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}

// refund gives back the token of an attempt that turned out well.
func (l *addrLimits) refund(addr netip.Addr, now time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.bucketLocked(addr, now)
	l.refillLocked(b, now)
	b.tokens = min(b.tokens+1, float64(l.burst))
}

func (l *addrLimits) refillLocked(b *bucket, now time.Time) {
	if elapsed := now.Sub(b.at); elapsed > 0 {
		b.tokens = min(float64(l.burst), b.tokens+float64(elapsed)/float64(l.every))
		b.at = now
	}
}

// bucketLocked finds or makes addr's bucket. When the map is full it first
// forgets the buckets that have refilled (they hold nothing a new bucket
// would not), at most once a second; if it is still full, addr shares the
// overflow bucket.
func (l *addrLimits) bucketLocked(addr netip.Addr, now time.Time) *bucket {
	if b, ok := l.buckets[addr]; ok {
		return b
	}
	if len(l.buckets) >= maxAddrs && now.Sub(l.lastSweep) >= time.Second {
		l.lastSweep = now
		for a, b := range l.buckets {
			if l.refillLocked(b, now); b.tokens >= float64(l.burst) {
				delete(l.buckets, a)
			}
		}
	}
	if len(l.buckets) >= maxAddrs {
		return &l.overflow
	}
	b := &bucket{tokens: float64(l.burst), at: now}
	l.buckets[addr] = b
	return b
}

// clientAddr is the address a request's limits are kept under: the peer's
// IP address (never a forwarded-for header, which the client writes), an
// IPv6 address reduced to its /64, the smallest block a host is usually
// given.
func clientAddr(r *http.Request) netip.Addr {
	ap, err := netip.ParseAddrPort(r.RemoteAddr)
	if err != nil {
		return netip.Addr{}
	}
	return limitKey(ap.Addr())
}

// limitKey is a's IPv4 address, or its IPv6 /64.
func limitKey(a netip.Addr) netip.Addr {
	a = a.Unmap()
	if a.Is6() {
		if p, err := a.Prefix(64); err == nil {
			return p.Addr()
		}
	}
	return a
}
