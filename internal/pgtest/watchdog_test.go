package pgtest_test

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"syscall"
	"testing"
	"time"

	"github.com/dbhealth/dbhealth-exporter/internal/pgtest"
)

// TestWatchdogHelper is the child process of TestKilledTestProcessLeavesNoCluster.
func TestWatchdogHelper(t *testing.T) {
	if os.Getenv("PGTEST_WATCHDOG_HELPER") != "1" {
		return
	}
	c := pgtest.New(t)
	fmt.Printf("READY %d %s\n", c.Port(), c.DataDir())
	select {} // until SIGKILLed
}

// TestKilledTestProcessLeavesNoCluster SIGKILLs a test process that has a
// cluster running and checks that the cluster goes away.
func TestKilledTestProcessLeavesNoCluster(t *testing.T) {
	t.Parallel()
	cmd := exec.Command(os.Args[0], "-test.run=^TestWatchdogHelper$", "-test.count=1")
	cmd.Env = append(os.Environ(), "PGTEST_WATCHDOG_HELPER=1")
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	var port int
	var dataDir string
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		if _, err := fmt.Sscanf(sc.Text(), "READY %d %s", &port, &dataDir); err == nil {
			break
		}
	}
	if dataDir == "" {
		t.Fatalf("helper did not start a cluster: %v", sc.Err())
	}
	dsn := fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", port)
	if err := tryConnect(dsn, 5*time.Second); err != nil {
		t.Fatalf("helper's cluster: %v", err)
	}

	cmd.Process.Kill()
	cmd.Wait()
	start := time.Now()
	for {
		_, statErr := os.Stat(dataDir)
		connErr := tryConnect(dsn, time.Second)
		if errors.Is(statErr, os.ErrNotExist) && errors.Is(connErr, syscall.ECONNREFUSED) {
			t.Logf("cluster of the killed process gone after %v", time.Since(start))
			return
		}
		if time.Since(start) > 15*time.Second {
			t.Fatalf("15s after the test process was killed: data dir stat: %v, connect: %v", statErr, connErr)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
