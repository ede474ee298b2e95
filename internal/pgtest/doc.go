// Package pgtest starts real, throwaway PostgreSQL clusters for tests. There
// are no mocks: every test talks to a real postmaster.
//
// # Usage
//
//	func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }
//
//	func TestQueries(t *testing.T) {
//		dsn := pgtest.Shared(t).NewDatabase(t) // fresh database, dropped afterwards
//		conn, err := pgx.Connect(context.Background(), dsn)
//		...
//	}
//
//	func TestServerRestart(t *testing.T) {
//		c := pgtest.New(t) // private cluster: this test may stop, kill and restart it
//		c.Stop(t)          // connects now fail with ECONNREFUSED
//		c.Start(t)         // same port and socket directory as before
//		c.Kill(t)          // SIGKILL, like a crash; Start recovers
//		c.Start(t)
//	}
//
//	func TestNetworkOutage(t *testing.T) {
//		c := pgtest.New(t)
//		p := pgtest.NewProxy(t, c.Addr()) // point the code under test at p.Addr()
//		p.Blackhole()                     // connects hang until the client's timeout
//		p.Refuse()                        // connects fail with ECONNREFUSED
//		p.Restore()
//	}
//
// Other options: WithSetting adds postgresql.conf lines, WithStandby starts a
// read-only hot standby (pg_is_in_recovery() is true), WithHotStandbyOff a
// standby that refuses connections with SQLSTATE 57P03. CreateRole and
// RoleDSN give a password-authenticated (scram-sha-256) role.
//
// # Where the server comes from
//
// The server binaries are taken from $PG_BINDIR, else `pg_config --bindir`,
// else /usr/lib/postgresql/<version>/bin and similar places. If none is
// found the test fails (it never skips) with instructions to install them
// (`apt-get install -y postgresql`). As root, initdb, pg_ctl and postgres
// run as the `postgres` user.
//
// Shared returns one cluster per test binary, started on first use and
// stopped by Main. If DBHEALTH_TEST_DSN is set, Shared instead returns the
// existing server it names (a role allowed to create databases); New always
// starts a local cluster.
//
// # Speed
//
// initdb runs once per machine and PostgreSQL major version: the result is
// kept as a template (dbhealth-pgtest-template-<major>-uid<uid>, built under
// a file lock and published by rename, so parallel test binaries share it)
// and every cluster is a copy of it, started with fsync, synchronous_commit
// and full_page_writes off, a unix socket in its own directory and TCP on a
// free port of 127.0.0.1. Starting a cluster takes about 100ms.
//
// Templates and clusters live in $DBHEALTH_PGTEST_DIR if set, else in
// /dev/shm if it is a tmpfs with at least 2GiB free (copying the template
// there is ~10x faster than to a disk-backed /tmp), else in os.TempDir().
//
// # Cleanup
//
// Clusters from New are stopped (immediate mode) and removed in t.Cleanup,
// the shared one by Main. Each cluster directory (dbhealth-pgtest-run-*)
// records the pid of the test process that owns it. If that process dies
// without cleaning up (`go test -timeout`, ^C, os.Exit, SIGKILL), a small
// watchdog shell process it started stops those clusters at once, and the
// next Main (or New) removes any directory whose owner is dead.
//
// # Proxy
//
// Proxy.Connections counts TCP connections, and a pgx connection that fails
// in the middle of a query (e.g. reset by Refuse, or timing out in a
// Blackhole) is closed by pgx with a CancelRequest sent over a new TCP
// connection, which the proxy counts too if it is forwarding by then.
//
// # Authentication
//
// pg_hba.conf trusts unix-socket connections and TCP connections of the
// superuser postgres; every other role must authenticate over TCP with
// scram-sha-256, so a wrong password fails with SQLSTATE 28P01.
package pgtest
