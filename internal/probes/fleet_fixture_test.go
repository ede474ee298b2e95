package probes

import (
	"fmt"
	"net/http"
	"time"

	"github.com/dbhealth/dbhealth-exporter/internal/health"
)

// fakeFleet is a probes.Fleet of hand-made snapshots.
type fakeFleet struct{ targets []Target }

func (f *fakeFleet) Targets() []Target { return f.targets }

func (f *fakeFleet) Readiness(name string) (http.Handler, bool) {
	for _, t := range f.targets {
		if t.Name == name {
			return NewReadiness(fixed{t.Snapshot, alive}, Options{}), true
		}
	}
	return nil, false
}

// fleetMux serves a fleet as the exporter does in fleet mode: the
// exporter's own probes (ready), the fleet's paths and the status page.
func fleetMux(f Fleet) *http.ServeMux {
	mux := http.NewServeMux()
	Register(mux, fixed{&health.Snapshot{Readiness: health.ReadinessReady}, alive}, Options{Version: "1.4.0", Fleet: f})
	RegisterFleet(mux, f)
	return mux
}

// runs is a check's history as the engine keeps it: n runs every 10s up to
// now, each taking latency(i) and failing with fail(i) ("" = passed).
func runs(now time.Time, n int, latency func(i int) time.Duration, fail func(i int) string) []health.RunSummary {
	h := make([]health.RunSummary, n)
	for i := range h {
		h[i] = health.RunSummary{Finished: now.Add(-time.Duration(n-1-i) * 10 * time.Second), Duration: latency(i), Reason: fail(i)}
	}
	return h
}

// checkOf is a check as the engine publishes it after history: its status
// since since, the last run's error and reason.
func checkOf(name string, critical bool, status health.Status, since time.Time, history []health.RunSummary, errText string) health.CheckSnapshot {
	c := health.CheckSnapshot{Definition: health.Definition{Name: name, Critical: critical}, Status: status, Since: since, History: history}
	if len(history) > 0 {
		last := history[len(history)-1]
		c.Last = &health.Outcome{Started: last.Finished.Add(-last.Duration), Finished: last.Finished, Reason: last.Reason, Error: errText}
		for i := len(history) - 1; i >= 0 && history[i].Reason != ""; i-- {
			c.ConsecutiveFailures++
		}
	}
	return c
}

func snapshotOf(name string, checks ...health.CheckSnapshot) *health.Snapshot {
	return &health.Snapshot{Generation: 42, Target: name, Checks: checks, Readiness: health.Verdict(checks, false, nil)}
}

// demoFleet is nine databases at now: two failing (the database refused,
// migrations pending), one stale, one starting, one ready with a
// non-critical check failing and four ready, one of them after two
// timeouts a minute ago. Listed by name, as the exporter lists them.
func demoFleet(now time.Time) *fakeFleet {
	fast := func(i int) time.Duration { return time.Duration(3000+(i*7919)%2500) * time.Microsecond }
	slowish := func(i int) time.Duration { return time.Duration(9+(i*31)%14) * time.Millisecond }
	passed := func(int) string { return "" }
	failedFrom := func(k int, reason string) func(int) string {
		return func(i int) string {
			if i >= k {
				return reason
			}
			return ""
		}
	}
	start := now.Add(-26 * time.Hour)
	lastRun := now
	ok := func(name string, latency func(int) time.Duration) health.CheckSnapshot {
		lastRun = lastRun.Add(-1100 * time.Millisecond) // the checks of a fleet run spread over the interval
		return checkOf(name, true, health.StatusOK, start, runs(lastRun, 30, latency, passed), "")
	}
	refused := "connect 10.0.4.17:5432 (orders-db.internal): connection refused"
	pending := "2 pending (0042_add_refund_index, 0043_backfill_refunds)"
	// Stale since 50s: no result for 3 x 10s + 2s before that.
	stale := checkOf("database", true, health.StatusStale, now.Add(-50*time.Second), runs(now.Add(-82*time.Second), 30, fast, passed), "")
	stale.StaleAt = stale.Since
	starting := checkOf("database", true, health.StatusUnknown, now.Add(-4*time.Second), nil, "")
	crowded := checkOf("connections", false, health.StatusFailing, now.Add(-3*time.Minute), runs(now, 30, fast, failedFrom(12, "over_limit")),
		"92 of 100 connections in use (max_used_ratio 0.9)")
	flapped := checkOf("database", true, health.StatusOK, now.Add(-70*time.Second), runs(now, 30, func(i int) time.Duration {
		if i == 21 || i == 22 {
			return 2 * time.Second
		}
		return fast(i)
	}, func(i int) string {
		if i == 21 || i == 22 {
			return "timeout"
		}
		return ""
	}), "")

	// Refused for 12 minutes: 72 runs at 10s, the last 30 in the history.
	down := checkOf("database", true, health.StatusFailing, now.Add(-12*time.Minute), runs(now.Add(-3*time.Second), 30, fast, failedFrom(0, "refused")), refused)
	downToo := checkOf("migrations", true, health.StatusFailing, now.Add(-12*time.Minute), runs(now.Add(-7*time.Second), 30, fast, failedFrom(0, "refused")), refused)
	down.ConsecutiveFailures, downToo.ConsecutiveFailures = 72, 72

	return &fakeFleet{targets: []Target{
		{Name: "analytics", Labels: map[string]string{"team": "data"}, Snapshot: snapshotOf("analytics", starting)},
		{Name: "billing", Labels: map[string]string{"team": "payments"}, Snapshot: snapshotOf("billing", ok("database", fast), ok("migrations", slowish))},
		{Name: "catalog", Labels: map[string]string{"team": "discovery"}, Snapshot: snapshotOf("catalog", ok("database", fast), ok("migrations", slowish))},
		{Name: "inventory", Labels: map[string]string{"team": "logistics"}, Snapshot: snapshotOf("inventory", flapped, ok("migrations", slowish))},
		{Name: "orders", Labels: map[string]string{"team": "payments", "tier": "1"}, Snapshot: snapshotOf("orders", down, downToo)},
		{Name: "payments", Labels: map[string]string{"team": "payments", "tier": "1"}, Snapshot: snapshotOf("payments",
			ok("database", fast),
			checkOf("migrations", true, health.StatusFailing, now.Add(-4*time.Minute), runs(now, 30, slowish, failedFrom(6, "pending")), pending))},
		{Name: "search", Labels: map[string]string{"team": "discovery"}, Snapshot: snapshotOf("search", stale)},
		{Name: "shipping", Labels: map[string]string{"team": "logistics"}, Snapshot: snapshotOf("shipping", ok("database", fast), ok("migrations", slowish))},
		{Name: "users", Labels: map[string]string{"team": "identity"}, Snapshot: snapshotOf("users", ok("database", fast), crowded)},
	}}
}

// bigFleet is n targets with two checks each, every tenth failing.
func bigFleet(now time.Time, n int) *fakeFleet {
	fast := func(i int) time.Duration { return time.Duration(3000+(i*7919)%2500) * time.Microsecond }
	f := &fakeFleet{}
	for t := range n {
		reason := func(int) string { return "" }
		status, errText := health.StatusOK, ""
		if t%10 == 0 {
			reason = func(i int) string {
				if i >= 20 {
					return "refused"
				}
				return ""
			}
			status, errText = health.StatusFailing, fmt.Sprintf("connect 10.0.%d.%d:5432: connection refused", t/256, t%256)
		}
		name := fmt.Sprintf("db%04d", t)
		f.targets = append(f.targets, Target{Name: name, Labels: map[string]string{"team": "t" + fmt.Sprint(t%7)}, Snapshot: snapshotOf(name,
			checkOf("database", true, status, now.Add(-time.Hour), runs(now, 30, fast, reason), errText),
			checkOf("migrations", true, status, now.Add(-time.Hour), runs(now, 30, fast, reason), errText))})
	}
	return f
}
