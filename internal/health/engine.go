package health

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	libhealth "github.com/alexliesenfeld/health"
	"go.opentelemetry.io/otel/trace"
)

// backstop is how long past its own timeout a run may take before the
// scheduler gives up on it. A Checker that honours its context returns at its
// timeout with a result of its own; the backstop only catches one that does
// not.
const backstop = 500 * time.Millisecond

// Minimum wedge bound: liveness fails only if no check has started for
// max(5 x the longest interval, minWedge).
const minWedge = 2 * time.Minute

// Engine runs the checks on their schedules and publishes every run into its
// Store. The scheduling, per-run timeouts and panic recovery are
// github.com/alexliesenfeld/health's; the thresholds, staleness and verdict
// are the Store's (the library's MaxContiguousFails is not used).
type Engine struct {
	store     *Store
	checker   libhealth.Checker
	defs      map[string]Definition
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

	cfg.observers = append([]Observer{spanObserver{}}, cfg.observers...)
	e := &Engine{
		store:  newStore(cfg, defs),
		defs:   make(map[string]Definition, len(defs)),
		target: cfg.target,
		tracer: cfg.tracer,
		now:    cfg.now,
		wedge:  max(5*longest, minWedge),
	}
	for _, d := range defs {
		e.defs[d.Name] = d
	}
	e.lastStart.Store(e.now().UnixNano())
	libOpts := []libhealth.CheckerOption{libhealth.WithDisabledAutostart()}
	for _, d := range defs {
		libOpts = append(libOpts, libhealth.WithPeriodicCheck(d.Interval, 0, libhealth.Check{
			Name:         d.Name,
			Check:        runChecker(d),
			Timeout:      d.Timeout + backstop,
			Interceptors: []libhealth.Interceptor{e.intercept},
		}))
	}
	e.checker = libhealth.NewChecker(libOpts...)
	return e, nil
}

// Store returns the store the engine publishes into.
func (e *Engine) Store() *Store { return e.store }

// Snapshot returns the current generation (see Store.Snapshot).
func (e *Engine) Snapshot() *Snapshot { return e.store.Snapshot() }

// Run starts every check's schedule and the staleness watchdog, and blocks
// until ctx is done; then it stops the schedule and waits for runs in flight.
func (e *Engine) Run(ctx context.Context) {
	e.lastStart.Store(e.now().UnixNano())
	e.checker.Start()
	e.store.Watch(ctx)
	e.checker.Stop()
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

// intercept wraps every run: it notes the start, opens the run's span,
// hands the check a slot for its full Result, and publishes the run when the
// library is done with it; the span ends with the publish.
func (e *Engine) intercept(next libhealth.InterceptorFunc) libhealth.InterceptorFunc {
	return func(ctx context.Context, name string, state libhealth.CheckState) libhealth.CheckState {
		run := Run{Check: name, Started: e.now()}
		e.lastStart.Store(run.Started.UnixNano())
		ctx, span := startSpan(ctx, e.tracer, e.defs[name], e.target, run)
		slot := &resultSlot{}
		state = next(context.WithValue(ctx, slotKey{}, slot), name, state)
		res, ok := slot.take()
		if !ok {
			res = libraryResult(state.Result)
		}
		run.Finished, run.Result = e.now(), res
		e.store.Publish(ctx, run)
		span.End(trace.WithTimestamp(run.Finished))
		return state
	}
}

// runChecker adapts a Definition to the library's check function: the
// Checker runs under the definition's own timeout and leaves its full Result
// in the run's slot; the library sees only the error.
func runChecker(d Definition) func(ctx context.Context) error {
	return func(ctx context.Context) error {
		ctx, cancel := context.WithTimeout(ctx, d.Timeout)
		defer cancel()
		res := d.Checker.Run(ctx)
		if slot, ok := ctx.Value(slotKey{}).(*resultSlot); ok {
			slot.put(res)
		}
		return res.Err
	}
}

// libraryResult describes a run that left no Result: the Checker panicked
// (the library recovered it) or ignored its deadline past the backstop.
func libraryResult(err error) Result {
	switch {
	case err == nil:
		return Result{Err: errors.New("check returned no result"), Reason: "other"}
	case errors.Is(err, libhealth.CheckTimeoutErr):
		return Result{Err: fmt.Errorf("check did not return within its timeout: %w", err), Reason: "timeout"}
	default:
		return Result{Err: fmt.Errorf("check panicked: %w", err), Reason: "panic"}
	}
}

type slotKey struct{}

// resultSlot carries one run's Result from the Checker to the interceptor.
// Once taken it is closed, so a Checker that returns after the backstop
// cannot change a published run.
type resultSlot struct {
	mu     sync.Mutex
	res    Result
	filled bool
	closed bool
}

func (s *resultSlot) put(r Result) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.closed {
		s.res, s.filled = r, true
	}
}

func (s *resultSlot) take() (Result, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed = true
	return s.res, s.filled
}
