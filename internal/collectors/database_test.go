package collectors

import (
	"context"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode"

	"github.com/jackc/pgx/v5"

	"github.com/dbhealth/dbhealth-exporter/internal/health"
	"github.com/dbhealth/dbhealth-exporter/internal/pgtest"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

// newCheck returns the database check over a pool for dsn.
func newCheck(t *testing.T, dsn string, opts DatabaseOptions) *Database {
	t.Helper()
	return NewDatabase(newPool(t, dsn), opts)
}

// runCheck runs the check once under the default 2s timeout.
func runCheck(d *Database) (health.Result, *DatabaseDetails) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	res := d.Run(ctx)
	return res, res.Details.(*DatabaseDetails)
}

func TestDatabase_HealthyPrimary_ReportsVersionRecoveryAndLatency(t *testing.T) {
	cluster := pgtest.New(t)
	res, details := runCheck(newCheck(t, cluster.DSN("postgres"), DatabaseOptions{Expect: ExpectPrimary}))
	if !res.OK() {
		t.Fatalf("check failed: %v (%s)", res.Err, res.Reason)
	}
	if details.LastSeen == nil || details.InRecovery || !strings.HasPrefix(details.ServerVersion, "1") ||
		details.PingSeconds <= 0 || details.ConnectSeconds <= 0 || details.Database != "postgres" {
		t.Fatalf("details: %+v", details)
	}
	if details.Pool == nil || details.Pool.TotalConns() != 0 || details.Pool.NewConnsCount() != 1 {
		t.Fatalf("the run must open one connection and close it again: %+v", details.Pool)
	}
}

// failureCase is a way to make the database check fail on a real server:
// the DSN (and options), and the address its error must name.
type failureCase func(t *testing.T) (dsn string, opts DatabaseOptions, addr string)

func TestDatabase_FailureReasons_OnRealServers(t *testing.T) {
	prefer := func(dsn string) string { return strings.Replace(dsn, "sslmode=disable", "sslmode=prefer", 1) }
	cases := []struct {
		reason string
		phase  string // "" for a failure that is not the connection's
		setup  failureCase
	}{
		{ReasonRefused, phaseConnect, func(t *testing.T) (string, DatabaseOptions, string) {
			c := pgtest.New(t)
			c.Stop(t)
			return c.DSN("postgres"), DatabaseOptions{}, c.Addr()
		}},
		{ReasonRefused + " (sslmode=prefer)", phaseConnect, func(t *testing.T) (string, DatabaseOptions, string) {
			c := pgtest.New(t)
			c.Stop(t)
			return prefer(c.DSN("postgres")), DatabaseOptions{}, c.Addr()
		}},
		{ReasonRefused + " (unix socket)", phaseConnect, func(t *testing.T) (string, DatabaseOptions, string) {
			c := pgtest.New(t)
			c.Stop(t)
			return "host=" + c.SocketDir() + " port=" + itoa(c.Port()) + " user=postgres dbname=postgres", DatabaseOptions{},
				c.SocketDir() + "/.s.PGSQL." + itoa(c.Port())
		}},
		{ReasonAuthFailed, phaseAuth, func(t *testing.T) (string, DatabaseOptions, string) {
			c := pgtest.New(t)
			c.CreateRole(t, "app", "right-password")
			return c.RoleDSN("app", "wrong-password", "postgres"), DatabaseOptions{}, c.Addr()
		}},
		{ReasonAuthFailed + " (sslmode=prefer, server without TLS)", phaseAuth, func(t *testing.T) (string, DatabaseOptions, string) {
			c := pgtest.New(t)
			c.CreateRole(t, "app", "right-password")
			return prefer(c.RoleDSN("app", "wrong-password", "postgres")), DatabaseOptions{}, c.Addr()
		}},
		{ReasonAuthFailed + " (sslmode=prefer, server with TLS)", phaseAuth, func(t *testing.T) (string, DatabaseOptions, string) {
			c := pgtest.New(t, pgtest.WithSSL())
			c.CreateRole(t, "app", "right-password")
			return prefer(c.RoleDSN("app", "wrong-password", "postgres")), DatabaseOptions{}, c.Addr()
		}},
		{ReasonDatabaseMissing, phaseAuth, func(t *testing.T) (string, DatabaseOptions, string) {
			c := pgtest.New(t)
			c.Exec(t, "postgres", "CREATE DATABASE orders")
			c.Exec(t, "postgres", "DROP DATABASE orders")
			return c.DSN("orders"), DatabaseOptions{}, c.Addr()
		}},
		{ReasonTooManyConnections, phaseAuth, func(t *testing.T) (string, DatabaseOptions, string) {
			c := pgtest.New(t, pgtest.WithSetting("max_connections", "3"), pgtest.WithSetting("superuser_reserved_connections", "0"))
			for i := 0; i < 3; i++ {
				holdConnection(t, c.DSN("postgres"))
			}
			return prefer(c.DSN("postgres")), DatabaseOptions{}, c.Addr()
		}},
		{ReasonStartingUp, phaseAuth, func(t *testing.T) (string, DatabaseOptions, string) {
			c := pgtest.New(t, pgtest.WithHotStandbyOff())
			return prefer(c.DSN("postgres")), DatabaseOptions{}, c.Addr()
		}},
		{ReasonShuttingDown, phaseAuth, func(t *testing.T) (string, DatabaseOptions, string) {
			// A smart shutdown waits for open sessions and refuses new ones.
			c := pgtest.New(t)
			holdConnection(t, c.DSN("postgres"))
			if err := c.PgCtl("stop", "-m", "smart", "--no-wait"); err != nil {
				t.Fatal(err)
			}
			waitForLog(t, c, "received smart shutdown request")
			return prefer(c.DSN("postgres")), DatabaseOptions{}, c.Addr()
		}},
		{ReasonDNS, phaseDNS, func(t *testing.T) (string, DatabaseOptions, string) {
			return "postgres://postgres@db.invalid:5432/postgres", DatabaseOptions{}, "db.invalid:5432"
		}},
		{ReasonTLS, phaseTLS, func(t *testing.T) (string, DatabaseOptions, string) {
			c := pgtest.New(t)
			return strings.Replace(c.DSN("postgres"), "sslmode=disable", "sslmode=require", 1), DatabaseOptions{}, c.Addr()
		}},
		{ReasonTimeout, phaseAuth, func(t *testing.T) (string, DatabaseOptions, string) {
			c := pgtest.New(t)
			p := pgtest.NewProxy(t, c.Addr())
			p.Blackhole()
			return "postgres://postgres@" + p.Addr() + "/postgres?sslmode=disable", DatabaseOptions{}, p.Addr()
		}},
		{ReasonTimeout + " (sslmode=prefer)", phaseTLS, func(t *testing.T) (string, DatabaseOptions, string) {
			c := pgtest.New(t)
			p := pgtest.NewProxy(t, c.Addr())
			p.Blackhole()
			return "postgres://postgres@" + p.Addr() + "/postgres", DatabaseOptions{}, p.Addr()
		}},
		{ReasonReadOnly, "", func(t *testing.T) (string, DatabaseOptions, string) {
			c := pgtest.New(t, pgtest.WithStandby())
			return c.DSN("postgres"), DatabaseOptions{Expect: ExpectPrimary}, c.Addr()
		}},
	}
	for _, tc := range cases {
		t.Run(tc.reason, func(t *testing.T) {
			dsn, opts, addr := tc.setup(t)
			res, _ := runCheck(newCheck(t, dsn, opts))
			want, _, _ := strings.Cut(tc.reason, " ")
			if res.OK() || res.Reason != want {
				t.Fatalf("reason %q (err %v), want %q", res.Reason, res.Err, want)
			}
			t.Logf("error: %s", res.Err)
			if tc.phase != "" {
				checkFailureLine(t, res.Err.Error(), tc.phase, addr, want == ReasonTimeout)
			}
		})
	}
}

// checkFailureLine asserts what a connection failure's text must be: one
// line, starting with the phase and the address, no sentence twice, no
// TLS refusal hiding another cause, and for a timeout how long it took.
func checkFailureLine(t *testing.T, line, phase, addr string, timeout bool) {
	t.Helper()
	if strings.IndexFunc(line, unicode.IsControl) >= 0 {
		t.Errorf("control characters in %q", line)
	}
	if prefix := phase + " " + addr + ": "; !strings.HasPrefix(line, prefix) {
		t.Errorf("%q does not start with %q", line, prefix)
	}
	seen := map[string]bool{}
	for _, part := range regexp.MustCompile(`[:;,] `).Split(line, -1) {
		if len(part) >= 10 && seen[part] {
			t.Errorf("%q says %q twice", line, part)
		}
		seen[part] = true
	}
	if phase != phaseTLS && strings.Contains(line, "TLS") {
		t.Errorf("%q: the TLS fallback hides the cause", line)
	}
	if timeout {
		m := regexp.MustCompile(`timed out after (\S+) ` + regexp.QuoteMeta(doing[phase]) + `$`).FindStringSubmatch(line)
		if m == nil {
			t.Fatalf("%q does not say how long it waited, and for what", line)
		}
		if _, err := time.ParseDuration(m[1]); err != nil {
			t.Errorf("%q: duration %q", line, m[1])
		}
	}
}

func TestDatabase_Replica_IsOKUnlessAPrimaryIsExpected(t *testing.T) {
	c := pgtest.New(t, pgtest.WithStandby())
	res, details := runCheck(newCheck(t, c.DSN("postgres"), DatabaseOptions{}))
	if !res.OK() || details.LastSeen == nil || !details.InRecovery {
		t.Fatalf("replica without --db.expect-primary: %v, last seen %+v", res.Err, details.LastSeen)
	}
	res, details = runCheck(newCheck(t, c.DSN("postgres"), DatabaseOptions{Expect: ExpectPrimary}))
	if res.OK() || details.LastSeen == nil || !details.InRecovery {
		t.Fatalf("replica with --db.expect-primary must fail and still report in_recovery: %v", res.Err)
	}
}

// Writability: a primary in read-only mode fails where a primary is
// expected, with reason read_only; a read service can expect a replica,
// and a primary then fails with not_replica.
func TestDatabase_Expectations_ReadOnlyPrimaryAndReplicaForReads(t *testing.T) {
	primary := pgtest.New(t)
	primary.Exec(t, "postgres", "CREATE DATABASE frozen")
	primary.Exec(t, "postgres", "ALTER DATABASE frozen SET default_transaction_read_only = on")
	replica := pgtest.New(t, pgtest.WithReplicaOf(primary))
	cases := []struct {
		name, dsn, expect, reason string
		readOnly                  bool
	}{
		{"writable primary, primary expected", primary.DSN("postgres"), ExpectPrimary, "", false},
		{"read-only primary, primary expected", primary.DSN("frozen"), ExpectPrimary, ReasonReadOnly, true},
		{"read-only primary, any", primary.DSN("frozen"), ExpectAny, "", true},
		{"replica, primary expected", replica.DSN("postgres"), ExpectPrimary, ReasonReadOnly, true},
		{"replica, replica expected", replica.DSN("postgres"), ExpectReplica, "", true},
		{"primary, replica expected", primary.DSN("postgres"), ExpectReplica, ReasonNotReplica, false},
	}
	for _, tc := range cases {
		res, details := runCheck(newCheck(t, tc.dsn, DatabaseOptions{Expect: tc.expect}))
		if res.Reason != tc.reason || details.LastSeen == nil || details.ReadOnly != tc.readOnly {
			t.Errorf("%s: reason %q (%v), read_only %v; want reason %q, read_only %v", tc.name, res.Reason, res.Err, details.LastSeen, tc.reason, tc.readOnly)
		}
	}
}

func TestDatabase_RecoversByItselfAfterARestart(t *testing.T) {
	c := pgtest.New(t)
	check := newCheck(t, c.DSN("postgres"), DatabaseOptions{})
	steps := []struct {
		do     func()
		wantOK bool
	}{
		{func() {}, true},
		{func() { c.Stop(t) }, false},
		{func() { c.Start(t) }, true},
		{func() { c.Kill(t) }, false},
		{func() { c.Start(t) }, true},
	}
	for i, s := range steps {
		s.do()
		if res, _ := runCheck(check); res.OK() != s.wantOK {
			t.Fatalf("step %d: ok=%v (%v), want ok=%v", i, res.OK(), res.Err, s.wantOK)
		}
	}
}

// holdConnection opens a connection for the rest of the test.
func holdConnection(t *testing.T, dsn string) {
	t.Helper()
	conn, err := pgx.Connect(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
}

func waitForLog(t *testing.T, c *pgtest.Cluster, line string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(c.Log(), line) {
		if time.Now().After(deadline) {
			t.Fatalf("server log never said %q:\n%s", line, c.Log())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func itoa(n int) string { return strconv.Itoa(n) }

func TestDatabase_VerifyFullTLS_AgainstAClusterWithItsOwnCA(t *testing.T) {
	c := pgtest.New(t, pgtest.WithSSL())
	dsn := func(host, ca string) string {
		return "postgres://postgres@" + host + ":" + itoa(c.Port()) + "/postgres?sslmode=verify-full&sslrootcert=" + ca
	}
	if res, _ := runCheck(newCheck(t, dsn("localhost", c.CACertFile()), DatabaseOptions{})); !res.OK() {
		t.Fatalf("verify-full with the right CA and name: %v", res.Err)
	}
	other := t.TempDir() + "/other-ca.crt"
	if err := pgtest.NewCAFile(other); err != nil {
		t.Fatal(err)
	}
	for name, d := range map[string]string{
		"unknown CA":    dsn("localhost", other),
		"name mismatch": dsn("127.0.0.1", c.CACertFile()),
	} {
		if res, _ := runCheck(newCheck(t, d, DatabaseOptions{})); res.OK() || res.Reason != ReasonTLS {
			t.Errorf("%s: reason %q (%v), want tls", name, res.Reason, res.Err)
		}
	}
}
