package health

import (
	"context"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// checkerFunc adapts a function to the Checker interface.
type checkerFunc func(ctx context.Context) Result

func (f checkerFunc) Run(ctx context.Context) Result { return f(ctx) }

var okChecker = checkerFunc(func(context.Context) Result { return Result{} })

// startEngine runs an engine until the test ends.
func startEngine(t *testing.T, defs ...Definition) *Engine {
	t.Helper()
	return startEngineWith(t, nil, defs...)
}

// startEngineWith runs an engine with options until the test ends.
func startEngineWith(t *testing.T, opts []Option, defs ...Definition) *Engine {
	t.Helper()
	e, err := NewEngine(defs, opts...)
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
func waitFor(t *testing.T, s func() *Snapshot, what string, cond func(*Snapshot) bool) *Snapshot {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if snap := s(); cond(snap) {
			return snap
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatalf("timed out waiting for %s; last snapshot: %+v", what, s())
	return nil
}

func lastRun(snap *Snapshot, name string) *Outcome {
	c, _ := snap.Check(name)
	return c.Last
}

func TestEngine_RunsChecksPeriodicallyAndPublishesEachRun(t *testing.T) {
	var runs atomic.Int64
	e := startEngine(t, Definition{Name: "counter", Critical: true, Interval: 20 * time.Millisecond, Timeout: 10 * time.Millisecond,
		Checker: checkerFunc(func(context.Context) Result { runs.Add(1); return Result{Details: map[string]int{"n": 1}} })})
	snap := waitFor(t, e.Snapshot, "three runs", func(s *Snapshot) bool { return s.Generation >= 3 })
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
		Checker: checkerFunc(func(context.Context) Result { panic("kaboom") })})
	snap := waitFor(t, e.Snapshot, "a run", func(s *Snapshot) bool { return s.Generation >= 1 })
	last := lastRun(snap, "boom")
	if last.Reason != "panic" || !strings.Contains(last.Error, "kaboom") || snap.Readiness != ReadinessNotReady {
		t.Fatalf("readiness %q last run %+v", snap.Readiness, last)
	}
}

func TestEngine_CheckHonouringItsDeadlineReportsItsOwnTimeout(t *testing.T) {
	e := startEngine(t, Definition{Name: "slow", Critical: true, Interval: time.Second, Timeout: 50 * time.Millisecond,
		Checker: checkerFunc(func(ctx context.Context) Result {
			<-ctx.Done()
			return Result{Err: ctx.Err(), Reason: "timeout", Details: "partial"}
		})})
	snap := waitFor(t, e.Snapshot, "a run", func(s *Snapshot) bool { return s.Generation >= 1 })
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
		Checker: checkerFunc(func(context.Context) Result { <-release; return Result{} })})
	snap := waitFor(t, e.Snapshot, "a run", func(s *Snapshot) bool { return s.Generation >= 1 })
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
	go e.store.watch(ctx)
	e.runOnce(ctx, e.defs[0], false) // one run, then no more: a wedged schedule
	waitFor(t, e.Snapshot, "ready", func(s *Snapshot) bool { return s.Readiness == ReadinessReady })
	stoppedAt := time.Now()
	snap := waitFor(t, e.Snapshot, "stale", func(s *Snapshot) bool { return s.Readiness == ReadinessNotReady })
	if c, _ := snap.Check("database"); c.Status != StatusStale {
		t.Fatalf("status %q, want stale", c.Status)
	}
	if time.Since(stoppedAt) < 100*time.Millisecond {
		t.Fatalf("turned stale %s after the last run; the bound is 150ms", time.Since(stoppedAt))
	}
}

func TestEngine_LivenessFailsOnlyWhenNoRunStartsWithinTheBound(t *testing.T) {
	clock := &fakeClock{t: time.Unix(1000, 0)}
	e, err := NewEngine([]Definition{{Name: "database", Critical: true, Checker: okChecker, Interval: time.Minute}},
		withClock(clock.now))
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

func TestEngine_StuckCheckerIsNotStartedAgainUntilItReturns(t *testing.T) {
	release := make(chan struct{})
	var runs atomic.Int64
	e := startEngine(t, Definition{Name: "stuck", Critical: true, Interval: 20 * time.Millisecond, Timeout: 10 * time.Millisecond,
		Checker: checkerFunc(func(context.Context) Result {
			if runs.Add(1) == 1 {
				<-release
			}
			return Result{}
		})})
	waitFor(t, e.Snapshot, "the backstop's timeout", func(s *Snapshot) bool { return s.Generation >= 1 })
	time.Sleep(10 * 20 * time.Millisecond) // ten intervals
	if n := runs.Load(); n != 1 {
		t.Fatalf("%d runs started while the first was stuck; want 1 (one goroutine per wedged check)", n)
	}
	close(release)
	snap := waitFor(t, e.Snapshot, "a run after the stuck one returned", func(s *Snapshot) bool {
		return s.Readiness == ReadinessReady
	})
	if last := lastRun(snap, "stuck"); !last.OK() {
		t.Fatalf("last run %+v", last)
	}
}

func TestEngine_RunReturnsOnCancelWithoutPublishingTheCutRun(t *testing.T) {
	started := make(chan struct{})
	e, err := NewEngine([]Definition{{Name: "slow", Critical: true, Interval: time.Second, Timeout: 900 * time.Millisecond,
		Checker: checkerFunc(func(ctx context.Context) Result {
			close(started)
			<-ctx.Done()
			return Result{Err: ctx.Err(), Reason: "timeout"}
		})}})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { e.Run(ctx); close(done) }()
	<-started
	cancel()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not return after its context ended")
	}
	if g := e.Snapshot().Generation; g != 0 {
		t.Fatalf("a run cut short by the engine's own stop was published (generation %d)", g)
	}
}

func TestEngine_Spread_FirstRunsAtAFixedOffsetIntoTheInterval(t *testing.T) {
	var started atomic.Int64
	checker := checkerFunc(func(context.Context) Result { started.Add(1); return Result{} })
	defs := []Definition{{Name: "a", Checker: checker, Interval: time.Hour, Timeout: time.Second}}
	spread, err := NewEngine(defs, WithSpread(), WithTarget("orders"))
	if err != nil {
		t.Fatal(err)
	}
	again, _ := NewEngine(defs, WithSpread(), WithTarget("orders"))
	other, _ := NewEngine(defs, WithSpread(), WithTarget("billing"))
	w := spread.firstWait(spread.defs[0])
	if w <= 0 || w >= time.Hour || again.firstWait(again.defs[0]) != w || other.firstWait(other.defs[0]) == w {
		t.Fatalf("offsets %s, %s, %s: want one in (0, 1h), the same for the same target and check, another for another target",
			w, again.firstWait(again.defs[0]), other.firstWait(other.defs[0]))
	}
	plain, _ := NewEngine(defs)
	if plain.firstWait(plain.defs[0]) != 0 {
		t.Fatal("without WithSpread the first run is at once")
	}
}

func TestEngine_Concurrency_BoundsRunsInFlightAcrossEngines(t *testing.T) {
	slots := NewSlots(2)
	var inFlight, most atomic.Int64
	checker := checkerFunc(func(ctx context.Context) Result {
		n := inFlight.Add(1)
		for {
			m := most.Load()
			if n <= m || most.CompareAndSwap(m, n) {
				break
			}
		}
		time.Sleep(20 * time.Millisecond)
		inFlight.Add(-1)
		return Result{}
	})
	var engines []*Engine
	for i := range 6 {
		engines = append(engines, startEngineWith(t, []Option{WithConcurrency(slots), WithTarget(fmt.Sprint(i))},
			Definition{Name: "a", Checker: checker, Interval: 30 * time.Millisecond, Timeout: 25 * time.Millisecond}))
	}
	for _, e := range engines {
		waitFor(t, e.Snapshot, "three runs", func(s *Snapshot) bool { return s.Generation >= 3 })
	}
	if most.Load() > 2 {
		t.Fatalf("%d runs in flight at once; the bound is 2", most.Load())
	}
}

func TestEngine_Concurrency_HangingTargetsLeaveAQuarterOfTheSlotsToTheOthers(t *testing.T) {
	// Four slots, twelve targets whose check hangs for its whole timeout (a
	// database that accepts TCP and never answers) and one that answers at
	// once. After its first run a hanging check is slow: slow runs hold at
	// most three slots, so the answering target always finds one free.
	slots := NewSlots(4)
	var hanging, most atomic.Int64
	var quickRuns, quickBesideThree atomic.Int64
	for i := range 12 {
		var runs atomic.Int64
		hang := checkerFunc(func(ctx context.Context) Result {
			first := runs.Add(1) == 1
			if !first {
				n := hanging.Add(1)
				defer hanging.Add(-1)
				for m := most.Load(); n > m && !most.CompareAndSwap(m, n); m = most.Load() {
				}
			}
			<-ctx.Done()
			return Result{Err: ctx.Err(), Reason: "timeout"}
		})
		startEngineWith(t, []Option{WithConcurrency(slots), WithTarget(fmt.Sprint("hanging", i))},
			Definition{Name: "database", Checker: hang, Interval: 50 * time.Millisecond, Timeout: 40 * time.Millisecond})
	}
	quick := checkerFunc(func(context.Context) Result {
		quickRuns.Add(1)
		if hanging.Load() == 3 {
			quickBesideThree.Add(1)
		}
		return Result{}
	})
	e := startEngineWith(t, []Option{WithConcurrency(slots), WithTarget("answering")},
		Definition{Name: "database", Checker: quick, Interval: 50 * time.Millisecond, Timeout: 40 * time.Millisecond})
	waitFor(t, e.Snapshot, "runs of the answering target beside three slow ones",
		func(*Snapshot) bool { return quickBesideThree.Load() >= 10 })
	if most.Load() > 3 {
		t.Fatalf("%d slow runs in flight at once; with 4 slots they may hold 3", most.Load())
	}
}

func TestSlots_ShareOfTheSlowRuns(t *testing.T) {
	for n, want := range map[int]int{1: 1, 2: 2, 4: 3, 32: 24} {
		if got := cap(NewSlots(n).slow); got != want {
			t.Errorf("NewSlots(%d): %d slots for slow runs, want %d", n, got, want)
		}
	}
}
