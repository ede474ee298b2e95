package bench

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
	promcollectors "github.com/prometheus/client_golang/prometheus/collectors"
	versioncollector "github.com/prometheus/client_golang/prometheus/collectors/version"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/dbhealth/dbhealth-exporter/internal/collectors"
	"github.com/dbhealth/dbhealth-exporter/internal/health"
	"github.com/dbhealth/dbhealth-exporter/internal/metrics"
	"github.com/dbhealth/dbhealth-exporter/internal/probes"
	"github.com/dbhealth/dbhealth-exporter/internal/web"
)

// Exporter is the exporter's HTTP side assembled in process, check engine
// running. It mirrors cmd/exporter's prepare with the defaults of its flags
// (no web configuration file, no tracing, no migrations check); keep the two
// in step. The wrk measurements run the real binary; this copy exists for
// the Go benchmarks and for CPU profiles of the handlers.
type Exporter struct {
	Engine   *health.Engine
	Registry *prometheus.Registry
	// Handler serves every path as the exporter's http.Server does.
	Handler http.Handler

	pool   *pgxpool.Pool
	cancel context.CancelFunc
	done   chan struct{}
}

// Schedule is a check's interval and timeout.
type Schedule struct {
	Interval time.Duration // default 10s, the exporter's default
	Timeout  time.Duration // default 2s
}

func (s Schedule) withDefaults() Schedule {
	if s.Interval == 0 {
		s.Interval = health.DefaultInterval
	}
	if s.Timeout == 0 {
		s.Timeout = health.DefaultTimeout
	}
	return s
}

// MaxScrapes is the exporter's default --web.max-requests.
const MaxScrapes = 40

// StartExporter assembles the exporter for dsn and starts its checks. Close
// stops them.
func StartExporter(dsn string, sched Schedule) (*Exporter, error) {
	sched = sched.withDefaults()
	pool, err := newPool(dsn)
	if err != nil {
		return nil, err
	}
	logger := slog.New(slog.DiscardHandler)
	engine, err := health.NewEngine([]health.Definition{{
		Name:     "database",
		Checker:  collectors.NewDatabase(pool, collectors.DatabaseOptions{}),
		Critical: true,
		Interval: sched.Interval,
		Timeout:  sched.Timeout,
	}}, health.WithObserver(health.LogTransitions(logger)))
	if err != nil {
		pool.Close()
		return nil, err
	}

	reg := prometheus.NewRegistry()
	reg.MustRegister(
		metrics.NewCollector(engine.Snapshot),
		versioncollector.NewCollector("dbhealth_exporter"),
		promcollectors.NewGoCollector(),
		promcollectors.NewProcessCollector(promcollectors.ProcessCollectorOpts{}),
	)
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.InstrumentMetricHandler(reg, promhttp.HandlerFor(reg, promhttp.HandlerOpts{
		EnableOpenMetrics: true,
		// One target's exposition is small (about 16 KB); gzip would cost a
		// third of each scrape's CPU (docs/benchmarks.md).
		DisableCompression:  true,
		MaxRequestsInFlight: MaxScrapes,
		ErrorLog:            slog.NewLogLogger(logger.Handler(), slog.LevelError),
	})))
	probes.Register(mux, engine, probes.Options{MetricsPath: "/metrics"})
	ws, err := web.New(web.Options{Public: probes.IsProbePath, Logger: logger}, mux)
	if err != nil {
		pool.Close()
		return nil, err
	}

	ctx, cancel := context.WithCancel(context.Background())
	e := &Exporter{Engine: engine, Registry: reg, Handler: ws.Handler(), pool: pool, cancel: cancel, done: make(chan struct{})}
	go func() { engine.Run(ctx); close(e.done) }()
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

// Close stops the checks and closes the pool.
func (e *Exporter) Close() {
	e.cancel()
	<-e.done
	e.pool.Close()
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
