package exporter_test

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/dbhealth/dbhealth-exporter/internal/exporter"
	"github.com/dbhealth/dbhealth-exporter/internal/pgtest"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

// schedule is the configuration of an exporter watching dsn with a short
// check interval and timeout.
func schedule(dsn string, interval, timeout time.Duration) exporter.Config {
	return exporter.Config{
		Database: exporter.Database{DSN: dsn},
		Checks:   exporter.Checks{Defaults: exporter.Schedule{Interval: interval, Timeout: timeout}},
	}
}

// inProcess is the exporter built by exporter.New and served by its own
// Serve on a loopback listener, with the race detector on the real wiring.
type inProcess struct {
	*exporter.Exporter
	url string
}

// startInProcess builds the exporter from cfg and serves it until the test
// ends; its environment is empty (no OTEL_* variables) and its log is
// discarded.
func startInProcess(t *testing.T, cfg exporter.Config, opts ...exporter.Option) *inProcess {
	t.Helper()
	opts = append([]exporter.Option{
		exporter.WithGetenv(func(string) string { return "" }),
		exporter.WithLogOutput(io.Discard),
	}, opts...)
	ex, err := exporter.New(cfg, opts...)
	if err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		ex.Close()
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- ex.Serve(ctx, l) }()
	t.Cleanup(func() {
		cancel()
		if err := <-served; err != nil && !errors.Is(err, http.ErrServerClosed) {
			t.Errorf("Serve: %v", err)
		}
	})
	return &inProcess{Exporter: ex, url: "http://" + l.Addr().String()}
}

func (p *inProcess) get(t *testing.T, path string) (int, string) {
	t.Helper()
	client := http.Client{Timeout: 5 * time.Second}
	resp, err := client.Get(p.url + path)
	if err != nil {
		t.Error(err)
		return 0, ""
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

// waitReadiness polls /readyz until it answers want.
func (p *inProcess) waitReadiness(t *testing.T, want string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if _, body := p.get(t, "/readyz"); strings.Contains(body, `"status":"`+want+`"`) {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("readiness never became %s", want)
}
