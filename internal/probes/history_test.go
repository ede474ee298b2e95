package probes

import (
	"strings"
	"testing"
	"time"

	"github.com/dbhealth/dbhealth-exporter/internal/health"
)

func TestStrip_DrawsEachRunRightAlignedFailuresFullHeight(t *testing.T) {
	ms := time.Millisecond
	run := func(d time.Duration, reason string) health.RunSummary {
		return health.RunSummary{Finished: t0, Duration: d, Reason: reason}
	}
	for _, tc := range []struct {
		name           string
		runs           []health.RunSummary
		passed, failed string
		label          string
	}{
		{name: "no runs", label: "no runs yet"},
		{name: "one run: the rightmost bar, full height", runs: []health.RunSummary{run(2*ms, "")},
			passed: "M118 20v-20", label: "last run: 1 passed; latency median 2.0 ms, max 2.0 ms"},
		{name: "passed runs to the scale of the slowest passed one, failed ones full height",
			runs:   []health.RunSummary{run(1*ms, ""), run(4*ms, ""), run(3*time.Second, "refused"), run(2*ms, "timeout"), run(10*time.Microsecond, "")},
			passed: "M102 20v-5M106 20v-20M118 20v-3", failed: "M110 20v-20M114 20v-20",
			label: "last 5 runs: 3 passed, 2 failed (refused, timeout); latency median 2.0 ms, max 3.00 s"},
		{name: "reasons counted", runs: []health.RunSummary{run(ms, "refused"), run(ms, "refused"), run(ms, "auth_failed")},
			failed: "M110 20v-20M114 20v-20M118 20v-20",
			label:  "last 3 runs: 0 passed, 3 failed (auth_failed, refused ×2); latency median 1.0 ms, max 1.0 ms"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newStrip(tc.runs)
			if s.Passed != tc.passed || s.Failed != tc.failed || s.Label != tc.label {
				t.Errorf("passed %q failed %q label %q", s.Passed, s.Failed, s.Label)
			}
		})
	}
}

func TestStrip_KeepsTheLastHistorySizeRuns(t *testing.T) {
	runs := make([]health.RunSummary, health.HistorySize+5)
	for i := range runs {
		runs[i] = health.RunSummary{Duration: time.Millisecond}
	}
	runs[0].Reason = "refused" // dropped
	s := newStrip(runs)
	if s.Runs != health.HistorySize || s.Failures != 0 || s.Failed != "" || !strings.HasPrefix(s.Passed, "M2 20v-20M6 ") {
		t.Fatalf("%+v", s)
	}
}

func TestStrip_HTML(t *testing.T) {
	if got := newStrip(nil).html(); got != "<small>no runs yet</small>" {
		t.Errorf("no runs: %q", got)
	}
	got := string(newStrip([]health.RunSummary{{Duration: time.Millisecond}, {Duration: time.Millisecond, Reason: "<x>"}}).html())
	want := `<svg class="strip" width="120" height="20" viewBox="0 0 120 20" role="img">` +
		`<title>last 2 runs: 1 passed, 1 failed (&lt;x&gt;); latency median 1.0 ms, max 1.0 ms</title>` +
		`<path class="passed" d="M114 20v-20"/><path class="failed" d="M118 20v-20"/></svg><small class="failures">1 of 2 failed</small>`
	if got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
}

func TestLatency_ForPeople(t *testing.T) {
	for d, want := range map[time.Duration]string{
		850 * time.Microsecond:  "850 µs",
		4200 * time.Microsecond: "4.2 ms",
		120 * time.Millisecond:  "120 ms",
		2 * time.Second:         "2.00 s",
	} {
		if got := latency(d); got != want {
			t.Errorf("%s: %q, want %q", d, got, want)
		}
	}
}
