package health

import (
	"context"
	"log/slog"
	"time"

	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"
)

// config is the engine's configuration; set it with Options.
type config struct {
	target    string
	spread    bool
	slots     *Slots
	now       func() time.Time
	redact    func(string) string
	details   func(any) any
	observers []observer
	tracer    trace.Tracer
}

// Option configures an Engine.
type Option func(*config)

// WithTarget names the watched database in snapshots and metrics. Default
// "default".
func WithTarget(name string) Option { return func(c *config) { c.target = name } }

// WithRedactor sets the function every error text passes through before it
// is stored (and so before any probe, metric, log or span can show it).
// Default: none.
func WithRedactor(redact func(string) string) Option {
	return func(c *config) { c.redact = redact }
}

// WithDetailsRedactor sets the function every result's Details pass
// through before they are stored, as error texts pass through
// WithRedactor's. Default: none.
func WithDetailsRedactor(redact func(any) any) Option {
	return func(c *config) { c.details = redact }
}

// WithLogger logs each change of a check's status, and of readiness, once,
// when it happens. Default: no log.
func WithLogger(logger *slog.Logger) Option {
	return func(c *config) { c.observers = append(c.observers, transitionLogger{logger}) }
}

// WithTracerProvider makes every check run a span ("check <name>") from
// this provider, with the check's SQL as children. Default: no tracing.
func WithTracerProvider(tp trace.TracerProvider) Option {
	return func(c *config) { c.tracer = tp.Tracer(instrumentation) }
}

// WithSpread starts each check's first run at an offset into its interval,
// the same for the same target and check every time (a hash of their
// names), instead of at once: many engines started together, or after a
// common outage, do not all run at the same moment. Default: at once.
func WithSpread() Option { return func(c *config) { c.spread = true } }

// WithConcurrency shares a bound on runs in flight between the engines
// given the same Slots: a run waits for a free slot before it starts, and
// its timeout starts with it. Default: no bound.
func WithConcurrency(s *Slots) Option { return func(c *config) { c.slots = s } }

// Slots bounds the check runs in flight across engines (WithConcurrency).
//
// A run whose previous run took at least half its timeout (a database that
// accepts TCP and never answers, a blackholed address) is slow: it holds
// its slot for its whole timeout. Slow runs share at most n - n/4 of the n
// slots (at least one); the other quarter is always left to runs that
// have been quick. A part of the fleet that hangs then delays its own
// runs, queueing behind each other, and never the checks of the
// databases that answer. A run with no previous run counts as quick.
type Slots struct {
	all  chan struct{} // every run in flight
	slow chan struct{} // the slow runs among them
}

// NewSlots returns a bound of n runs in flight.
func NewSlots(n int) *Slots {
	n = max(n, 1)
	return &Slots{all: make(chan struct{}, n), slow: make(chan struct{}, max(n-n/4, 1))}
}

// acquire waits for a slot, and a slow one first if slow, until ctx is
// done; the release function is nil when it gave up.
func (s *Slots) acquire(ctx context.Context, slow bool) (release func()) {
	if slow {
		select {
		case s.slow <- struct{}{}:
		case <-ctx.Done():
			return nil
		}
	}
	select {
	case s.all <- struct{}{}:
	case <-ctx.Done():
		if slow {
			<-s.slow
		}
		return nil
	}
	return func() {
		<-s.all
		if slow {
			<-s.slow
		}
	}
}

// withClock replaces time.Now in tests.
func withClock(now func() time.Time) Option { return func(c *config) { c.now = now } }

func defaultConfig() config {
	return config{
		target:    "default",
		now:       time.Now,
		redact:    func(s string) string { return s },
		details:   func(d any) any { return d },
		tracer:    noop.NewTracerProvider().Tracer(instrumentation),
		observers: []observer{spanObserver{}},
	}
}
