package health

import (
	"context"
	"sync/atomic"
	"testing"
	"time"
)

// counter is a Checker that counts its runs.
type counter struct{ runs atomic.Int64 }

func (c *counter) Run(context.Context) Result { c.runs.Add(1); return Result{} }

func TestEngine_Update_ChangedCheckKeepsItsStateOthersKeepTheirSchedule_OneGeneration(t *testing.T) {
	a, b := &counter{}, &counter{}
	defA := Definition{Name: "a", Critical: true, Checker: a, Interval: time.Hour, Timeout: time.Second}
	defB := Definition{Name: "b", Critical: true, Checker: b, Interval: time.Hour, Timeout: time.Second}
	e := startEngine(t, defA, defB)
	before := waitFor(t, e.Snapshot, "both ran", func(s *Snapshot) bool { return s.Readiness == ReadinessReady })
	lastA, lastB := lastRun(before, "a"), lastRun(before, "b")

	if err := e.Update([]Definition{defA, defB}); err != nil {
		t.Fatal(err)
	}
	if g := e.Snapshot().Generation; g != before.Generation {
		t.Fatalf("an update that changes nothing published generation %d after %d", g, before.Generation)
	}

	defB.Interval, defB.FailureThreshold = 30*time.Minute, 3
	if err := e.Update([]Definition{defA, defB}); err != nil {
		t.Fatal(err)
	}
	after := e.Snapshot()
	if after.Generation != before.Generation+1 || after.Readiness != ReadinessReady {
		t.Fatalf("generation %d -> %d, readiness %s: want exactly one new generation, still ready",
			before.Generation, after.Generation, after.Readiness)
	}
	cb, _ := after.Check("b")
	if lastRun(after, "a") != lastA || cb.Last != lastB || cb.Interval != 30*time.Minute || cb.FailureThreshold != 3 || cb.Stats.Successes != 1 {
		t.Fatalf("after the update: a %+v, b %+v", lastRun(after, "a"), cb)
	}
	// b runs next one new interval after its last run, not at once; a's
	// schedule is untouched.
	time.Sleep(100 * time.Millisecond)
	if a.runs.Load() != 1 || b.runs.Load() != 1 {
		t.Fatalf("runs a=%d b=%d after the update; want 1 and 1", a.runs.Load(), b.runs.Load())
	}
}

func TestEngine_Update_AddedAndRemovedChecksInOneGeneration(t *testing.T) {
	a, b, c := &counter{}, &counter{}, &counter{}
	defA := Definition{Name: "a", Critical: true, Checker: a, Interval: time.Hour, Timeout: time.Second}
	defB := Definition{Name: "b", Critical: true, Checker: b, Interval: 20 * time.Millisecond, Timeout: 10 * time.Millisecond}
	defC := Definition{Name: "c", Critical: true, Checker: c, Interval: time.Hour, Timeout: time.Second}
	e := startEngine(t, defA, defB)
	before := waitFor(t, e.Snapshot, "ready", func(s *Snapshot) bool { return s.Readiness == ReadinessReady })

	if err := e.Update([]Definition{defA, defC}); err != nil {
		t.Fatal(err)
	}
	snap := waitFor(t, e.Snapshot, "c's first run", func(s *Snapshot) bool { return lastRun(s, "c") != nil })
	if _, ok := snap.Check("b"); ok {
		t.Fatal("b is still in the snapshot after its removal")
	}
	// One generation for the change, then c's run.
	if snap.Generation < before.Generation+2 {
		t.Fatalf("generation %d after %d", snap.Generation, before.Generation)
	}
	time.Sleep(100 * time.Millisecond)
	n := b.runs.Load()
	time.Sleep(100 * time.Millisecond)
	if b.runs.Load() != n {
		t.Fatal("the removed check still runs")
	}
}

func TestEngine_Update_BadDefinitionsChangeNothing(t *testing.T) {
	a := &counter{}
	defA := Definition{Name: "a", Critical: true, Checker: a, Interval: time.Hour, Timeout: time.Second}
	e := startEngine(t, defA)
	before := waitFor(t, e.Snapshot, "ready", func(s *Snapshot) bool { return s.Readiness == ReadinessReady })
	bad := defA
	bad.Timeout = 2 * time.Hour
	err := e.Update([]Definition{bad, {Name: "new", Checker: a}})
	if err == nil {
		t.Fatal("an invalid definition was accepted")
	}
	if after := e.Snapshot(); after != before {
		t.Fatalf("a refused update published generation %d", after.Generation)
	}
	if err := e.Update([]Definition{defA, defA}); err == nil {
		t.Fatal("a duplicate name was accepted")
	}
}
