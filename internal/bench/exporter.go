package bench

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/dbhealth/dbhealth-exporter/internal/collectors"
	"github.com/dbhealth/dbhealth-exporter/internal/exporter"
)

// Exporter is the exporter built by exporter.New with its defaults (no web
// configuration file, no tracing, no migrations check) and served on a
// loopback listener, check engine running. The Go benchmarks drive its
// Handler directly; the wrk measurements run the real binary.
type Exporter struct {
	*exporter.Exporter
	// Handler serves every path as the exporter's http.Server does.
	Handler http.Handler

	cancel context.CancelFunc
	served chan error
}

// Schedule is a check's interval and timeout; zero fields take the
// exporter's defaults (10s, 2s).
type Schedule struct {
	Interval time.Duration
	Timeout  time.Duration
}

// MaxScrapes is the exporter's default --web.max-requests.
const MaxScrapes = 40

// StartExporter builds the exporter for dsn and starts its checks. Close
// stops them.
func StartExporter(dsn string, sched Schedule) (*Exporter, error) {
	ex, err := exporter.New(exporter.Config{
		Web:      exporter.Web{MaxScrapes: MaxScrapes},
		Database: exporter.Database{DSN: dsn},
		Checks:   exporter.Checks{Defaults: exporter.Schedule{Interval: sched.Interval, Timeout: sched.Timeout}},
	}, exporter.WithLogger(slog.New(slog.DiscardHandler)), exporter.WithGetenv(func(string) string { return "" }))
	if err != nil {
		return nil, err
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		ex.Close()
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	e := &Exporter{Exporter: ex, Handler: ex.Handler(), cancel: cancel, served: make(chan error, 1)}
	go func() { e.served <- ex.Serve(ctx, l) }()
	return e, nil
}

// WaitReady waits until /readyz answers 200.
func (e *Exporter) WaitReady(timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		code, body := Get(e.Handler, "/readyz", nil)
		if code == http.StatusOK {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("in-process exporter not ready after %s: %d %s", timeout, code, strings.TrimSpace(string(body)))
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// Close stops the checks and the server and closes the pool.
func (e *Exporter) Close() {
	e.cancel()
	<-e.served
}

// Get serves one GET of path with the given headers through h and returns
// the status and body.
func Get(h http.Handler, path string, header http.Header) (int, []byte) {
	req := httptest.NewRequest(http.MethodGet, path, nil)
	for k, v := range header {
		req.Header[k] = v
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	body, _ := io.ReadAll(w.Result().Body)
	return w.Code, body
}

// newPool is the exporter's pool for dsn (collectors.PoolConfig): the
// comparison servers use the same one.
func newPool(dsn string) (*pgxpool.Pool, error) {
	cfg, err := collectors.PoolConfig(dsn)
	if err != nil {
		return nil, err
	}
	return pgxpool.NewWithConfig(context.Background(), cfg)
}
