package collectors

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/dbhealth/dbhealth-exporter/internal/health"
	"github.com/dbhealth/dbhealth-exporter/internal/pgtest"
)

// newPool returns the exporter's pool for dsn, closed when the test ends.
func newPool(t *testing.T, dsn string, opts ...PoolOption) *pgxpool.Pool {
	t.Helper()
	cfg, err := PoolConfig(dsn, opts...)
	if err != nil {
		t.Fatal(err)
	}
	pool, err := pgxpool.NewWithConfig(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	return pool
}

// runOnce runs a checker once under timeout, as the engine does.
func runOnce(c health.Checker, timeout time.Duration) health.Result {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	return c.Run(ctx)
}

func ptr[T any](v T) *T { return &v }

func TestConnections_FillingTheSlotsFailsWithTheReason_ReleasingClearsIt(t *testing.T) {
	// 10 slots, 3 reserved for superusers: 7 for the service's role.
	c := pgtest.New(t, pgtest.WithSetting("max_connections", "10"), pgtest.WithSetting("superuser_reserved_connections", "3"))
	check := NewConnections(newPool(t, c.DSN("postgres")), ConnectionsOptions{MaxUsedRatio: 0.8})
	res := runOnce(check, 2*time.Second)
	d := res.Details.(*ConnectionsDetails)
	if !res.OK() || d.Limit != 7 || d.MaxConnections != 10 || d.Used != 0 {
		t.Fatalf("an idle server: %v, %+v", res.Err, d)
	}
	var held []func()
	for range 6 { // 6 of 7 in use: above 80%
		held = append(held, hold(t, c.DSN("postgres")))
	}
	res = runOnce(check, 2*time.Second)
	if res.OK() || res.Reason != ReasonConnectionHeadroom || res.Details.(*ConnectionsDetails).Used != 6 ||
		!strings.Contains(res.Err.Error(), "6 of 7 connection slots in use") {
		t.Fatalf("6 of 7 slots held: %v (%s), %+v", res.Err, res.Reason, res.Details)
	}
	if res := runOnce(NewConnections(newPool(t, c.DSN("postgres")), ConnectionsOptions{MinFree: 2}), 2*time.Second); res.OK() || res.Reason != ReasonConnectionHeadroom {
		t.Fatalf("min_free 2 with 1 free: %v", res.Err)
	}
	for _, release := range held[:3] {
		release()
	}
	if res := runOnce(check, 2*time.Second); !res.OK() {
		t.Fatalf("after releasing 3: %v", res.Err)
	}
}

// hold opens a connection and returns a func closing it (also closed when
// the test ends).
func hold(t *testing.T, dsn string) func() {
	t.Helper()
	pool := newPool(t, dsn)
	conn, err := pool.Acquire(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	release := func() { conn.Release(); pool.Close() }
	t.Cleanup(release)
	return release
}

func TestCustom_FollowsTheTablesContents(t *testing.T) {
	c := pgtest.New(t)
	c.Exec(t, "postgres", "CREATE TABLE jobs (id serial, state text); CREATE SEQUENCE s")
	pool := newPool(t, c.DSN("postgres"))
	custom := func(opts CustomOptions) *Custom {
		t.Helper()
		check, err := NewCustom(pool, opts)
		if err != nil {
			t.Fatal(err)
		}
		return check
	}
	queue := custom(CustomOptions{SQL: "select count(*) < 3 from jobs where state = 'queued'"})
	depth := custom(CustomOptions{SQL: "select count(*) from jobs where state = 'queued'", Max: ptr(2.0)})
	stuck := custom(CustomOptions{SQL: "select id from jobs where state = 'stuck'", MaxRows: ptr(0)})
	value := func(res health.Result) float64 { return *res.Details.(*CustomDetails).Value }

	for _, check := range []*Custom{queue, depth, stuck} {
		if res := runOnce(check, time.Second); !res.OK() {
			t.Fatalf("an empty table: %q: %v", check.opts.SQL, res.Err)
		}
	}
	c.Exec(t, "postgres", "INSERT INTO jobs (state) SELECT 'queued' FROM generate_series(1, 3); INSERT INTO jobs (state) VALUES ('stuck')")
	if res := runOnce(queue, time.Second); res.OK() || res.Reason != ReasonQueryFalse || value(res) != 0 {
		t.Fatalf("boolean with 3 queued: %v (%s)", res.Err, res.Reason)
	}
	if res := runOnce(depth, time.Second); res.OK() || res.Reason != ReasonValueOutOfRange || value(res) != 3 ||
		res.Err.Error() != "value 3, want at most 2" {
		t.Fatalf("value with 3 queued: %v (%s)", res.Err, res.Reason)
	}
	if res := runOnce(stuck, time.Second); res.OK() || res.Reason != ReasonRowsOutOfRange || value(res) != 1 {
		t.Fatalf("rows with one stuck job: %v (%s)", res.Err, res.Reason)
	}
	c.Exec(t, "postgres", "DELETE FROM jobs")
	if res := runOnce(queue, time.Second); !res.OK() || value(res) != 1 {
		t.Fatalf("boolean after the queue drained: %v", res.Err)
	}

	for _, tc := range []struct {
		sql, reason, says string
	}{
		{"select nextval('s') > 0", ReasonSQLError, "read-only transaction"},
		{"select * from no_such_table", ReasonSQLError, "no_such_table"},
		{"select 1, 2", ReasonInvalidResult, "2 columns"},
		{"select 'yes'", ReasonInvalidResult, "want a boolean"},
		{"select true from jobs", ReasonInvalidResult, "no row"},
		{"select pg_sleep(5) is null", ReasonTimeout, ""},
	} {
		res := runOnce(custom(CustomOptions{SQL: tc.sql}), 300*time.Millisecond)
		if res.OK() || res.Reason != tc.reason || !strings.Contains(res.Err.Error(), tc.says) {
			t.Errorf("%q: %v (%s), want reason %s saying %q", tc.sql, res.Err, res.Reason, tc.reason, tc.says)
		}
	}
	var running int
	if err := pool.QueryRow(context.Background(), "select count(*) from pg_stat_activity where query like 'select pg_sleep%'").Scan(&running); err != nil || running != 0 {
		t.Fatalf("the timed-out query still runs on the server (%d, %v): statement_timeout must end it", running, err)
	}
}

func TestCustom_RefusesMoreThanOneStatementOrAWriteBeforeRunning(t *testing.T) {
	for sql, want := range map[string]string{
		"select 1; select 2":                "2 statements",
		"delete from jobs":                  "starts with DELETE",
		"select 1 into t":                   "contains INTO",
		"select 1 where true; drop table x": "2 statements",
	} {
		if _, err := NewCustom(nil, CustomOptions{SQL: sql}); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: %v, want %q", sql, err, want)
		}
	}
	if _, err := NewCustom(nil, CustomOptions{SQL: "select 1", Min: ptr(2.0), Max: ptr(1.0)}); err == nil {
		t.Error("min above max was accepted")
	}
	if _, err := NewCustom(nil, CustomOptions{SQL: "select 1", Max: ptr(2.0), MaxRows: ptr(1)}); err == nil {
		t.Error("a value bound and a row bound together were accepted")
	}
}

// On a real primary/replica pair: an idle pair has no lag; pausing replay
// while the primary writes makes the lag grow past max_lag, and resuming
// clears it.
func TestReplicationLag_OnARealReplica(t *testing.T) {
	primary := pgtest.New(t)
	primary.Exec(t, "postgres", "CREATE TABLE ticks (at timestamptz)")
	replica := pgtest.New(t, pgtest.WithReplicaOf(primary))
	const maxLag, interval = time.Second, 200 * time.Millisecond
	check := NewReplicationLag(newPool(t, replica.DSN("postgres")), ReplicationLagOptions{MaxLag: maxLag})
	lag := func(res health.Result) float64 { return *res.Details.(*ReplicationDetails).LagSeconds }

	// Idle for longer than max_lag: no lag.
	for range 8 {
		time.Sleep(interval)
		if res := runOnce(check, time.Second); !res.OK() || lag(res) != 0 {
			t.Fatalf("an idle pair: %v, lag %v", res.Err, lag(res))
		}
	}
	if res := runOnce(NewReplicationLag(newPool(t, primary.DSN("postgres")), ReplicationLagOptions{MaxLag: maxLag}), time.Second); !res.OK() || lag(res) != 0 {
		t.Fatalf("on the primary: %v, lag %v", res.Err, lag(res))
	}

	replica.Exec(t, "postgres", "SELECT pg_wal_replay_pause()")
	writes := make(chan struct{})
	go func() {
		defer close(writes)
		for range 40 {
			primary.Exec(t, "postgres", "INSERT INTO ticks VALUES (now())")
			time.Sleep(100 * time.Millisecond)
		}
	}()
	firstWrite := time.Now()
	var failedAfter time.Duration
	for time.Since(firstWrite) < 3*time.Second {
		res := runOnce(check, time.Second)
		if !res.OK() {
			if res.Reason != ReasonReplicationLag || !strings.Contains(res.Err.Error(), "replay is paused") {
				t.Fatalf("paused: %v (%s)", res.Err, res.Reason)
			}
			failedAfter = time.Since(firstWrite)
			break
		}
		time.Sleep(interval)
	}
	if failedAfter == 0 {
		t.Fatal("the lag never passed max_lag while replay was paused")
	}
	t.Logf("paused: failing %s after the first write (max_lag %s, interval %s)", failedAfter, maxLag, interval)
	if failedAfter < maxLag {
		t.Fatalf("failing %s after the first write, before the lag could pass max_lag %s", failedAfter, maxLag)
	}

	replica.Exec(t, "postgres", "SELECT pg_wal_replay_resume()")
	<-writes
	deadline := time.Now().Add(10 * time.Second)
	for {
		res := runOnce(check, time.Second)
		if res.OK() {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("still lagging after replay resumed: %v", res.Err)
		}
		time.Sleep(interval)
	}
}
