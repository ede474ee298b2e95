package exporter_test

import (
	"strings"
	"testing"
	"time"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/dbhealth/dbhealth-exporter/internal/exporter"
	"github.com/dbhealth/dbhealth-exporter/internal/pgtest"
	"github.com/dbhealth/dbhealth-exporter/internal/testtools"
)

func ptr[T any](v T) *T { return &v }

// A custom check flows through the same snapshot as the built-in ones: its
// own readiness path and verbose line, the dbhealth_check_* families, its
// value, and its span carrying its SQL; the rows it reads appear nowhere.
func TestCustomChecks_AreChecksLikeAnyOther(t *testing.T) {
	cluster := pgtest.New(t)
	cluster.Exec(t, "postgres", "CREATE TABLE jobs (state text, payload text)")
	rec := tracetest.NewSpanRecorder()
	// A timeout roomy enough that no run times out on a loaded machine: the
	// assertions read one snapshot, whose every check must have reached
	// the database.
	cfg := schedule(cluster.DSN("postgres"), time.Second, 900*time.Millisecond)
	cfg.Checks.Custom = []exporter.Custom{
		{Name: "jobs_queue", SQL: "select count(*) < 2 from jobs where state = 'queued'"},
		{Name: "queue_depth", SQL: "select count(*) from jobs where state = 'queued'", Max: ptr(5.0), Check: exporter.Check{Critical: ptr(false)}},
		{Name: "stuck", SQL: "select payload from jobs where state = 'stuck'", MaxRows: ptr(0), Check: exporter.Check{Critical: ptr(false)}},
	}
	log := &testtools.Buffer{}
	ex := startInProcess(t, cfg, exporter.WithTracerProvider(sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))), exporter.WithLogOutput(log))
	until(t, "ready", 10*time.Second, func() bool { s, _ := ex.readiness(t); return s == "ready" })

	cluster.Exec(t, "postgres", "INSERT INTO jobs VALUES ('queued', 'row-data-1'), ('queued', 'row-data-2'), ('stuck', 'row-data-3')")
	inserted := time.Now()
	until(t, "every custom check run since the insert", 10*time.Second, func() bool {
		snap := ex.Snapshot()
		for _, name := range []string{"jobs_queue", "queue_depth", "stuck"} {
			if c, _ := snap.Check(name); c.Last == nil || c.Last.Started.Before(inserted) {
				return false
			}
		}
		return true
	})
	if code, _ := ex.get(t, "/readyz/jobs_queue"); code != 503 {
		t.Fatalf("/readyz/jobs_queue: %d after the queue filled", code)
	}
	_, verbose := ex.get(t, "/readyz?verbose")
	for _, line := range []string{"[-]jobs_queue failed: the query returned false\n", "[+]queue_depth ok\n", "[-]stuck failed (not critical): 1 rows, want at most 0\n"} {
		if !strings.Contains(verbose, line) {
			t.Errorf("/readyz?verbose lacks %q:\n%s", line, verbose)
		}
	}
	_, metrics := ex.get(t, "/metrics")
	for _, series := range []string{
		`dbhealth_check_value{check="queue_depth",target="default"} 2`,
		`dbhealth_check_value{check="jobs_queue",target="default"} 0`,
		`dbhealth_check_value{check="stuck",target="default"} 1`,
		`dbhealth_check_success{check="jobs_queue",target="default"} 0`,
		`dbhealth_check_critical{check="stuck",target="default"} 0`,
		`dbhealth_check_failures_total{check="jobs_queue",reason="query_false",target="default"}`,
	} {
		if !strings.Contains(metrics, series) {
			t.Errorf("/metrics lacks %s", series)
		}
	}
	var withSQL bool
	for _, s := range rec.Ended() {
		if s.Name() == "check jobs_queue" {
			for _, a := range s.Attributes() {
				withSQL = withSQL || a.Key == "dbhealth.check.sql" && a.Value.AsString() == cfg.Checks.Custom[0].SQL
			}
		}
	}
	if !withSQL {
		t.Error("no span of jobs_queue carries its SQL")
	}
	var everything strings.Builder
	for _, p := range []string{"/readyz", "/readyz?verbose", "/readyz/stuck", "/metrics", "/"} {
		_, body := ex.get(t, p)
		everything.WriteString(body)
	}
	everything.WriteString(log.String())
	if strings.Contains(everything.String(), "row-data") {
		t.Fatal("a row's data appears in a probe, the metrics or the log")
	}
}

// On a real primary/replica pair, an exporter watching the replica with a
// replication lag check: ready while the pair is idle, not ready once the
// lag passes max_lag while replay is paused and the primary writes, ready
// again after replay resumes.
func TestReplicationLag_ReplicaReadinessFollowsTheLag(t *testing.T) {
	primary := pgtest.New(t)
	primary.Exec(t, "postgres", "CREATE TABLE ticks (at timestamptz)")
	replica := pgtest.New(t, pgtest.WithReplicaOf(primary))
	const interval, timeout, maxLag = 200 * time.Millisecond, 150 * time.Millisecond, time.Second
	cfg := schedule(replica.DSN("postgres"), interval, timeout)
	cfg.Checks.ReplicationLag = &exporter.ReplicationLag{MaxLag: maxLag}
	ex := startInProcess(t, cfg)
	until(t, "ready", 10*time.Second, func() bool { s, _ := ex.readiness(t); return s == "ready" })
	time.Sleep(2 * maxLag) // idle: still ready
	if s, _ := ex.readiness(t); s != "ready" {
		t.Fatalf("an idle pair: %s", s)
	}

	replica.Exec(t, "postgres", "SELECT pg_wal_replay_pause()")
	stop := make(chan struct{})
	wrote := make(chan struct{})
	go func() {
		defer close(wrote)
		for {
			select {
			case <-stop:
				return
			case <-time.After(100 * time.Millisecond):
				primary.Exec(t, "postgres", "INSERT INTO ticks VALUES (now())")
			}
		}
	}()
	start := time.Now()
	took := until(t, "not ready with reason replication_lag", maxLag+interval+timeout+5*time.Second, func() bool {
		_, body := ex.get(t, "/readyz/replication_lag")
		return strings.Contains(body, `"reason":"replication_lag"`)
	})
	t.Logf("not ready %s after the writes began (the lag passes max_lag %s after the first; + interval + timeout = %s)", took, maxLag, maxLag+interval+timeout)
	if time.Since(start) < maxLag {
		t.Fatalf("not ready before the lag could reach max_lag")
	}
	if took > maxLag+interval+timeout+time.Second {
		t.Errorf("readiness went off %s after the first write; want within max_lag + interval + timeout (+1s for the writes' cadence)", took)
	}
	replica.Exec(t, "postgres", "SELECT pg_wal_replay_resume()")
	close(stop)
	<-wrote
	until(t, "ready after replay resumed", 10*time.Second, func() bool { s, _ := ex.readiness(t); return s == "ready" })
}
