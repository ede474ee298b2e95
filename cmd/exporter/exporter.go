package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/exaring/otelpgx"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
	promcollectors "github.com/prometheus/client_golang/prometheus/collectors"
	versioncollector "github.com/prometheus/client_golang/prometheus/collectors/version"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/prometheus/common/promslog"
	"github.com/prometheus/common/version"
	"go.opentelemetry.io/otel/trace"

	"github.com/dbhealth/dbhealth-exporter/internal/collectors"
	"github.com/dbhealth/dbhealth-exporter/internal/collectors/migrations"
	"github.com/dbhealth/dbhealth-exporter/internal/health"
	"github.com/dbhealth/dbhealth-exporter/internal/metrics"
	"github.com/dbhealth/dbhealth-exporter/internal/probes"
	"github.com/dbhealth/dbhealth-exporter/internal/redact"
	"github.com/dbhealth/dbhealth-exporter/internal/telemetry"
	"github.com/dbhealth/dbhealth-exporter/internal/web"
)

// HTTP server limits: a slow or idle client cannot hold the exporter's
// connections forever.
const (
	readHeaderTimeout = 10 * time.Second
	writeTimeout      = 30 * time.Second
	idleTimeout       = 2 * time.Minute
	shutdownTimeout   = 10 * time.Second
)

// exporter is the assembled program: engine, pool, telemetry and HTTP server.
type exporter struct {
	cfg       config
	logger    *slog.Logger
	registry  *prometheus.Registry
	pool      *pgxpool.Pool
	engine    *health.Engine
	telemetry *telemetry.Telemetry
	web       *web.Server
	server    *http.Server
}

// environment is what prepare takes from outside the configuration.
type environment struct {
	getenv func(string) string
	stderr io.Writer
	// tracerProvider replaces the one built from OTEL_* (tests record
	// spans in memory).
	tracerProvider trace.TracerProvider
}

// prepare builds everything from the configuration without touching the
// network. Its errors are configuration errors, already redacted.
func prepare(cfg config, env environment) (*exporter, error) {
	poolCfg, err := collectors.PoolConfig(cfg.dsn)
	r := redact.New(secrets(cfg.dsn, poolCfg, env.getenv)...)
	if err != nil {
		return nil, fmt.Errorf("%s: %s", cfg.dsnSource, r.String(parseErrorText(err)))
	}
	cfg.log.Writer = env.stderr
	logger := slog.New(r.Handler(telemetry.LogHandler(promslog.New(cfg.log).Handler())))

	reg := prometheus.NewRegistry()
	tel, err := telemetry.Setup(context.Background(), telemetry.Options{
		Version: version.Version, Gatherer: reg, Logger: logger, Getenv: env.getenv,
	})
	if err != nil {
		return nil, fmt.Errorf("OpenTelemetry configuration (OTEL_* variables): %w", err)
	}
	tp := tel.TracerProvider
	if env.tracerProvider != nil {
		tp = env.tracerProvider
	}
	if tel.Tracing || env.tracerProvider != nil {
		// The checks' SQL, connects and pool acquisitions become child spans.
		poolCfg.ConnConfig.Tracer = otelpgx.NewTracer(otelpgx.WithTracerProvider(tp))
	}

	pool, err := pgxpool.NewWithConfig(context.Background(), poolCfg) // does not connect
	if err != nil {
		return nil, errors.New(r.String(err.Error()))
	}
	defs, err := checks(cfg, pool)
	if err != nil {
		pool.Close()
		return nil, err
	}
	engine, err := health.NewEngine(defs,
		health.WithTarget(cfg.target),
		health.WithRedactor(r.String),
		health.WithTracerProvider(tp),
		health.WithObserver(health.LogTransitions(logger)),
	)
	if err != nil {
		pool.Close()
		return nil, err
	}

	reg.MustRegister(
		metrics.NewCollector(engine.Snapshot),
		versioncollector.NewCollector("dbhealth_exporter"),
		promcollectors.NewGoCollector(),
		promcollectors.NewProcessCollector(promcollectors.ProcessCollectorOpts{}),
	)
	mux := http.NewServeMux()
	mux.Handle(cfg.telemetryPath, promhttp.InstrumentMetricHandler(reg, promhttp.HandlerFor(reg, promhttp.HandlerOpts{
		EnableOpenMetrics: true,
		// One target's exposition is small (about 16 KB); gzip would cost a
		// third of each scrape's CPU (docs/benchmarks.md).
		DisableCompression:  true,
		MaxRequestsInFlight: cfg.maxRequests,
		ErrorLog:            slog.NewLogLogger(logger.Handler(), slog.LevelError),
	})))
	probes.Register(mux, engine, probes.Options{MetricsPath: cfg.telemetryPath, Version: version.Version})

	public := probes.IsProbePath
	if cfg.probesAuth {
		public = nil
	}
	ws, err := web.New(web.Options{ConfigFile: cfg.webConfigFile, Public: public, Logger: logger}, mux)
	if err != nil {
		pool.Close()
		return nil, fmt.Errorf("--web.config.file: %w", err)
	}
	logger.Info("starting dbhealth-exporter", "version", version.Version, "target", cfg.target,
		"database", describe(poolCfg), "dsn_from", cfg.dsnSource, "check_interval", cfg.interval, "check_timeout", cfg.timeout)
	return &exporter{
		cfg:       cfg,
		logger:    logger,
		registry:  reg,
		telemetry: tel,
		pool:      pool,
		engine:    engine,
		web:       ws,
		server: &http.Server{
			Handler:           ws.Handler(),
			ReadHeaderTimeout: readHeaderTimeout,
			WriteTimeout:      writeTimeout,
			IdleTimeout:       idleTimeout,
			ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelDebug),
		},
	}, nil
}

// checks defines the checks the configuration asks for: the database
// always, the migrations when a --migrations flag enables them.
func checks(cfg config, pool *pgxpool.Pool) ([]health.Definition, error) {
	schedule := func(d health.Definition) health.Definition {
		d.Critical = true
		d.Interval, d.Timeout = cfg.interval, cfg.timeout
		d.FailureThreshold, d.SuccessThreshold = cfg.failureThreshold, cfg.successThreshold
		return d
	}
	defs := []health.Definition{schedule(health.Definition{
		Name:    "database",
		Checker: collectors.NewDatabase(pool, collectors.DatabaseOptions{ExpectPrimary: cfg.expectPrimary}),
	})}
	if m := cfg.migrations; m.enabled() {
		check, err := migrations.New(pool, migrations.Options{
			Dir: m.dir, Tool: m.tool, Table: m.table, Schema: m.schema,
			ExpectedVersion: m.expectedVersion, FailOnUnknown: m.failOnUnknown,
		})
		if err != nil {
			return nil, fmt.Errorf("--migrations.tool: %w", err)
		}
		defs = append(defs, schedule(health.Definition{Name: "migrations", Checker: check}))
	}
	return defs, nil
}

// serve runs until ctx is cancelled, then drains: readiness turns
// shutting_down at once, the server keeps answering for the shutdown delay
// so load balancers stop sending traffic, then it shuts down gracefully.
func (e *exporter) serve(ctx context.Context) int {
	defer e.pool.Close()
	listeners := make([]net.Listener, 0, len(e.cfg.listenAddresses))
	for _, addr := range e.cfg.listenAddresses {
		l, err := net.Listen("tcp", addr)
		if err != nil {
			e.logger.Error("cannot listen", "address", addr, "err", err)
			for _, open := range listeners {
				open.Close()
			}
			return exitFailure
		}
		listeners = append(listeners, l)
	}

	engineCtx, stopEngine := context.WithCancel(context.Background())
	engineDone := make(chan struct{})
	go func() { e.engine.Run(engineCtx); close(engineDone) }()
	defer func() { stopEngine(); <-engineDone }()

	served := make(chan error, len(listeners))
	for _, l := range listeners {
		go func() { served <- e.web.Serve(e.server, l) }()
	}

	code := exitOK
	select {
	case <-ctx.Done():
		e.engine.Store().ShutDown()
		e.logger.Info("shutting down: readiness fails from now on; draining", "delay", e.cfg.shutdownDelay)
		time.Sleep(e.cfg.shutdownDelay)
	case err := <-served:
		e.logger.Error("server failed", "err", err)
		e.engine.Store().ShutDown()
		code = exitFailure
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
	defer cancel()
	if err := e.server.Shutdown(shutdownCtx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		e.logger.Error("graceful shutdown incomplete", "err", err)
	}
	if err := e.telemetry.Shutdown(shutdownCtx); err != nil {
		e.logger.Warn("flushing telemetry", "err", err)
	}
	e.logger.Info("stopped")
	return code
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }
