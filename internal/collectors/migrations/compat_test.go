package migrations

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/dbhealth/dbhealth-exporter/internal/collectors"
	"github.com/dbhealth/dbhealth-exporter/internal/health"
	"github.com/dbhealth/dbhealth-exporter/internal/pgtest"
	"github.com/dbhealth/dbhealth-exporter/internal/testtools"
)

// The compatibility tests (*_compat_test.go) let each real migration tool
// apply migrations to a throwaway database and check that the exporter
// reports what the tool did. The tools are installed by .ci/install-tools
// (`make tools`) into .tools/bin; a missing tool fails the test with that
// instruction, it is never skipped.

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

// requireTool returns the path of a migration tool's executable (see
// package testtools).
func requireTool(t *testing.T, name string) string {
	t.Helper()
	return testtools.Require(t, name)
}

// tool runs a migration tool in dir and returns its combined output; the
// caller decides whether an error is expected.
func tool(t *testing.T, dir string, env []string, name string, args ...string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// mustTool is tool for runs that must succeed.
func mustTool(t *testing.T, dir string, env []string, name string, args ...string) string {
	t.Helper()
	out, err := tool(t, dir, env, name, args...)
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", filepath.Base(name), strings.Join(args, " "), err, out)
	}
	return out
}

// writeFiles writes name -> content under dir, creating directories.
func writeFiles(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, content := range files {
		path := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// freshDatabase returns a DSN for a new database on the package's shared
// cluster.
func freshDatabase(t *testing.T) string {
	t.Helper()
	return pgtest.Shared(t).NewDatabase(t)
}

// check runs the migrations check once, as the exporter would.
func check(t *testing.T, dsn string, opts Options) (health.Result, *Report) {
	t.Helper()
	cfg, err := collectors.PoolConfig(dsn)
	if err != nil {
		t.Fatal(err)
	}
	pool, err := pgxpool.NewWithConfig(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	c, err := New(pool, opts)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	res := c.Run(ctx)
	report, _ := res.Details.(*Report)
	return res, report
}

// expect runs the check and compares the outcome: the failure reason ("" for
// ok) and the lists of the report.
type expectation struct {
	reason             string
	tool               string
	applied            int
	pending            []string
	unknown            []string
	dirty              []string
	checksumMismatches []string
	drifted            []string
	locked             bool
}

func expect(t *testing.T, dsn string, opts Options, want expectation) *Report {
	t.Helper()
	res, r := check(t, dsn, opts)
	if res.Reason != want.reason {
		t.Fatalf("reason %q (err: %v), want %q; report %+v", res.Reason, res.Err, want.reason, r)
	}
	if r == nil {
		if want.tool != "" {
			t.Fatalf("no report; err: %v", res.Err)
		}
		return nil
	}
	if want.tool != "" && r.Tool != want.tool {
		t.Fatalf("detected tool %q, want %q", r.Tool, want.tool)
	}
	lists := []struct {
		name      string
		got, want []string
	}{
		{"pending", r.Pending, want.pending},
		{"unknown", r.Unknown, want.unknown},
		{"dirty", r.Dirty, want.dirty},
		{"checksum mismatches", r.ChecksumMismatches, want.checksumMismatches},
		{"drifted", r.Drifted, want.drifted},
	}
	for _, l := range lists {
		if strings.Join(l.got, ",") != strings.Join(l.want, ",") {
			t.Fatalf("%s = %v, want %v (report %+v)", l.name, l.got, l.want, r)
		}
	}
	if r.AppliedCount != want.applied || r.Locked != want.locked {
		t.Fatalf("applied %d locked %v, want %d %v (report %+v)", r.AppliedCount, r.Locked, want.applied, want.locked, r)
	}
	return r
}
