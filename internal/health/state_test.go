package health

import "testing"

func TestNextState_AppliesThresholds(t *testing.T) {
	runs := func(outcomes ...bool) []bool { return outcomes }
	cases := []struct {
		name      string
		fail, ok  int
		outcomes  []bool
		wantState []Status
	}{
		{"first failure of a never-succeeded check is failing, whatever the threshold", 3, 1,
			runs(false), []Status{StatusFailing}},
		{"never succeeded stays failing until a success", 3, 1,
			runs(false, false, false, true), []Status{StatusFailing, StatusFailing, StatusFailing, StatusOK}},
		{"first success is ok at once", 1, 3,
			runs(true), []Status{StatusOK}},
		{"ok tolerates failures below the threshold", 3, 1,
			runs(true, false, false, false), []Status{StatusOK, StatusOK, StatusOK, StatusFailing}},
		{"a success resets the failure streak", 2, 1,
			runs(true, false, true, false, false), []Status{StatusOK, StatusOK, StatusOK, StatusOK, StatusFailing}},
		{"failing needs the success threshold to recover", 1, 2,
			runs(true, false, true, true), []Status{StatusOK, StatusFailing, StatusFailing, StatusOK}},
		{"a failure resets the success streak", 1, 2,
			runs(false, true, false, true, true), []Status{StatusFailing, StatusFailing, StatusFailing, StatusFailing, StatusOK}},
		{"thresholds of one follow every run", 1, 1,
			runs(true, false, true, false), []Status{StatusOK, StatusFailing, StatusOK, StatusFailing}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			state, streak := StatusUnknown, streak{}
			for i, ok := range tc.outcomes {
				streak = streak.next(ok)
				state = nextState(state, streak, tc.fail, tc.ok)
				if state != tc.wantState[i] {
					t.Fatalf("after run %d (ok=%v): state %q, want %q", i+1, ok, state, tc.wantState[i])
				}
			}
		})
	}
}

func TestVerdict(t *testing.T) {
	check := func(name string, critical bool, state Status, stale bool) CheckSnapshot {
		if stale {
			state = StatusStale
		}
		return CheckSnapshot{Definition: Definition{Name: name, Critical: critical}, Status: state}
	}
	cases := []struct {
		name         string
		checks       []CheckSnapshot
		shuttingDown bool
		exclude      string
		want         Readiness
	}{
		{"no checks is ready", nil, false, "", ReadinessReady},
		{"all ok", []CheckSnapshot{check("a", true, StatusOK, false), check("b", true, StatusOK, false)}, false, "", ReadinessReady},
		{"a critical check without result is starting", []CheckSnapshot{check("a", true, StatusOK, false), check("b", true, StatusUnknown, false)}, false, "", ReadinessStarting},
		{"failing beats starting", []CheckSnapshot{check("a", true, StatusUnknown, false), check("b", true, StatusFailing, false)}, false, "", ReadinessNotReady},
		{"stale ok is not ready", []CheckSnapshot{check("a", true, StatusOK, true)}, false, "", ReadinessNotReady},
		{"stale unknown is not ready", []CheckSnapshot{check("a", true, StatusUnknown, true)}, false, "", ReadinessNotReady},
		{"non-critical failure does not count", []CheckSnapshot{check("a", true, StatusOK, false), check("b", false, StatusFailing, false)}, false, "", ReadinessReady},
		{"non-critical unknown does not count", []CheckSnapshot{check("b", false, StatusUnknown, false)}, false, "", ReadinessReady},
		{"shutting down wins over ok", []CheckSnapshot{check("a", true, StatusOK, false)}, true, "", ReadinessShuttingDown},
		{"shutting down wins over failing", []CheckSnapshot{check("a", true, StatusFailing, false)}, true, "", ReadinessShuttingDown},
		{"excluded failing check does not count", []CheckSnapshot{check("a", true, StatusOK, false), check("b", true, StatusFailing, false)}, false, "b", ReadinessReady},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			excluded := func(name string) bool { return name == tc.exclude }
			if got := Verdict(tc.checks, tc.shuttingDown, excluded); got != tc.want {
				t.Fatalf("Verdict = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestCheckVerdict_IgnoresCriticalFlag(t *testing.T) {
	c := CheckSnapshot{Definition: Definition{Name: "x"}, Status: StatusFailing}
	if got := CheckVerdict(c); got != ReadinessNotReady {
		t.Fatalf("CheckVerdict(non-critical failing) = %q, want not_ready", got)
	}
}
