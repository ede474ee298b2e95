package health

import (
	"context"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// Run is one finished run of a check, as the engine hands it to the store.
type Run struct {
	Check    string
	Started  time.Time
	Finished time.Time
	Result   Result
}

// Observer is told about every publish, in order, right after the new
// snapshot becomes current. run is the check run that caused it, or nil when
// the publish came from the staleness watchdog or from shutdown; ctx is that
// run's context (carrying its span) or a background context. Observers run
// while the store is locked: they must be quick and must not publish.
type Observer interface {
	Published(ctx context.Context, prev, next *Snapshot, run *Run)
}

// Store holds the current Snapshot and makes the next one. Reading is one
// atomic load; publishing is serialised.
type Store struct {
	mu        sync.Mutex
	current   atomic.Pointer[Snapshot]
	defs      map[string]Definition
	now       func() time.Time
	redact    func(string) string
	observers []Observer
	changed   chan struct{} // wakes Watch after a publish
}

// newStore returns a store whose generation 0 has every check unknown. defs
// must be defaulted, validated and sorted by name.
func newStore(cfg config, defs []Definition) *Store {
	s := &Store{
		defs:      make(map[string]Definition, len(defs)),
		now:       cfg.now,
		redact:    cfg.redact,
		observers: cfg.observers,
		changed:   make(chan struct{}, 1),
	}
	start := s.now()
	checks := make([]CheckSnapshot, 0, len(defs))
	for _, d := range defs {
		s.defs[d.Name] = d
		checks = append(checks, CheckSnapshot{
			Name:     d.Name,
			Critical: d.Critical,
			State:    StatusUnknown,
			StaleAt:  start.Add(d.StaleAfter),
			Stats:    &Stats{DurationBuckets: make([]uint64, len(DurationBuckets))},
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

// Snapshot returns the current generation. It never blocks.
func (s *Store) Snapshot() *Snapshot { return s.current.Load() }

// Publish folds one finished run into a new generation and returns it. ctx
// is the run's context, handed to the observers.
func (s *Store) Publish(ctx context.Context, run Run) *Snapshot {
	s.mu.Lock()
	defer s.mu.Unlock()
	prev := s.current.Load()
	def, known := s.defs[run.Check]
	if !known {
		return prev
	}
	checks := slices.Clone(prev.Checks)
	i := slices.IndexFunc(checks, func(c CheckSnapshot) bool { return c.Name == run.Check })
	c := checks[i]

	ok := run.Result.OK()
	last := &LastRun{Started: run.Started, Finished: run.Finished, Details: run.Result.Details}
	if !ok {
		last.Error = s.redact(run.Result.Err.Error())
		last.Reason = run.Result.Reason
		if last.Reason == "" {
			last.Reason = "other"
		}
		if last.Error == "" {
			last.Error = last.Reason
		}
	} else {
		c.LastSuccess = run.Finished
	}
	c.Last = last
	c.Streak = c.Streak.Next(ok)
	c.State = NextState(c.State, c.Streak, def.FailureThreshold, def.SuccessThreshold)
	c.Stats = c.Stats.with(ok, last.Reason, last.Duration())
	c.StaleAt = run.Finished.Add(def.StaleAfter)
	checks[i] = c
	return s.publishLocked(ctx, prev, checks, prev.ShuttingDown, &run)
}

// ShutDown turns readiness to shutting_down for good.
func (s *Store) ShutDown() *Snapshot {
	s.mu.Lock()
	defer s.mu.Unlock()
	prev := s.current.Load()
	if prev.ShuttingDown {
		return prev
	}
	return s.publishLocked(context.Background(), prev, slices.Clone(prev.Checks), true, nil)
}

// Refresh re-evaluates staleness against the clock and publishes a new
// generation only if some check became stale (or fresh).
func (s *Store) Refresh() *Snapshot {
	s.mu.Lock()
	defer s.mu.Unlock()
	prev := s.current.Load()
	now := s.now()
	for _, c := range prev.Checks {
		if c.Stale != isStale(c, now) {
			return s.publishLocked(context.Background(), prev, slices.Clone(prev.Checks), prev.ShuttingDown, nil)
		}
	}
	return prev
}

// Watch keeps staleness true to the clock: it sleeps until the next check
// would turn stale, refreshes, and repeats until ctx is done. Without it a
// result would stay "ok" for as long as nothing else publishes.
func (s *Store) Watch(ctx context.Context) {
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-s.changed:
		case <-timer.C:
		}
		snap := s.Refresh()
		timer.Reset(nextDeadline(snap, s.now()))
	}
}

// nextDeadline is how long until the first fresh check turns stale.
func nextDeadline(snap *Snapshot, now time.Time) time.Duration {
	wait := time.Hour
	for _, c := range snap.Checks {
		if !c.Stale {
			wait = min(wait, c.StaleAt.Sub(now))
		}
	}
	return max(wait, 0)
}

func isStale(c CheckSnapshot, now time.Time) bool { return !now.Before(c.StaleAt) }

// publishLocked makes checks the next generation. s.mu must be held; checks
// must be a copy the caller owns.
func (s *Store) publishLocked(ctx context.Context, prev *Snapshot, checks []CheckSnapshot, shuttingDown bool, run *Run) *Snapshot {
	now := s.now()
	for i := range checks {
		checks[i].Stale = isStale(checks[i], now)
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
		o.Published(ctx, prev, next, run)
	}
	select {
	case s.changed <- struct{}{}:
	default:
	}
	return next
}
