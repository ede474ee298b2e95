package testtools

import (
	"net"
	"testing"
)

// FreeAddr is a loopback TCP address nothing listens on (a port the kernel
// just handed out and released).
func FreeAddr(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}
