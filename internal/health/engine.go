package health

import (
	"context"
	"fmt"
	"hash/fnv"
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
	target    string
	spread    bool
	slots     *Slots
	tracer    trace.Tracer
	now       func() time.Time
	wedge     atomic.Int64 // nanoseconds: max(5 x longest interval, minWedge)
	lastStart atomic.Int64 // unix nanoseconds of the latest run start

	mu     sync.Mutex
	defs   []Definition // defaulted, validated, sorted by name
	loops  map[string]*loop
	runCtx context.Context // set by Run; nil before
	wg     sync.WaitGroup  // the loops
}

// loop is one check's schedule while the engine runs.
type loop struct {
	def    Definition
	cancel context.CancelFunc
}

// NewEngine validates the definitions and prepares, but does not start, the
// schedule. Start it with Run.
func NewEngine(defs []Definition, opts ...Option) (*Engine, error) {
	cfg := defaultConfig()
	for _, o := range opts {
		o(&cfg)
	}
	defs, err := prepare(defs)
	if err != nil {
		return nil, err
	}
	e := &Engine{
		store:  newStore(cfg, defs),
		defs:   defs,
		target: cfg.target,
		spread: cfg.spread,
		slots:  cfg.slots,
		tracer: cfg.tracer,
		now:    cfg.now,
		loops:  map[string]*loop{},
	}
	e.wedge.Store(int64(wedgeBound(defs)))
	e.lastStart.Store(e.now().UnixNano())
	return e, nil
}

// Validate reports the first problem with defs as NewEngine and Update
// would, without building anything.
func Validate(defs []Definition) error {
	_, err := prepare(defs)
	return err
}

// prepare defaults, validates and sorts definitions.
func prepare(defs []Definition) ([]Definition, error) {
	defs = slices.Clone(defs)
	for i := range defs {
		defs[i] = defs[i].withDefaults()
		if err := defs[i].validate(); err != nil {
			return nil, err
		}
	}
	slices.SortFunc(defs, func(a, b Definition) int { return strings.Compare(a.Name, b.Name) })
	for i := 1; i < len(defs); i++ {
		if defs[i].Name == defs[i-1].Name {
			return nil, fmt.Errorf("check %q is defined twice", defs[i].Name)
		}
	}
	return defs, nil
}

func wedgeBound(defs []Definition) time.Duration {
	var longest time.Duration
	for _, d := range defs {
		longest = max(longest, d.Interval)
	}
	return max(5*longest, minWedge)
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
	e.mu.Lock()
	e.runCtx = ctx
	for _, d := range e.defs {
		e.startLocked(d, e.firstWait(d))
	}
	e.mu.Unlock()
	e.store.watch(ctx)
	e.wg.Wait()
}

// Update replaces the definitions, all or nothing: on an error nothing
// changes. A check whose definition is the same (every setting, and the
// same Checker) keeps its schedule; a changed one keeps its state and
// history under the new settings and runs next one new interval after its
// last run; a new one runs at once; a removed one stops. The change is
// published as one new generation (none when nothing changed).
func (e *Engine) Update(defs []Definition) error {
	defs, err := prepare(defs)
	if err != nil {
		return err
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	old := make(map[string]Definition, len(e.defs))
	for _, d := range e.defs {
		old[d.Name] = d
	}
	changed := len(old) != len(defs)
	for _, d := range defs {
		if prev, ok := old[d.Name]; !ok || !sameDefinition(prev, d) {
			changed = true
		}
	}
	if !changed {
		return nil
	}
	snap := e.store.redefine(defs)
	e.defs = defs
	e.wedge.Store(int64(wedgeBound(defs)))
	if e.runCtx == nil {
		return nil
	}
	keep := map[string]bool{}
	for _, d := range defs {
		if l, ok := e.loops[d.Name]; ok && sameDefinition(l.def, d) {
			keep[d.Name] = true
		}
	}
	for name, l := range e.loops {
		if !keep[name] {
			l.cancel()
			delete(e.loops, name)
		}
	}
	for _, d := range defs {
		if keep[d.Name] {
			continue
		}
		wait := e.firstWait(d)
		if c, ok := snap.Check(d.Name); ok && c.Last != nil {
			wait = max(0, c.Last.Finished.Add(d.Interval).Sub(e.now()))
		}
		e.startLocked(d, wait)
	}
	return nil
}

// firstWait is how long d's first run waits: 0, or with WithSpread a fixed
// offset into its interval.
func (e *Engine) firstWait(d Definition) time.Duration {
	if !e.spread || d.Interval <= 0 {
		return 0
	}
	h := fnv.New64a()
	h.Write([]byte(e.target + "\x00" + d.Name))
	return time.Duration(h.Sum64() % uint64(d.Interval))
}

// startLocked starts d's loop, its first run after wait. e.mu must be held
// and the engine running.
func (e *Engine) startLocked(d Definition, wait time.Duration) {
	ctx, cancel := context.WithCancel(e.runCtx)
	e.loops[d.Name] = &loop{def: d, cancel: cancel}
	e.wg.Go(func() {
		defer cancel()
		e.schedule(ctx, d, wait)
	})
}

// sameDefinition reports whether a and b are the same settings and the
// same Checker.
func sameDefinition(a, b Definition) (same bool) {
	defer func() {
		if recover() != nil { // a Checker of an incomparable type
			same = false
		}
	}()
	return a == b
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
	bound := time.Duration(e.wedge.Load())
	return Liveness{OK: e.now().Sub(last) <= bound, LastStart: last, Bound: bound}
}
