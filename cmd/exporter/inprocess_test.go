package main

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/otel/trace"
)

// inProcess is the exporter assembled by prepare and served by httptest, for
// tests that need the race detector on the real wiring or its registry.
type inProcess struct {
	*exporter
	url string
}

func startInProcess(t *testing.T, dsn string, args ...string) *inProcess {
	t.Helper()
	return startInProcessTraced(t, dsn, nil, args...)
}

// startInProcessTraced is startInProcess with spans going to tp.
func startInProcessTraced(t *testing.T, dsn string, tp trace.TracerProvider, args ...string) *inProcess {
	t.Helper()
	getenv := func(k string) string {
		if k == "DATABASE_URL" {
			return dsn
		}
		return ""
	}
	cfg, err := parseConfig(args, getenv, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	ex, err := prepare(cfg, environment{getenv: getenv, stderr: io.Discard, tracerProvider: tp})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { ex.engine.Run(ctx); close(done) }()
	srv := httptest.NewServer(ex.server.Handler)
	t.Cleanup(func() {
		srv.Close()
		cancel()
		<-done
		ex.pool.Close()
	})
	return &inProcess{exporter: ex, url: srv.URL}
}

func (p *inProcess) get(t *testing.T, path string) (int, string) {
	t.Helper()
	resp, err := http.Get(p.url + path)
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
