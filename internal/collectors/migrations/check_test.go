package migrations

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/dbhealth/dbhealth-exporter/internal/collectors"
	"github.com/dbhealth/dbhealth-exporter/internal/pgtest"
)

func TestCheck_Failures_OneLineNamingThePhase(t *testing.T) {
	stopped := pgtest.New(t)
	stopped.Stop(t)
	res, _ := check(t, stopped.DSN("postgres"), Options{Tool: "golang-migrate"})
	t.Logf("error: %s", res.Err)
	if want := "connect " + stopped.Addr() + ": connection refused"; res.Reason != collectors.ReasonRefused || res.Err.Error() != want {
		t.Errorf("stopped server: %s %q, want refused %q", res.Reason, res.Err, want)
	}

	// A role that sees the history table (it may update it) but may not
	// read it: the query fails.
	cluster := pgtest.New(t)
	cluster.CreateRole(t, "reader", "secret")
	pgExec(t, cluster.DSN("postgres"), "CREATE TABLE schema_migrations (version bigint PRIMARY KEY, dirty boolean NOT NULL); GRANT UPDATE ON schema_migrations TO reader")
	res, _ = check(t, cluster.RoleDSN("reader", "secret", "postgres"), Options{Tool: "golang-migrate"})
	t.Logf("error: %s", res.Err)
	if want := "query " + cluster.Addr() + ": reading golang-migrate history from "; !strings.HasPrefix(res.Err.Error(), want) ||
		!strings.Contains(res.Err.Error(), "(SQLSTATE 42501)") || res.Reason != collectors.ReasonOther {
		t.Errorf("history not readable: %s %q, want other, %q... (SQLSTATE 42501)", res.Reason, res.Err, want)
	}

	missing := filepath.Join(t.TempDir(), "gone\tdir")
	res, _ = check(t, cluster.DSN("postgres"), Options{Dir: missing})
	t.Logf("error: %s", res.Err)
	if want := "migrations scan: migrations directory " + strings.ReplaceAll(missing, "\t", " ") + ": "; res.Reason != ReasonUnreadableDir ||
		!strings.HasPrefix(res.Err.Error(), want) || strings.ContainsAny(res.Err.Error(), "\t\n") {
		t.Errorf("missing directory: %s %q, want %q...", res.Reason, res.Err, want)
	}
}

// The check declares every reason it can report (the engine counts each
// from 0, so that its failure counter exists before its first failure).
func TestCheck_DeclaresEveryReasonItCanReport(t *testing.T) {
	c, err := New(nil, Options{})
	if err != nil {
		t.Fatal(err)
	}
	got := slices.Sorted(slices.Values(c.Reasons()))
	want := []string{"ambiguous_tool", "auth_failed", "behind_expected_version", "checksum_mismatch", "database_missing", "dirty", "dns",
		"invalid_files", "locked", "missing_table", "other", "pending", "refused", "shutting_down", "starting_up",
		"timeout", "tls", "too_many_connections", "unknown_applied", "unreadable_directory"}
	if !slices.Equal(slices.Compact(got), want) {
		t.Fatalf("Reasons() = %v, want %v", got, want)
	}
}
