package exporter

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/promslog"
	"github.com/prometheus/common/version"
	"go.opentelemetry.io/otel/trace"

	"github.com/dbhealth/dbhealth-exporter/internal/health"
	"github.com/dbhealth/dbhealth-exporter/internal/redact"
	"github.com/dbhealth/dbhealth-exporter/internal/telemetry"
	"github.com/dbhealth/dbhealth-exporter/internal/web"
)

// Exporter is the assembled program: the targets (each a pool, its checks
// and the engine running them), the registry, the HTTP handler and
// telemetry. Without Config.Targets it watches one database, the sidecar's;
// with them it is in fleet mode.
type Exporter struct {
	opts      options
	redactor  *redact.Redactor // every password seen, old and new
	logger    *slog.Logger
	registry  *prometheus.Registry
	telemetry *telemetry.Telemetry
	tracer    trace.TracerProvider // for the pools; nil when tracing is off
	tp        trace.TracerProvider // for the engines' spans
	handler   http.Handler
	web       *web.Server
	reloads   *reloadMetrics
	fleet     bool          // fleet mode: fixed at start
	slots     *health.Slots // fleet mode: the bound on runs in flight
	withhold  func(*http.Request) bool

	shuttingDown atomic.Bool
	view         atomic.Pointer[fleetView] // the targets, for readers

	mu      sync.Mutex // serialises reloads and starting or stopping targets
	cfg     Config
	targets map[string]*target
	runCtx  context.Context // set while Serve runs
	halting sync.WaitGroup  // targets removed by a reload, stopping
}

// New builds the exporter from cfg without touching the network. Its errors
// are configuration errors, one line each, naming what is wrong and never
// the password.
func New(cfg Config, opts ...Option) (*Exporter, error) {
	cfg = cfg.withDefaults()
	e := &Exporter{opts: newOptions(opts), redactor: redact.New(), cfg: cfg, registry: prometheus.NewRegistry(),
		fleet: len(cfg.Targets) > 0, targets: map[string]*target{}}
	logger := e.opts.logger
	if logger == nil {
		logCfg := *cfg.Log
		logCfg.Writer = e.opts.logOutput
		logger = promslog.New(&logCfg)
	}
	e.logger = slog.New(e.redactor.Handler(telemetry.LogHandler(logger.Handler())))
	wanted := cfg.targets()
	conns := make([]connection, len(wanted))
	for i, t := range wanted {
		var err error
		if conns[i], err = resolve(t, e.opts.getenv, e.redactor); err != nil {
			return nil, e.targetError(t, err)
		}
	}

	tel, err := telemetry.Setup(context.Background(), telemetry.Options{
		Version: version.Version, Gatherer: e.registry, Logger: e.logger, Getenv: e.opts.getenv,
	})
	if err != nil {
		return nil, fmt.Errorf("OpenTelemetry configuration (OTEL_* variables): %w", err)
	}
	e.telemetry, e.tp = tel, tel.TracerProvider
	if e.opts.tracerProvider != nil {
		e.tp = e.opts.tracerProvider
	}
	if tel.Tracing || e.opts.tracerProvider != nil {
		e.tracer = e.tp
	}
	e.slots = health.NewSlots(cfg.Fleet.MaxConcurrentChecks)
	always := cfg.Web.ProbesWithholdDetails // read once: a reload does not change the web settings
	// Anonymous probes (the kubelet, a load balancer, anyone on the
	// network) learn why a check fails by its reason class only when the
	// web configuration has users; authenticated ones get the message.
	e.withhold = func(r *http.Request) bool {
		return (always || e.web.HasUsers()) && !web.Authenticated(r)
	}

	for i, t := range wanted {
		b, err := build(t, conns[i], nil, e.tracer, e.redactor)
		var tg *target
		if err == nil {
			if tg, err = e.newTarget(t, b); err != nil {
				b.pool.Close()
			}
		}
		if err != nil {
			e.Close()
			return nil, e.targetError(t, err)
		}
		e.targets[t.Name] = tg
	}
	e.publishView()
	for _, w := range cfg.Warnings {
		e.logger.Warn(w)
	}
	e.reloads = newReloadMetrics(e.registry)
	if e.handler, e.web, err = e.routes(); err != nil {
		e.Close()
		return nil, err
	}
	return e, nil
}

// targetError names the target an error is about, in fleet mode.
func (e *Exporter) targetError(t Target, err error) error {
	if !e.fleet {
		return err
	}
	return fmt.Errorf("target %s: %w", t.Name, err)
}

// Handler serves every path as Run's server does: probes, metrics and the
// landing page, behind the web configuration.
func (e *Exporter) Handler() http.Handler { return e.handler }

// Gatherer is the exporter's registry, what the metrics path serves.
func (e *Exporter) Gatherer() prometheus.Gatherer { return e.registry }

// Snapshot is the current generation of the one database's checks (the
// first target's, in fleet mode).
func (e *Exporter) Snapshot() *health.Snapshot {
	if v := e.view.Load(); len(v.targets) > 0 {
		return v.targets[0].engine.Snapshot()
	}
	return &health.Snapshot{}
}

// TargetSnapshot is the current generation of the named target's checks.
func (e *Exporter) TargetSnapshot(name string) (*health.Snapshot, bool) {
	if tg, ok := e.view.Load().find(name); ok {
		return tg.engine.Snapshot(), true
	}
	return nil, false
}

// describe names the database for the log, without the password.
func (b *built) describe() string {
	c := b.pool.Config().ConnConfig
	return fmt.Sprintf("%s@%s:%d/%s", c.User, c.Host, c.Port, c.Database)
}
