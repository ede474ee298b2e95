package pgtest_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/dbhealth/dbhealth-exporter/internal/pgtest"
)

func sqlState(err error) string {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return pgErr.Code
	}
	return ""
}

func TestNewStartsAWorkingCluster(t *testing.T) {
	t.Parallel()
	c := pgtest.New(t, pgtest.WithSetting("max_connections", "7"), pgtest.WithSetting("cluster_name", `it's a \test`))

	if c.Host() != "127.0.0.1" || c.Addr() != fmt.Sprintf("127.0.0.1:%d", c.Port()) {
		t.Errorf("Host/Addr = %q/%q, port %d", c.Host(), c.Addr(), c.Port())
	}
	conn := connect(t, c.DSN("postgres"))
	if got := queryString(t, conn, "SELECT 1::text"); got != "1" {
		t.Errorf("SELECT 1 = %q", got)
	}
	if got := queryString(t, conn, "SHOW max_connections"); got != "7" {
		t.Errorf("max_connections = %q, want 7 (WithSetting)", got)
	}
	if got := queryString(t, conn, "SHOW cluster_name"); got != `it's a \test` {
		t.Errorf("cluster_name = %q (quoting in WithSetting)", got)
	}
	if got := queryString(t, conn, "SELECT pg_is_in_recovery()::text"); got != "false" {
		t.Errorf("pg_is_in_recovery() = %s on a primary", got)
	}

	// Unix socket, trusted.
	sock := connect(t, fmt.Sprintf("host=%s port=%d user=postgres dbname=postgres", c.SocketDir(), c.Port()))
	if got := queryString(t, sock, "SELECT current_user::text"); got != "postgres" {
		t.Errorf("current_user over the socket = %q", got)
	}

	// NewDatabase + Exec.
	dsn := c.NewDatabase(t)
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(cfg.Database, "t_") || cfg.Port != uint16(c.Port()) || cfg.User != "postgres" {
		t.Errorf("NewDatabase DSN %q", dsn)
	}
	c.Exec(t, cfg.Database, "CREATE TABLE x (i int); INSERT INTO x VALUES (1), (2)")
	if got := queryString(t, connect(t, dsn), "SELECT count(*)::text FROM x"); got != "2" {
		t.Errorf("count = %s", got)
	}

	if _, err := os.Stat(filepath.Join(c.DataDir(), "PG_VERSION")); err != nil {
		t.Errorf("DataDir: %v", err)
	}
	if !strings.Contains(c.Log(), "database system is ready to accept connections") {
		t.Errorf("Log() lacks the ready message:\n%s", c.Log())
	}
	if err := c.PgCtl("status"); err != nil {
		t.Errorf("PgCtl(status): %v", err)
	}
}

func TestStopStart(t *testing.T) {
	t.Parallel()
	c := pgtest.New(t)
	port := c.Port()
	conn := connect(t, c.DSN("postgres"))

	c.Stop(t)
	err := tryConnect(c.DSN("postgres"), 5*time.Second)
	if !errors.Is(err, syscall.ECONNREFUSED) {
		t.Fatalf("connect after Stop: %v, want ECONNREFUSED", err)
	}
	if _, err := conn.Exec(context.Background(), "SELECT 1"); err == nil {
		t.Errorf("query on a connection opened before Stop succeeded")
	}

	c.Start(t)
	if c.Port() != port {
		t.Errorf("port changed from %d to %d", port, c.Port())
	}
	if got := queryString(t, connect(t, c.DSN("postgres")), "SHOW port"); got != fmt.Sprint(port) {
		t.Errorf("server port after Start = %s, want %d", got, port)
	}
}

func TestKillStart(t *testing.T) {
	t.Parallel()
	c := pgtest.New(t)
	conn := connect(t, c.DSN("postgres"))

	c.Kill(t)
	if _, err := conn.Exec(context.Background(), "SELECT 1"); err == nil {
		t.Errorf("query on a connection opened before Kill succeeded")
	}
	if err := tryConnect(c.DSN("postgres"), 5*time.Second); !errors.Is(err, syscall.ECONNREFUSED) {
		t.Fatalf("connect after Kill: %v, want ECONNREFUSED", err)
	}
	c.Start(t)
	if got := queryString(t, connect(t, c.DSN("postgres")), "SELECT 1::text"); got != "1" {
		t.Errorf("SELECT 1 = %q", got)
	}
	if !strings.Contains(c.Log(), "not properly shut down") {
		t.Errorf("no crash recovery in the log after Kill/Start:\n%s", c.Log())
	}

	// Again, with a database created by NewDatabase still around.
	c.NewDatabase(t)
	c.Kill(t)
	c.Start(t)
	connect(t, c.DSN("postgres"))
}

func TestPgCtl(t *testing.T) {
	t.Parallel()
	c := pgtest.New(t)
	if err := c.PgCtl("stop", "-m", "smart", "--no-wait"); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for !errors.Is(tryConnect(c.DSN("postgres"), time.Second), syscall.ECONNREFUSED) {
		if time.Now().After(deadline) {
			t.Fatal("server still accepts connections 10s after a smart stop")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err := c.PgCtl("start", "-w"); err != nil { // -l <server log> is added
		t.Fatal(err)
	}
	connect(t, c.DSN("postgres"))
	if err := c.PgCtl("no-such-command"); err == nil {
		t.Error("PgCtl with a bad command returned nil")
	}
}

func TestWithStandby(t *testing.T) {
	t.Parallel()
	c := pgtest.New(t, pgtest.WithStandby())
	conn := connect(t, c.DSN("postgres"))
	if got := queryString(t, conn, "SELECT pg_is_in_recovery()::text"); got != "true" {
		t.Errorf("pg_is_in_recovery() = %s, want true", got)
	}
	_, err := conn.Exec(context.Background(), "CREATE TABLE x (i int)")
	if sqlState(err) != "25006" {
		t.Errorf("CREATE TABLE on a standby: %v, want SQLSTATE 25006", err)
	}
}

func TestWithHotStandbyOff(t *testing.T) {
	t.Parallel()
	start := time.Now()
	c := pgtest.New(t, pgtest.WithHotStandbyOff())
	t.Logf("New(WithHotStandbyOff) took %v", time.Since(start))
	if err := tryConnect(c.DSN("postgres"), 5*time.Second); sqlState(err) != "57P03" {
		t.Fatalf("connect: %v, want SQLSTATE 57P03", err)
	}
	c.Stop(t)
	if err := tryConnect(c.DSN("postgres"), 5*time.Second); !errors.Is(err, syscall.ECONNREFUSED) {
		t.Fatalf("connect after Stop: %v, want ECONNREFUSED", err)
	}
	c.Start(t)
	if err := tryConnect(c.DSN("postgres"), 5*time.Second); sqlState(err) != "57P03" {
		t.Fatalf("connect after Start: %v, want SQLSTATE 57P03", err)
	}
}

func TestCreateRole(t *testing.T) {
	t.Parallel()
	c := pgtest.New(t)
	c.CreateRole(t, "Alice", "s3cr'et pw")

	err := tryConnect(c.RoleDSN("Alice", "wrong", "postgres"), 5*time.Second)
	if sqlState(err) != "28P01" {
		t.Fatalf("connect with a wrong password: %v, want SQLSTATE 28P01", err)
	}
	err = tryConnect(c.RoleDSN("Alice", "", "postgres"), 5*time.Second)
	if err == nil {
		t.Fatalf("connect without a password succeeded")
	}
	conn := connect(t, c.RoleDSN("Alice", "s3cr'et pw", "postgres"))
	if got := queryString(t, conn, "SELECT current_user::text"); got != "Alice" {
		t.Errorf("current_user = %q", got)
	}
	if got := queryString(t, conn, "SELECT usesuper::text FROM pg_user WHERE usename = current_user"); got != "false" {
		t.Errorf("role is superuser: %s", got)
	}
}
