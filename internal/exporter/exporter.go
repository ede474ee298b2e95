package exporter

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"

	"github.com/exaring/otelpgx"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/promslog"
	"github.com/prometheus/common/version"

	"github.com/dbhealth/dbhealth-exporter/internal/collectors"
	"github.com/dbhealth/dbhealth-exporter/internal/collectors/migrations"
	"github.com/dbhealth/dbhealth-exporter/internal/health"
	"github.com/dbhealth/dbhealth-exporter/internal/redact"
	"github.com/dbhealth/dbhealth-exporter/internal/telemetry"
	"github.com/dbhealth/dbhealth-exporter/internal/web"
)

// Exporter is the assembled program: pool, checks, engine, registry, HTTP
// handler and telemetry.
type Exporter struct {
	cfg       Config
	logger    *slog.Logger
	registry  *prometheus.Registry
	pool      *pgxpool.Pool
	engine    *health.Engine
	telemetry *telemetry.Telemetry
	handler   http.Handler
	web       *web.Server
}

// New builds the exporter from cfg without touching the network. Its errors
// are configuration errors, one line each, naming what is wrong and never
// the password.
func New(cfg Config, opts ...Option) (*Exporter, error) {
	cfg = cfg.withDefaults()
	o := newOptions(opts)

	poolCfg, err := collectors.PoolConfig(cfg.Database.DSN, collectors.WithConnectTimeout(cfg.Checks.Timeout))
	var parsed string
	if err == nil {
		parsed = poolCfg.ConnConfig.Password
	}
	r := redact.ForConnString(cfg.Database.DSN, parsed, o.getenv)
	if err != nil {
		return nil, fmt.Errorf("%s: %s", cfg.Database.DSNSource, r.String(redact.ParseError(err)))
	}
	logger := o.logger
	if logger == nil {
		logCfg := *cfg.Log
		logCfg.Writer = o.logOutput
		logger = promslog.New(&logCfg)
	}
	logger = slog.New(r.Handler(telemetry.LogHandler(logger.Handler())))

	reg := prometheus.NewRegistry()
	tel, err := telemetry.Setup(context.Background(), telemetry.Options{
		Version: version.Version, Gatherer: reg, Logger: logger, Getenv: o.getenv,
	})
	if err != nil {
		return nil, fmt.Errorf("OpenTelemetry configuration (OTEL_* variables): %w", err)
	}
	tp := tel.TracerProvider
	if o.tracerProvider != nil {
		tp = o.tracerProvider
	}
	if tel.Tracing || o.tracerProvider != nil {
		// The checks' SQL, connects and pool acquisitions become child spans.
		poolCfg.ConnConfig.Tracer = otelpgx.NewTracer(otelpgx.WithTracerProvider(tp))
	}

	pool, err := pgxpool.NewWithConfig(context.Background(), poolCfg) // does not connect
	if err != nil {
		return nil, errors.New(r.String(err.Error()))
	}
	e := &Exporter{cfg: cfg, logger: logger, registry: reg, pool: pool, telemetry: tel}
	defs, err := checks(cfg, pool)
	if err == nil {
		e.engine, err = health.NewEngine(defs,
			health.WithTarget(cfg.Target),
			health.WithRedactor(func(s string) string { return redact.Line(r.String(s)) }),
			health.WithTracerProvider(tp),
			health.WithLogger(logger),
		)
	}
	if err == nil {
		e.handler, e.web, err = e.routes()
	}
	if err != nil {
		pool.Close()
		return nil, err
	}
	logger.Info("starting dbhealth-exporter", "version", version.Version, "target", cfg.Target,
		"database", describe(poolCfg), "dsn_from", cfg.Database.DSNSource,
		"check_interval", cfg.Checks.Interval, "check_timeout", cfg.Checks.Timeout)
	return e, nil
}

// checks defines the checks the configuration asks for: the database
// always, the migrations when Config.Migrations enables them.
func checks(cfg Config, pool *pgxpool.Pool) ([]health.Definition, error) {
	defs := []health.Definition{cfg.Checks.apply(health.Definition{
		Name:     "database",
		Critical: true,
		Checker:  collectors.NewDatabase(pool, collectors.DatabaseOptions{ExpectPrimary: cfg.Database.ExpectPrimary}),
	})}
	if m := cfg.Migrations; m.Enabled() {
		check, err := migrations.New(pool, migrations.Options{
			Dir: m.Dir, Tool: m.Tool, Table: m.Table, Schema: m.Schema,
			ExpectedVersion: m.ExpectedVersion, FailOnUnknown: m.FailOnUnknown,
		})
		if err != nil {
			return nil, fmt.Errorf("migrations tool: %w", err)
		}
		defs = append(defs, cfg.Checks.apply(health.Definition{Name: "migrations", Critical: true, Checker: check}))
	}
	return defs, nil
}

// describe names the database for the log, without the password.
func describe(cfg *pgxpool.Config) string {
	c := cfg.ConnConfig
	return fmt.Sprintf("%s@%s:%d/%s", c.User, c.Host, c.Port, c.Database)
}

// Handler serves every path as Run's server does: probes, metrics and the
// landing page, behind the web configuration.
func (e *Exporter) Handler() http.Handler { return e.handler }

// Gatherer is the exporter's registry, what the metrics path serves.
func (e *Exporter) Gatherer() prometheus.Gatherer { return e.registry }

// Snapshot is the engine's current generation.
func (e *Exporter) Snapshot() *health.Snapshot { return e.engine.Snapshot() }
