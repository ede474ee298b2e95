package exporter

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"sync"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/promslog"
	"github.com/prometheus/common/version"
	"go.opentelemetry.io/otel/trace"

	"github.com/dbhealth/dbhealth-exporter/internal/health"
	"github.com/dbhealth/dbhealth-exporter/internal/redact"
	"github.com/dbhealth/dbhealth-exporter/internal/telemetry"
	"github.com/dbhealth/dbhealth-exporter/internal/web"
)

// Exporter is the assembled program: pool, checks, engine, registry, HTTP
// handler and telemetry.
type Exporter struct {
	opts      options
	redactor  *redact.Redactor // every password seen, old and new
	logger    *slog.Logger
	registry  *prometheus.Registry
	engine    *health.Engine
	telemetry *telemetry.Telemetry
	tracer    trace.TracerProvider // for the pool; nil when tracing is off
	handler   http.Handler
	web       *web.Server
	reloads   *reloadMetrics

	mu  sync.Mutex // serialises reloads
	cfg Config
	cur *built
}

// New builds the exporter from cfg without touching the network. Its errors
// are configuration errors, one line each, naming what is wrong and never
// the password.
func New(cfg Config, opts ...Option) (*Exporter, error) {
	cfg = cfg.withDefaults()
	e := &Exporter{opts: newOptions(opts), redactor: redact.New(), cfg: cfg, registry: prometheus.NewRegistry()}
	logger := e.opts.logger
	if logger == nil {
		logCfg := *cfg.Log
		logCfg.Writer = e.opts.logOutput
		logger = promslog.New(&logCfg)
	}
	e.logger = slog.New(e.redactor.Handler(telemetry.LogHandler(logger.Handler())))
	conn, err := resolve(cfg, e.opts.getenv, e.redactor)
	if err != nil {
		return nil, err
	}

	tel, err := telemetry.Setup(context.Background(), telemetry.Options{
		Version: version.Version, Gatherer: e.registry, Logger: e.logger, Getenv: e.opts.getenv,
	})
	if err != nil {
		return nil, fmt.Errorf("OpenTelemetry configuration (OTEL_* variables): %w", err)
	}
	e.telemetry = tel
	tp := tel.TracerProvider
	if e.opts.tracerProvider != nil {
		tp = e.opts.tracerProvider
	}
	if tel.Tracing || e.opts.tracerProvider != nil {
		e.tracer = tp
	}

	if e.cur, err = build(cfg, conn, nil, e.tracer, e.redactor); err != nil {
		return nil, err
	}
	for _, w := range cfg.Warnings {
		e.logger.Warn(w)
	}
	e.engine, err = health.NewEngine(e.cur.defs,
		health.WithTarget(cfg.Target),
		health.WithRedactor(func(s string) string { return redact.Line(e.redactor.String(s)) }),
		health.WithDetailsRedactor(e.redactor.Details),
		health.WithTracerProvider(tp),
		health.WithLogger(e.logger),
	)
	if err == nil {
		e.reloads = newReloadMetrics(e.registry)
		e.handler, e.web, err = e.routes()
	}
	if err != nil {
		e.cur.pool.Close()
		return nil, err
	}
	return e, nil
}

// Handler serves every path as Run's server does: probes, metrics and the
// landing page, behind the web configuration.
func (e *Exporter) Handler() http.Handler { return e.handler }

// Gatherer is the exporter's registry, what the metrics path serves.
func (e *Exporter) Gatherer() prometheus.Gatherer { return e.registry }

// Snapshot is the engine's current generation.
func (e *Exporter) Snapshot() *health.Snapshot { return e.engine.Snapshot() }

// describe names the database for the log, without the password.
func (b *built) describe() string {
	c := b.pool.Config().ConnConfig
	return fmt.Sprintf("%s@%s:%d/%s", c.User, c.Host, c.Port, c.Database)
}
