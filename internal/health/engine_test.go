package health

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

var okChecker = CheckerFunc(func(context.Context) Result { return Result{} })

// startEngine runs an engine until the test ends.
func startEngine(t *testing.T, defs ...Definition) *Engine {
	t.Helper()
	e, err := NewEngine(defs)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { e.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	return e
}

// waitFor polls the store until cond holds for the current snapshot.
func waitFor(t *testing.T, s *Store, what string, cond func(*Snapshot) bool) *Snapshot {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if snap := s.Snapshot(); cond(snap) {
			return snap
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatalf("timed out waiting for %s; last snapshot: %+v", what, s.Snapshot())
	return nil
}

func lastRun(snap *Snapshot, name string) *LastRun {
	c, _ := snap.Check(name)
	return c.Last
}

func TestEngine_RunsChecksPeriodicallyAndPublishesEachRun(t *testing.T) {
	var runs atomic.Int64
	e := startEngine(t, Definition{Name: "counter", Critical: true, Interval: 20 * time.Millisecond, Timeout: 10 * time.Millisecond,
		Checker: CheckerFunc(func(context.Context) Result { runs.Add(1); return Result{Details: map[string]int{"n": 1}} })})
	snap := waitFor(t, e.Store(), "three runs", func(s *Snapshot) bool { return s.Generation >= 3 })
	if snap.Readiness != ReadinessReady {
		t.Fatalf("readiness %q", snap.Readiness)
	}
	if got := lastRun(snap, "counter").Details.(map[string]int)["n"]; got != 1 {
		t.Fatalf("details not carried: %v", lastRun(snap, "counter").Details)
	}
	if runs.Load() < 3 {
		t.Fatalf("runs = %d", runs.Load())
	}
}

func TestEngine_PanickingCheckIsAFailureWithReasonPanic(t *testing.T) {
	e := startEngine(t, Definition{Name: "boom", Critical: true, Interval: time.Second, Timeout: 50 * time.Millisecond,
		Checker: CheckerFunc(func(context.Context) Result { panic("kaboom") })})
	snap := waitFor(t, e.Store(), "a run", func(s *Snapshot) bool { return s.Generation >= 1 })
	last := lastRun(snap, "boom")
	if last.Reason != "panic" || !strings.Contains(last.Error, "kaboom") || snap.Readiness != ReadinessNotReady {
		t.Fatalf("readiness %q last run %+v", snap.Readiness, last)
	}
}

func TestEngine_CheckHonouringItsDeadlineReportsItsOwnTimeout(t *testing.T) {
	e := startEngine(t, Definition{Name: "slow", Critical: true, Interval: time.Second, Timeout: 50 * time.Millisecond,
		Checker: CheckerFunc(func(ctx context.Context) Result {
			<-ctx.Done()
			return Result{Err: ctx.Err(), Reason: "timeout", Details: "partial"}
		})})
	snap := waitFor(t, e.Store(), "a run", func(s *Snapshot) bool { return s.Generation >= 1 })
	last := lastRun(snap, "slow")
	if last.Reason != "timeout" || last.Details != "partial" {
		t.Fatalf("last run %+v", last)
	}
	if d := last.Duration(); d < 50*time.Millisecond || d >= 50*time.Millisecond+backstop {
		t.Fatalf("run took %s; want its own 50ms timeout, before the backstop", d)
	}
}

func TestEngine_CheckIgnoringItsDeadlineIsCutOffByTheBackstop(t *testing.T) {
	release := make(chan struct{})
	t.Cleanup(func() { close(release) })
	e := startEngine(t, Definition{Name: "stuck", Critical: true, Interval: 5 * time.Second, Timeout: 50 * time.Millisecond,
		Checker: CheckerFunc(func(context.Context) Result { <-release; return Result{} })})
	snap := waitFor(t, e.Store(), "a run", func(s *Snapshot) bool { return s.Generation >= 1 })
	last := lastRun(snap, "stuck")
	if last.Reason != "timeout" || snap.Readiness != ReadinessNotReady {
		t.Fatalf("readiness %q last run %+v", snap.Readiness, last)
	}
}

func TestEngine_WedgedSchedulerTurnsResultsStale(t *testing.T) {
	// The scheduler is stopped while the staleness watchdog keeps running:
	// the last "ok" must not outlive its bound.
	e, err := NewEngine([]Definition{{Name: "database", Critical: true, Checker: okChecker,
		Interval: 20 * time.Millisecond, Timeout: 10 * time.Millisecond, StaleAfter: 150 * time.Millisecond}})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go e.Store().Watch(ctx)
	e.checker.Start()
	waitFor(t, e.Store(), "ready", func(s *Snapshot) bool { return s.Readiness == ReadinessReady })
	e.checker.Stop()
	stoppedAt := time.Now()
	snap := waitFor(t, e.Store(), "stale", func(s *Snapshot) bool { return s.Readiness == ReadinessNotReady })
	if c, _ := snap.Check("database"); c.Status() != StatusStale {
		t.Fatalf("status %q, want stale", c.Status())
	}
	if time.Since(stoppedAt) < 100*time.Millisecond {
		t.Fatalf("turned stale %s after the last run; the bound is 150ms", time.Since(stoppedAt))
	}
}

func TestEngine_LivenessFailsOnlyWhenNoRunStartsWithinTheBound(t *testing.T) {
	clock := &fakeClock{t: time.Unix(1000, 0)}
	e, err := NewEngine([]Definition{{Name: "database", Critical: true, Checker: okChecker, Interval: time.Minute}},
		WithClock(clock.now))
	if err != nil {
		t.Fatal(err)
	}
	if l := e.Liveness(); !l.OK || l.Bound != 5*time.Minute {
		t.Fatalf("fresh engine: %+v", l)
	}
	clock.add(5*time.Minute + time.Second)
	if l := e.Liveness(); l.OK {
		t.Fatalf("no run started for 5m1s: %+v", l)
	}
}

func TestNewEngine_RejectsBadDefinitions(t *testing.T) {
	cases := map[string]Definition{
		"bad name":          {Name: "Data-base", Checker: okChecker},
		"reserved name":     {Name: "status", Checker: okChecker},
		"no checker":        {Name: "database"},
		"timeout >= period": {Name: "database", Checker: okChecker, Interval: time.Second, Timeout: time.Second},
		"stale bound short": {Name: "database", Checker: okChecker, Interval: time.Second, Timeout: 100 * time.Millisecond, StaleAfter: time.Second},
	}
	for name, def := range cases {
		if _, err := NewEngine([]Definition{def}); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
	if _, err := NewEngine([]Definition{{Name: "a", Checker: okChecker}, {Name: "a", Checker: okChecker}}); err == nil {
		t.Error("duplicate names: no error")
	}
}

func TestResultSlot_LateResultIsDropped(t *testing.T) {
	s := &resultSlot{}
	if _, ok := s.take(); ok {
		t.Fatal("empty slot gave a result")
	}
	s.put(Result{Err: errors.New("late")})
	if _, ok := s.take(); ok {
		t.Fatal("a result put after take was kept")
	}
}
