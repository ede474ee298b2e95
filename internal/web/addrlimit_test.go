package web

import (
	"net/http"
	"net/netip"
	"testing"
	"time"
)

func TestAddrLimits_BurstThenOnePerInterval(t *testing.T) {
	l := newAddrLimits(time.Second, 3)
	a := netip.MustParseAddr("10.0.0.1")
	b := netip.MustParseAddr("10.0.0.2")
	t0 := time.Unix(1000, 0)
	for i := range 3 {
		if !l.take(a, t0) {
			t.Fatalf("token %d of the burst refused", i+1)
		}
	}
	if l.take(a, t0) {
		t.Error("a fourth token at once")
	}
	if !l.take(b, t0) {
		t.Error("another address shares the first one's bucket")
	}
	if l.take(a, t0.Add(900*time.Millisecond)) {
		t.Error("a token before the interval passed")
	}
	if !l.take(a, t0.Add(time.Second)) {
		t.Error("no token after the interval")
	}
	l.refund(a, t0.Add(time.Second))
	if !l.take(a, t0.Add(time.Second)) {
		t.Error("a refunded token cannot be taken again")
	}
	if !l.take(a, t0.Add(time.Hour)) || !l.take(a, t0.Add(time.Hour)) || !l.take(a, t0.Add(time.Hour)) || l.take(a, t0.Add(time.Hour)) {
		t.Error("tokens accumulate beyond the burst")
	}
}

// The map of addresses is bounded: past maxAddrs, refilled buckets are
// forgotten, and addresses still without room share one bucket.
func TestAddrLimits_Bounded(t *testing.T) {
	l := newAddrLimits(time.Second, 1)
	t0 := time.Unix(1000, 0)
	for i := range maxAddrs + 100 {
		l.take(netip.AddrFrom4([4]byte{10, byte(i >> 16), byte(i >> 8), byte(i)}), t0)
	}
	if n := len(l.buckets); n > maxAddrs {
		t.Fatalf("%d buckets", n)
	}
	// A second later every bucket has refilled: a new address finds room.
	late := netip.MustParseAddr("192.0.2.1")
	if !l.take(late, t0.Add(time.Second)) {
		t.Error("a new address refused after the others refilled")
	}
	if _, ok := l.buckets[late]; !ok || len(l.buckets) > maxAddrs {
		t.Errorf("no room made: %d buckets", len(l.buckets))
	}
}

func TestClientAddr(t *testing.T) {
	for remote, want := range map[string]string{
		"127.0.0.2:4000":             "127.0.0.2",
		"[::ffff:192.0.2.7]:80":      "192.0.2.7",
		"[2001:db8:1:2:3:4:5:6]:443": "2001:db8:1:2::",
		"[2001:db8:1:2:ffff::1]:443": "2001:db8:1:2::",
		"[fe80::1%eth0]:9720":        "fe80::",
		"not an address":             "invalid IP",
	} {
		got := clientAddr(&http.Request{RemoteAddr: remote}).String()
		if got != want {
			t.Errorf("%s: %s, want %s", remote, got, want)
		}
	}
}
