package health

import (
	"context"
	"errors"
	"maps"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeClock is a settable clock for store tests.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *fakeClock) add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func newTestStore(t *testing.T, clock *fakeClock, defs ...Definition) *store {
	t.Helper()
	cfg := defaultConfig()
	cfg.now = clock.now
	cfg.redact = func(s string) string { return strings.ReplaceAll(s, "hunter2", "xxxxx") }
	for i := range defs {
		defs[i] = defs[i].withDefaults()
		if err := defs[i].validate(); err != nil {
			t.Fatal(err)
		}
	}
	return newStore(cfg, defs)
}

func run(clock *fakeClock, check string, err error, reason string) finishedRun {
	start := clock.now()
	clock.add(10 * time.Millisecond)
	return finishedRun{check: check, started: start, finished: clock.now(), result: Result{Err: err, Reason: reason}}
}

func TestStore_Generation0IsStartingWithEveryCheckUnknown(t *testing.T) {
	clock := &fakeClock{t: time.Unix(1000, 0)}
	s := newTestStore(t, clock, Definition{Name: "database", Checker: okChecker, Critical: true})
	snap := s.snapshot()
	if snap.Generation != 0 || snap.Readiness != ReadinessStarting {
		t.Fatalf("generation %d readiness %q, want 0 starting", snap.Generation, snap.Readiness)
	}
	if c, _ := snap.Check("database"); c.Status != StatusUnknown || c.Last != nil {
		t.Fatalf("check before any run: %+v", c)
	}
}

func TestStore_PublishAppliesThresholdsAndCountsRuns(t *testing.T) {
	clock := &fakeClock{t: time.Unix(1000, 0)}
	s := newTestStore(t, clock, Definition{Name: "database", Checker: okChecker, Critical: true, FailureThreshold: 2})

	snap := s.publish(context.Background(), run(clock, "database", nil, ""))
	if snap.Generation != 1 || snap.Readiness != ReadinessReady {
		t.Fatalf("after success: generation %d readiness %q", snap.Generation, snap.Readiness)
	}
	snap = s.publish(context.Background(), run(clock, "database", errors.New("dial: connection refused"), "refused"))
	c, _ := snap.Check("database")
	if snap.Readiness != ReadinessReady || c.ConsecutiveFailures != 1 {
		t.Fatalf("one failure under threshold 2: readiness %q consecutive failures %d", snap.Readiness, c.ConsecutiveFailures)
	}
	snap = s.publish(context.Background(), run(clock, "database", errors.New("dial: connection refused"), "refused"))
	c, _ = snap.Check("database")
	if snap.Readiness != ReadinessNotReady || c.Status != StatusFailing {
		t.Fatalf("two failures: readiness %q status %q", snap.Readiness, c.Status)
	}
	if c.Last.Reason != "refused" || c.Last.Error != "dial: connection refused" {
		t.Fatalf("last run: %+v", c.Last)
	}
	if c.Stats.Successes != 1 || c.Stats.Failures != 2 || c.Stats.FailuresByReason["refused"] != 2 || c.Stats.DurationCount != 3 {
		t.Fatalf("stats: %+v", c.Stats)
	}
	if got := c.Stats.DurationBuckets[4]; got != 3 { // 10ms runs fall in the 25ms bucket
		t.Fatalf("25ms bucket = %d, want 3", got)
	}
	if snap.Generation != 3 {
		t.Fatalf("generation %d, want 3", snap.Generation)
	}
}

func TestStore_FailureReasonDefaultsToOtherAndErrorIsRedacted(t *testing.T) {
	clock := &fakeClock{t: time.Unix(1000, 0)}
	s := newTestStore(t, clock, Definition{Name: "database", Checker: okChecker, Critical: true})
	snap := s.publish(context.Background(), run(clock, "database", errors.New("password hunter2 rejected"), ""))
	c, _ := snap.Check("database")
	if c.Last.Reason != "other" || strings.Contains(c.Last.Error, "hunter2") {
		t.Fatalf("last run: %+v", c.Last)
	}
}

func TestStore_OldResultTurnsStaleAndReadinessOff(t *testing.T) {
	clock := &fakeClock{t: time.Unix(1000, 0)}
	s := newTestStore(t, clock, Definition{Name: "database", Checker: okChecker, Critical: true,
		Interval: time.Second, Timeout: 100 * time.Millisecond})
	s.publish(context.Background(), run(clock, "database", nil, ""))

	clock.add(3 * time.Second) // under 3 x 1s + 100ms
	if snap := s.refresh(); snap.Generation != 1 || snap.Readiness != ReadinessReady {
		t.Fatalf("fresh result: generation %d readiness %q", snap.Generation, snap.Readiness)
	}
	clock.add(200 * time.Millisecond)
	snap := s.refresh()
	c, _ := snap.Check("database")
	if snap.Generation != 2 || snap.Readiness != ReadinessNotReady || c.Status != StatusStale {
		t.Fatalf("old result: generation %d readiness %q status %q", snap.Generation, snap.Readiness, c.Status)
	}
	if again := s.refresh(); again != snap {
		t.Fatalf("Refresh without change published generation %d", again.Generation)
	}
	snap = s.publish(context.Background(), run(clock, "database", nil, ""))
	if snap.Readiness != ReadinessReady {
		t.Fatalf("a new result must clear staleness: readiness %q", snap.Readiness)
	}
}

func TestStore_CheckThatNeverReportsTurnsStale(t *testing.T) {
	clock := &fakeClock{t: time.Unix(1000, 0)}
	s := newTestStore(t, clock, Definition{Name: "database", Checker: okChecker, Critical: true,
		Interval: time.Second, Timeout: 100 * time.Millisecond})
	clock.add(4 * time.Second)
	if snap := s.refresh(); snap.Readiness != ReadinessNotReady {
		t.Fatalf("no result for longer than the bound: readiness %q, want not_ready", snap.Readiness)
	}
}

func TestStore_ShutDownIsFinal(t *testing.T) {
	clock := &fakeClock{t: time.Unix(1000, 0)}
	s := newTestStore(t, clock, Definition{Name: "database", Checker: okChecker, Critical: true})
	s.publish(context.Background(), run(clock, "database", nil, ""))
	snap := s.shutDown()
	if snap.Readiness != ReadinessShuttingDown || snap.Generation != 2 {
		t.Fatalf("after ShutDown: generation %d readiness %q", snap.Generation, snap.Readiness)
	}
	if s.shutDown() != snap {
		t.Fatal("a second ShutDown published again")
	}
	if snap = s.publish(context.Background(), run(clock, "database", nil, "")); snap.Readiness != ReadinessShuttingDown {
		t.Fatalf("a run after shutdown: readiness %q", snap.Readiness)
	}
}

func TestStore_ObserversSeeEveryGenerationInOrder(t *testing.T) {
	clock := &fakeClock{t: time.Unix(1000, 0)}
	var seen []uint64
	var runs int
	obs := observerFunc(func(_ context.Context, prev, next *Snapshot, r *finishedRun) {
		if next.Generation != prev.Generation+1 {
			t.Errorf("observer saw %d after %d", next.Generation, prev.Generation)
		}
		seen = append(seen, next.Generation)
		if r != nil {
			runs++
		}
	})
	cfg := defaultConfig()
	cfg.now = clock.now
	cfg.observers = []observer{obs}
	s := newStore(cfg, []Definition{Definition{Name: "database", Checker: okChecker, Critical: true}.withDefaults()})
	s.publish(context.Background(), run(clock, "database", nil, ""))
	s.publish(context.Background(), run(clock, "database", errors.New("x"), "other"))
	s.shutDown()
	if len(seen) != 3 || seen[2] != 3 || runs != 2 {
		t.Fatalf("observer saw generations %v with %d runs", seen, runs)
	}
}

type observerFunc func(ctx context.Context, prev, next *Snapshot, run *finishedRun)

func (f observerFunc) published(ctx context.Context, prev, next *Snapshot, run *finishedRun) {
	f(ctx, prev, next, run)
}

// reasoned is a Checker that declares the reasons it can fail with.
type reasoned struct{ checkerFunc }

func (reasoned) Reasons() []string { return []string{"refused", "auth_failed"} }

func TestStore_FailureCountersStartAtZeroForEveryKnownReason(t *testing.T) {
	clock := &fakeClock{t: time.Unix(1000, 0)}
	s := newTestStore(t, clock,
		Definition{Name: "database", Checker: reasoned{okChecker}, Critical: true},
		Definition{Name: "plain", Checker: okChecker})
	want := map[string]map[string]uint64{
		"database": {"refused": 0, "auth_failed": 0, "other": 0, "panic": 0, "timeout": 0},
		"plain":    {"other": 0, "panic": 0, "timeout": 0},
	}
	for name, counts := range want {
		if c, _ := s.snapshot().Check(name); !maps.Equal(c.Stats.FailuresByReason, counts) {
			t.Errorf("%s before any run: %v, want %v", name, c.Stats.FailuresByReason, counts)
		}
	}
	snap := s.publish(context.Background(), run(clock, "database", errors.New("x"), "refused"))
	if c, _ := snap.Check("database"); c.Stats.FailuresByReason["refused"] != 1 || c.Stats.FailuresByReason["auth_failed"] != 0 {
		t.Fatalf("after one refused: %v", c.Stats.FailuresByReason)
	}
	// A check added by a reload starts at 0 too; one kept keeps its counts.
	snap = s.redefine([]Definition{
		Definition{Name: "database", Checker: reasoned{okChecker}, Critical: true}.withDefaults(),
		Definition{Name: "added", Checker: reasoned{okChecker}}.withDefaults(),
	})
	if c, _ := snap.Check("added"); !maps.Equal(c.Stats.FailuresByReason, want["database"]) {
		t.Errorf("added by a reload: %v", c.Stats.FailuresByReason)
	}
	if c, _ := snap.Check("database"); c.Stats.FailuresByReason["refused"] != 1 {
		t.Errorf("kept by a reload: %v", c.Stats.FailuresByReason)
	}
}

func TestStore_HistoryIsBoundedAndEachGenerationKeepsItsOwn(t *testing.T) {
	clock := &fakeClock{t: time.Unix(1000, 0)}
	s := newTestStore(t, clock, Definition{Name: "database", Checker: okChecker, Critical: true})
	var snaps []*Snapshot
	for i := range HistorySize + 5 {
		var err error
		if i%3 == 0 {
			err = errors.New("refused")
		}
		snaps = append(snaps, s.publish(context.Background(), run(clock, "database", err, "refused")))
	}
	last, _ := snaps[len(snaps)-1].Check("database")
	if len(last.History) != HistorySize || last.History[len(last.History)-1].Reason != "" {
		t.Fatalf("history of %d runs, last %+v", len(last.History), last.History[len(last.History)-1])
	}
	third, _ := snaps[2].Check("database")
	if len(third.History) != 3 || third.History[0].Reason != "refused" {
		t.Fatalf("an old generation's history changed: %+v", third.History)
	}
	if !last.Since.Equal(last.Last.Finished) {
		t.Fatalf("since %s, want the last status change at %s", last.Since, last.Last.Finished)
	}
}
