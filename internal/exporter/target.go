package exporter

import (
	"context"
	"net/http"

	"github.com/dbhealth/dbhealth-exporter/internal/health"
	"github.com/dbhealth/dbhealth-exporter/internal/probes"
	"github.com/dbhealth/dbhealth-exporter/internal/redact"
)

// target is one watched database at run time: its pool and checks (cur),
// the engine running them, and its readiness handler. A target keeps its
// engine, and so its state, as long as it stays in the configuration; a
// reload updates the engine's checks.
type target struct {
	cfg    Target
	cur    *built
	engine *health.Engine
	ready  http.Handler // /targets/<name>/readyz (fleet mode)

	stop context.CancelFunc // set while the engine runs
	done chan struct{}      // closed when it has stopped
}

// newTarget builds a target's engine over b; it does not start it.
func (e *Exporter) newTarget(t Target, b *built) (*target, error) {
	opts := []health.Option{
		health.WithTarget(t.Name),
		health.WithRedactor(func(s string) string { return redact.Line(e.redactor.String(s)) }),
		health.WithDetailsRedactor(e.redactor.Details),
		health.WithTracerProvider(e.tp),
		health.WithLogger(e.logger.With("target", t.Name)),
	}
	if e.fleet {
		opts = append(opts, health.WithSpread(), health.WithConcurrency(e.slots))
	}
	engine, err := health.NewEngine(b.defs, opts...)
	if err != nil {
		return nil, err
	}
	tg := &target{cfg: t, cur: b, engine: engine}
	if e.fleet {
		tg.ready = probes.NewReadiness(engine, probes.Options{Withhold: e.withhold})
	}
	return tg, nil
}

// start runs the target's engine under ctx until stopped.
func (tg *target) start(ctx context.Context) {
	ctx, tg.stop = context.WithCancel(ctx)
	tg.done = make(chan struct{})
	go func() {
		defer close(tg.done)
		tg.engine.Run(ctx)
	}()
}

// halt stops the target's engine, waits for its runs in flight and closes
// its pool.
func (tg *target) halt() {
	if tg.stop != nil {
		tg.stop()
		<-tg.done
	}
	tg.cur.pool.Close()
}
