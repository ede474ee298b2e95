package collectors

import (
	"context"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/dbhealth/dbhealth-exporter/internal/pgtest"
	"github.com/dbhealth/dbhealth-exporter/internal/testtools"
)

// connectError is the error a check run with timeout gets from the pool
// for dsn, exactly as WithFreshConn sees it before describing it.
func connectError(t *testing.T, dsn string, timeout time.Duration) error {
	t.Helper()
	pool := newPool(t, dsn, WithConnectTimeout(timeout))
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	conn, err := acquire(ctx, pool)
	if err == nil {
		conn.Release()
		t.Fatalf("%s: connected", dsn)
	}
	return err
}

// queryError is the error pgx returns for sql on a connection to dsn
// under timeout.
func queryError(t *testing.T, dsn, sql string, timeout time.Duration) error {
	t.Helper()
	conn, err := pgx.Connect(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	_, err = conn.Exec(ctx, sql)
	if err == nil {
		t.Fatalf("%s: no error", sql)
	}
	return err
}

// The formatter is a pure function; its inputs here are the errors pgx
// returns against real servers (captured in the test, not built by hand:
// pgconn's per-attempt errors are unexported), so each case shows what the
// check really says.
func TestDescribe_RealConnectAndQueryErrors_OneClauseWithPhaseAddressAndCause(t *testing.T) {
	plain := pgtest.New(t)
	plain.CreateRole(t, "app", "right")
	withSSL := pgtest.New(t, pgtest.WithSSL())
	withSSL.CreateRole(t, "app", "right")
	stopped := pgtest.New(t)
	stopped.Stop(t)
	hole := pgtest.NewProxy(t, plain.Addr())
	hole.Blackhole()
	nothing := testtools.FreeAddr(t)

	// The black hole and the sleeping query time out at hang, long enough
	// for a busy machine to dial first; the other errors are captured under
	// a deadline they never meet. How long a run took is describe's input,
	// not something it measures: every case says 80ms.
	const hang, long, elapsed = time.Second, 10 * time.Second, 80 * time.Millisecond
	prefer := func(dsn string) string { return strings.Replace(dsn, "sslmode=disable", "sslmode=prefer", 1) }
	at := func(phase, addr string) where { return where{phase: phase, addr: addr, elapsed: elapsed} }
	connect := at(phaseConnect, "configured:5432") // never shown: the errors name their addresses

	cases := []struct {
		name string
		err  error
		at   where
		want string
	}{
		{"refused, sslmode=prefer: one attempt with TLS and one without",
			connectError(t, prefer(stopped.DSN("postgres")), long), connect,
			"connect " + stopped.Addr() + ": connection refused"},
		{"refused on two hosts",
			connectError(t, fmt.Sprintf("host=127.0.0.1,127.0.0.1 port=%d,%s user=postgres", stopped.Port(), port(nothing)), long), connect,
			"connect " + stopped.Addr() + ", " + nothing + ": connection refused"},
		{"auth failed, sslmode=prefer, server without TLS: the retry without TLS tells",
			connectError(t, prefer(plain.RoleDSN("app", "wrong", "postgres")), long), connect,
			"auth " + plain.Addr() + `: FATAL: password authentication failed for user "app" (SQLSTATE 28P01)`},
		{"auth failed, sslmode=prefer, server with TLS",
			connectError(t, prefer(withSSL.RoleDSN("app", "wrong", "postgres")), long), connect,
			"auth " + withSSL.Addr() + `: FATAL: password authentication failed for user "app" (SQLSTATE 28P01)`},
		{"auth failed through a host name: the name is kept beside the address",
			connectError(t, strings.Replace(prefer(plain.RoleDSN("app", "wrong", "postgres")), "127.0.0.1", "localhost", 1), long), connect,
			"auth " + plain.Addr() + ` (localhost): FATAL: password authentication failed for user "app" (SQLSTATE 28P01)`},
		{"a database name with a tab and a newline: no control character survives",
			connectError(t, fmt.Sprintf("host=127.0.0.1 port=%d user=postgres dbname='no\tsuch\ndb'", plain.Port()), long), connect,
			"auth " + plain.Addr() + `: FATAL: database "no such db" does not exist (SQLSTATE 3D000)`},
		{"sslmode=require, server without TLS",
			connectError(t, strings.Replace(plain.DSN("postgres"), "sslmode=disable", "sslmode=require", 1), long), connect,
			"tls " + plain.Addr() + ": server refused TLS connection"},
		{"sslmode=verify-full, certificate of another CA",
			connectError(t, fmt.Sprintf("postgres://postgres@localhost:%d/postgres?sslmode=verify-full&sslrootcert=%s", withSSL.Port(), otherCA(t)), long), connect,
			"tls " + withSSL.Addr() + " (localhost): tls: failed to verify certificate: x509: certificate signed by unknown authority"},
		{"unknown host, sslmode=prefer: one lookup per attempt",
			connectError(t, "postgres://postgres@db.invalid:5432/postgres", long), connect,
			"dns db.invalid:5432: no such host"},
		{"accepted and never answered, sslmode=prefer: hangs in the TLS request",
			connectError(t, "postgres://postgres@"+hole.Addr()+"/postgres", hang), connect,
			"tls " + hole.Addr() + ": timed out after 80ms negotiating TLS"},
		{"accepted and never answered, sslmode=disable: hangs in the startup",
			connectError(t, "postgres://postgres@"+hole.Addr()+"/postgres?sslmode=disable", hang), connect,
			"auth " + hole.Addr() + ": timed out after 80ms waiting for the server during startup and authentication"},
		{"a query the server rejects",
			queryError(t, plain.DSN("postgres"), "SELECT 1/0", long), at(phaseQuery, plain.Addr()),
			"query " + plain.Addr() + ": ERROR: division by zero (SQLSTATE 22012)"},
		{"a query that outlives the deadline",
			queryError(t, plain.DSN("postgres"), "SELECT pg_sleep(5)", hang), at(phaseQuery, plain.Addr()),
			"query " + plain.Addr() + ": timed out after 80ms waiting for the query's answer"},
		{"no connection from the pool in time",
			context.DeadlineExceeded, at(phaseConnect, "db:5432"),
			"connect db:5432: timed out after 80ms connecting"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := describe(tc.err, tc.at)
			if got != tc.want {
				t.Errorf("describe:\n got %q\nwant %q\npgx said %q", got, tc.want, tc.err.Error())
			}
		})
	}
}

func port(addr string) string {
	_, p, _ := net.SplitHostPort(addr)
	return p
}

// otherCA is the file of a CA that signed no certificate of ours.
func otherCA(t *testing.T) string {
	t.Helper()
	path := t.TempDir() + "/other-ca.crt"
	if err := pgtest.NewCAFile(path); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestDescribe_Durations_ThreeFigures(t *testing.T) {
	for d, want := range map[time.Duration]string{
		80*time.Millisecond + 400*time.Microsecond: "80ms",
		2*time.Second + time.Millisecond:           "2s",
		2*time.Second + 512*time.Millisecond:       "2.51s",
	} {
		if got := roundDuration(d).String(); got != want {
			t.Errorf("roundDuration(%s) = %s, want %s", d, got, want)
		}
	}
}
