package health

import (
	"context"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// finishedRun is one finished run of a check, as the engine hands it to the
// store.
type finishedRun struct {
	check    string
	started  time.Time
	finished time.Time
	result   Result
}

// observer is told about every publish, in order, right after the new
// snapshot becomes current. run is the check run that caused it, or nil when
// the publish came from the staleness watchdog or from shutdown; ctx is that
// run's context (carrying its span) or a background context. Observers run
// while the store is locked: they must be quick and must not publish.
type observer interface {
	published(ctx context.Context, prev, next *Snapshot, run *finishedRun)
}

// store holds the current Snapshot and makes the next one. Reading is one
// atomic load; publishing is serialised.
type store struct {
	mu        sync.Mutex
	current   atomic.Pointer[Snapshot]
	now       func() time.Time
	redact    func(string) string
	details   func(any) any
	observers []observer
	changed   chan struct{} // wakes watch after a publish
}

// newStore returns a store whose generation 0 has every check unknown. defs
// must be defaulted, validated and sorted by name.
func newStore(cfg config, defs []Definition) *store {
	s := &store{
		now:       cfg.now,
		redact:    cfg.redact,
		details:   cfg.details,
		observers: cfg.observers,
		changed:   make(chan struct{}, 1),
	}
	start := s.now()
	checks := make([]CheckSnapshot, 0, len(defs))
	for _, d := range defs {
		checks = append(checks, CheckSnapshot{
			Definition: d,
			Status:     StatusUnknown,
			Since:      start,
			state:      StatusUnknown,
			StaleAt:    start.Add(d.StaleAfter),
			Stats:      newStats(reasonsOf(d)),
		})
	}
	s.current.Store(&Snapshot{
		Target:      cfg.target,
		PublishedAt: start,
		Readiness:   Verdict(checks, false, nil),
		Checks:      checks,
	})
	return s
}

// snapshot returns the current generation. It never blocks.
func (s *store) snapshot() *Snapshot { return s.current.Load() }

// publish folds one finished run into a new generation and returns it. ctx
// is the run's context, handed to the observers.
func (s *store) publish(ctx context.Context, run finishedRun) *Snapshot {
	s.mu.Lock()
	defer s.mu.Unlock()
	prev := s.current.Load()
	i := slices.IndexFunc(prev.Checks, func(c CheckSnapshot) bool { return c.Name == run.check })
	if i < 0 {
		return prev
	}
	checks := slices.Clone(prev.Checks)
	c := checks[i]

	ok := run.result.OK()
	last := &Outcome{Started: run.started, Finished: run.finished, Details: s.details(run.result.Details)}
	if !ok {
		last.Error = s.redact(run.result.Err.Error())
		last.Reason = run.result.Reason
		if last.Reason == "" {
			last.Reason = reasonOther
		}
		if last.Error == "" {
			last.Error = last.Reason
		}
	} else {
		c.LastSuccess = run.finished
	}
	c.Last = last
	c.streak = c.streak.next(ok)
	c.ConsecutiveFailures = c.streak.failures
	c.state = nextState(c.state, c.streak, c.FailureThreshold, c.SuccessThreshold)
	c.Stats = c.Stats.with(ok, last.Reason, last.Duration())
	c.History = withRun(c.History, RunSummary{Finished: last.Finished, Duration: last.Duration(), Reason: last.Reason})
	c.StaleAt = run.finished.Add(c.StaleAfter)
	checks[i] = c
	return s.publishLocked(ctx, prev, checks, prev.ShuttingDown, &run)
}

// shutDown turns readiness to shutting_down for good.
func (s *store) shutDown() *Snapshot {
	s.mu.Lock()
	defer s.mu.Unlock()
	prev := s.current.Load()
	if prev.ShuttingDown {
		return prev
	}
	return s.publishLocked(context.Background(), prev, slices.Clone(prev.Checks), true, nil)
}

// refresh re-evaluates staleness against the clock and publishes a new
// generation only if some check became stale (or fresh).
func (s *store) refresh() *Snapshot {
	s.mu.Lock()
	defer s.mu.Unlock()
	prev := s.current.Load()
	now := s.now()
	for _, c := range prev.Checks {
		if (c.Status == StatusStale) != isStale(c, now) {
			return s.publishLocked(context.Background(), prev, slices.Clone(prev.Checks), prev.ShuttingDown, nil)
		}
	}
	return prev
}

// watch keeps staleness true to the clock: it sleeps until the next check
// would turn stale, refreshes, and repeats until ctx is done. Without it a
// result would stay "ok" for as long as nothing else publishes.
func (s *store) watch(ctx context.Context) {
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-s.changed:
		case <-timer.C:
		}
		snap := s.refresh()
		timer.Reset(nextDeadline(snap, s.now()))
	}
}

// nextDeadline is how long until the first fresh check turns stale.
func nextDeadline(snap *Snapshot, now time.Time) time.Duration {
	wait := time.Hour
	for _, c := range snap.Checks {
		if c.Status != StatusStale {
			wait = min(wait, c.StaleAt.Sub(now))
		}
	}
	return max(wait, 0)
}

func isStale(c CheckSnapshot, now time.Time) bool { return !now.Before(c.StaleAt) }

// publishLocked makes checks the next generation. s.mu must be held; checks
// must be a copy the caller owns.
func (s *store) publishLocked(ctx context.Context, prev *Snapshot, checks []CheckSnapshot, shuttingDown bool, run *finishedRun) *Snapshot {
	now := s.now()
	for i := range checks {
		before := checks[i].Status
		checks[i].Status = checks[i].state
		if isStale(checks[i], now) {
			checks[i].Status = StatusStale
		}
		if checks[i].Status != before || checks[i].Since.IsZero() {
			checks[i].Since = now
		}
	}
	next := &Snapshot{
		Generation:   prev.Generation + 1,
		Target:       prev.Target,
		PublishedAt:  now,
		Readiness:    Verdict(checks, shuttingDown, nil),
		ShuttingDown: shuttingDown,
		Checks:       checks,
	}
	s.current.Store(next)
	for _, o := range s.observers {
		o.published(ctx, prev, next, run)
	}
	select {
	case s.changed <- struct{}{}:
	default:
	}
	return next
}

// redefine publishes the checks of defs (defaulted, validated, sorted) as
// one new generation: a check that stays keeps its state, history and
// statistics under its new definition; a new one is unknown; a removed one
// is gone.
func (s *store) redefine(defs []Definition) *Snapshot {
	s.mu.Lock()
	defer s.mu.Unlock()
	prev := s.current.Load()
	now := s.now()
	checks := make([]CheckSnapshot, 0, len(defs))
	for _, d := range defs {
		c, ok := prev.Check(d.Name)
		if !ok {
			c = CheckSnapshot{state: StatusUnknown, Stats: newStats(nil)}
		}
		c.Definition = d
		c.Stats = c.Stats.counting(reasonsOf(d))
		if c.Last != nil {
			c.StaleAt = c.Last.Finished.Add(d.StaleAfter)
		} else {
			c.StaleAt = now.Add(d.StaleAfter)
		}
		checks = append(checks, c)
	}
	return s.publishLocked(context.Background(), prev, checks, prev.ShuttingDown, nil)
}
