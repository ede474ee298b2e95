package health

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/otel/trace"
)

// Minimum wedge bound: liveness fails only if no check has started for
// max(5 x the longest interval, minWedge).
const minWedge = 2 * time.Minute

// Engine runs every check on its own schedule (see schedule.go) and folds
// each finished run into the current Snapshot: thresholds, staleness and the
// readiness verdict are computed there, once per generation.
type Engine struct {
	store     *store
	defs      []Definition // defaulted, validated, sorted by name
	target    string
	tracer    trace.Tracer
	now       func() time.Time
	wedge     time.Duration
	lastStart atomic.Int64 // unix nanoseconds of the latest run start
}

// NewEngine validates the definitions and prepares, but does not start, the
// schedule. Start it with Run.
func NewEngine(defs []Definition, opts ...Option) (*Engine, error) {
	cfg := defaultConfig()
	for _, o := range opts {
		o(&cfg)
	}
	defs = slices.Clone(defs)
	var longest time.Duration
	for i := range defs {
		defs[i] = defs[i].withDefaults()
		if err := defs[i].validate(); err != nil {
			return nil, err
		}
		longest = max(longest, defs[i].Interval)
	}
	slices.SortFunc(defs, func(a, b Definition) int { return strings.Compare(a.Name, b.Name) })
	for i := 1; i < len(defs); i++ {
		if defs[i].Name == defs[i-1].Name {
			return nil, fmt.Errorf("check %q is defined twice", defs[i].Name)
		}
	}
	e := &Engine{
		store:  newStore(cfg, defs),
		defs:   defs,
		target: cfg.target,
		tracer: cfg.tracer,
		now:    cfg.now,
		wedge:  max(5*longest, minWedge),
	}
	e.lastStart.Store(e.now().UnixNano())
	return e, nil
}

// Snapshot returns the current generation. It never blocks: handlers and
// the metrics collector call it on every request.
func (e *Engine) Snapshot() *Snapshot { return e.store.snapshot() }

// ShutDown turns readiness to shutting_down for good, in a new generation.
// The checks keep running until Run's context ends.
func (e *Engine) ShutDown() { e.store.shutDown() }

// Run runs every check on its schedule, and the staleness watchdog, until
// ctx is done; then it waits for the runs in flight (each bounded by its
// timeout) and returns. A run cut short by ctx is not published.
func (e *Engine) Run(ctx context.Context) {
	e.lastStart.Store(e.now().UnixNano())
	var wg sync.WaitGroup
	for _, d := range e.defs {
		wg.Go(func() { e.schedule(ctx, d) })
	}
	e.store.watch(ctx)
	wg.Wait()
}

// Liveness says whether the engine is alive: some check has started within
// the wedge bound. It reads two numbers and never blocks.
type Liveness struct {
	OK        bool
	LastStart time.Time     // latest run start (or engine start)
	Bound     time.Duration // max(5 x longest interval, 2m)
}

// Liveness reports on the scheduler itself, never on the database.
func (e *Engine) Liveness() Liveness {
	last := time.Unix(0, e.lastStart.Load())
	return Liveness{OK: e.now().Sub(last) <= e.wedge, LastStart: last, Bound: e.wedge}
}
