package pgtest_test

import (
	"context"
	"errors"
	"net"
	"os"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/dbhealth/dbhealth-exporter/internal/pgtest"
)

func TestProxy(t *testing.T) {
	t.Parallel()
	cfg, err := pgx.ParseConfig(pgtest.Shared(t).NewDatabase(t))
	if err != nil {
		t.Fatal(err)
	}
	p := pgtest.NewProxy(t, net.JoinHostPort(cfg.Host, strconv.Itoa(int(cfg.Port))))
	if p.Addr() != "127.0.0.1:"+strconv.Itoa(p.Port()) {
		t.Errorf("Addr %q, Port %d", p.Addr(), p.Port())
	}
	viaProxy := func(timeout time.Duration) (*pgx.Conn, error) {
		c := cfg.Copy()
		c.Host, c.Port, c.Fallbacks = "127.0.0.1", uint16(p.Port()), nil
		ctx, cancel := context.WithTimeout(context.Background(), timeout)
		defer cancel()
		conn, err := pgx.ConnectConfig(ctx, c)
		if err == nil {
			t.Cleanup(func() { conn.Close(context.Background()) })
		}
		return conn, err
	}
	mustQuery := func(conn *pgx.Conn) {
		t.Helper()
		if _, err := conn.Exec(context.Background(), "SELECT 1"); err != nil {
			t.Fatalf("query via proxy: %v", err)
		}
	}
	wantCount := func(n int64) {
		t.Helper()
		if got := p.Connections(); got != n {
			t.Errorf("Connections() = %d, want %d", got, n)
		}
	}

	wantCount(0)
	c1, err := viaProxy(5 * time.Second)
	if err != nil {
		t.Fatal(err)
	}
	mustQuery(c1)
	c2, err := viaProxy(5 * time.Second)
	if err != nil {
		t.Fatal(err)
	}
	mustQuery(c2)
	wantCount(2)

	// Refuse: connects are refused and open connections are reset.
	p.Refuse()
	if _, err := viaProxy(5 * time.Second); !errors.Is(err, syscall.ECONNREFUSED) {
		t.Fatalf("connect while refusing: %v, want ECONNREFUSED", err)
	}
	if err := rawQuery(c1, 2*time.Second); err == nil || errors.Is(err, os.ErrDeadlineExceeded) {
		t.Errorf("query on an open connection after Refuse: %v, want it reset", err)
	}
	wantCount(2)

	p.Restore()
	c3, err := viaProxy(5 * time.Second)
	if err != nil {
		t.Fatalf("connect after Restore: %v", err)
	}
	mustQuery(c3)
	wantCount(3)

	// Blackhole: connects hang until the client's deadline, and so do
	// queries on open connections.
	p.Blackhole()
	start := time.Now()
	_, err = viaProxy(300 * time.Millisecond)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("connect while blackholed: %v, want a timeout", err)
	}
	if d := time.Since(start); d < 300*time.Millisecond || d > 3*time.Second {
		t.Errorf("blackholed connect failed after %v, want ~300ms", d)
	}
	if err := rawQuery(c3, 300*time.Millisecond); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Errorf("query on an open connection while blackholed: %v, want a timeout", err)
	}
	wantCount(3)

	p.Restore()
	c4, err := viaProxy(5 * time.Second)
	if err != nil {
		t.Fatalf("connect after Restore from Blackhole: %v", err)
	}
	mustQuery(c4)
	wantCount(4)

	// Blackhole right after Refuse listens again.
	p.Refuse()
	p.Blackhole()
	if _, err := viaProxy(300 * time.Millisecond); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("connect while blackholed after Refuse: %v, want a timeout", err)
	}
	p.Restore()
	if _, err := viaProxy(5 * time.Second); err != nil {
		t.Fatalf("connect after Restore: %v", err)
	}
	wantCount(5)
}

// rawQuery sends "SELECT 1" on conn's socket and waits for the first byte of
// the answer. It bypasses pgx on purpose: when a query fails on a broken
// connection pgx closes it asynchronously and sends a CancelRequest over a
// new TCP connection, which the proxy would count (nondeterministically).
func rawQuery(conn *pgx.Conn, timeout time.Duration) error {
	nc := conn.PgConn().Conn()
	nc.SetDeadline(time.Now().Add(timeout))
	defer nc.SetDeadline(time.Time{})
	q := append([]byte{'Q', 0, 0, 0, 13}, "SELECT 1\x00"...)
	if _, err := nc.Write(q); err != nil {
		return err
	}
	_, err := nc.Read(make([]byte, 1))
	return err
}

func TestProxyToStoppedServer(t *testing.T) {
	t.Parallel()
	c := pgtest.New(t)
	p := pgtest.NewProxy(t, c.Addr())
	c.Stop(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, err := pgx.Connect(ctx, "postgres://postgres@"+p.Addr()+"/postgres?sslmode=disable")
	if err == nil {
		t.Fatal("connect through a proxy to a stopped server succeeded")
	}
	if p.Connections() != 0 {
		t.Errorf("Connections() = %d, want 0: nothing reached the server", p.Connections())
	}
}
