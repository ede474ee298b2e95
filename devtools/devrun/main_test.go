package main

import (
	"net"
	"net/http"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/dbhealth/dbhealth-exporter/internal/testtools"
)

// `make run` on a machine with no database configured starts a throwaway
// PostgreSQL and the exporter; a Ctrl-C (SIGINT to the foreground process
// group, as a terminal sends it) stops both, and make prints no error.
func TestMakeRun_CtrlC_StopsEverythingWithoutAMakeError(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	bin := t.TempDir()
	cmd := exec.Command("make", "--no-print-directory", "run",
		"BIN="+filepath.Join(bin, "dbhealth-exporter"), "DEVRUN="+filepath.Join(bin, "devrun"),
		"ARGS=--web.listen-address="+addr+" --web.shutdown-delay=0s")
	cmd.Dir = "../.."
	out := &testtools.Buffer{}
	cmd.Stdout, cmd.Stderr = out, out
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true} // its own group, like a terminal's job
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := waitInBackground(cmd)
	t.Cleanup(func() {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		<-exited
	})

	deadline := time.Now().Add(3 * time.Minute) // make builds two binaries first
	for {
		resp, err := http.Get("http://" + addr + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("the exporter under make run never became ready:\n%s", out)
		}
		time.Sleep(100 * time.Millisecond)
	}
	dataDir := regexp.MustCompile(`data in (\S+)\)`).FindStringSubmatch(out.String())
	if dataDir == nil {
		t.Fatalf("devrun did not name the throwaway cluster's data directory:\n%s", out)
	}

	if err := syscall.Kill(-cmd.Process.Pid, syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	select {
	case <-exited:
	case <-time.After(30 * time.Second):
		t.Fatalf("make run did not end after Ctrl-C:\n%s", out)
	}
	if strings.Contains(out.String(), "***") || strings.Contains(out.String(), "exit status") {
		t.Fatalf("make printed an error after Ctrl-C:\n%s", out)
	}
	if !strings.Contains(out.String(), "msg=stopped") {
		t.Fatalf("the exporter did not stop gracefully:\n%s", out)
	}
	if matches, _ := filepath.Glob(dataDir[1]); len(matches) != 0 {
		t.Fatalf("the throwaway cluster's data directory %s is left behind", dataDir[1])
	}
}

// waitInBackground waits for cmd; the channel closes when it has exited.
func waitInBackground(cmd *exec.Cmd) <-chan struct{} {
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	return done
}
