package pgtest

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestFindInstallMissingBinaries(t *testing.T) {
	_, err := findInstall(func(k string) string {
		if k == "PG_BINDIR" {
			return "/nonexistent/bin"
		}
		return ""
	})
	if err == nil || !strings.Contains(err.Error(), installHint) {
		t.Fatalf("err = %v, want it to contain %q", err, installHint)
	}
}

func TestReplaceDatabase(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"postgres://u:p@h:5432/postgres?sslmode=disable", "postgres://u:p@h:5432/t_1?sslmode=disable"},
		{"postgresql://u@h1:5432,h2:5433/db", "postgresql://u@h1:5432,h2:5433/t_1"},
		{"postgres://u@h", "postgres://u@h/t_1"},
		{"postgres://u@h?sslmode=disable", "postgres://u@h/t_1?sslmode=disable"},
		{"host=h user=u dbname=postgres", "host=h user=u dbname=postgres dbname='t_1'"},
	} {
		if got := replaceDatabase(tc.in, "t_1"); got != tc.want {
			t.Errorf("replaceDatabase(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// TestOrphanCleanup makes a running cluster look like it belongs to a dead
// process and checks that the orphan scan stops and removes it.
func TestOrphanCleanup(t *testing.T) {
	t.Parallel()
	c, err := startCluster(nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.destroy() })
	pm, err := readPostmasterPID(c.dataDir)
	if err != nil {
		t.Fatal(err)
	}
	// Our pid with another start time: a previous process that had our pid.
	if err := os.WriteFile(filepath.Join(c.base, ownerFile), []byte(fmt.Sprintf("%d 1\n", os.Getpid())), 0o644); err != nil {
		t.Fatal(err)
	}
	removeOrphans(c.in)
	if _, err := os.Stat(c.base); !os.IsNotExist(err) {
		t.Errorf("orphan directory %s still there: %v", c.base, err)
	}
	if processAlive(pm.pid) {
		t.Errorf("orphan postmaster %d still running", pm.pid)
	}
}

// TestPortTakenRetries hands the first start attempt a port that is in use
// and checks that the cluster comes up on another one. Not parallel: it
// replaces pickPort.
func TestPortTakenRetries(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	busyPort := busy.Addr().(*net.TCPAddr).Port
	calls := 0
	pickPort = func() (int, error) {
		calls++
		if calls == 1 {
			return busyPort, nil
		}
		return freePort()
	}
	defer func() { pickPort = freePort }()

	c, err := startCluster(nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.destroy()
	if c.port == busyPort || calls < 2 {
		t.Errorf("cluster on port %d after %d port picks; busy port %d", c.port, calls, busyPort)
	}
	if !strings.Contains(c.Log(), "could not bind") {
		t.Errorf("log does not show the failed first attempt:\n%s", c.Log())
	}
	if err := execSQL(c.DSN("postgres"), "SELECT 1"); err != nil {
		t.Error(err)
	}
}
