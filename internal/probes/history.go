package probes

import (
	"fmt"
	"html/template"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/dbhealth/dbhealth-exporter/internal/health"
)

// The history strip's geometry: one bar per run, newest on the right, so
// that a check's last health.HistorySize runs fill the strip.
const (
	barPitch    = 4 // px from one bar to the next
	stripHeight = 20
	minBar      = 3 // px: the fastest passed run still shows
)

// strip is a check's history as the status page draws it: an inline SVG
// of one bar per run (passed runs green, as tall as their latency relative
// to the slowest passed run shown; failed runs red and full height), its
// title saying the same in words.
type strip struct {
	Runs, Failures int
	// Passed and Failed are SVG path data, one vertical segment per run.
	Passed, Failed string
	// Label sums the strip up: counts, reasons, median and slowest
	// latency.
	Label string
}

// html is the strip's cell on the status page: the SVG, and how many runs
// failed when any did. The page's template inserts it as it is (its
// actions cost a reflective call each, and the strips are most of a
// large fleet's page): the label is the only text in it, escaped here.
func (s strip) html() template.HTML {
	if s.Runs == 0 {
		return "<small>no runs yet</small>"
	}
	var b strings.Builder
	fmt.Fprintf(&b, `<svg class="strip" width="%d" height="%d" viewBox="0 0 %[1]d %[2]d" role="img"><title>%s</title>`,
		health.HistorySize*barPitch, stripHeight, template.HTMLEscapeString(s.Label))
	if s.Passed != "" {
		b.WriteString(`<path class="passed" d="` + s.Passed + `"/>`)
	}
	if s.Failed != "" {
		b.WriteString(`<path class="failed" d="` + s.Failed + `"/>`)
	}
	b.WriteString("</svg>")
	if s.Failures > 0 {
		fmt.Fprintf(&b, `<small class="failures">%d of %d failed</small>`, s.Failures, s.Runs)
	}
	return template.HTML(b.String())
}

// newStrip draws runs (oldest first, as health.CheckSnapshot.History
// holds them).
func newStrip(runs []health.RunSummary) strip {
	if len(runs) > health.HistorySize {
		runs = runs[len(runs)-health.HistorySize:]
	}
	s := strip{Runs: len(runs)}
	if len(runs) == 0 {
		s.Label = "no runs yet"
		return s
	}
	// Passed runs are drawn to the scale of the slowest passed run: a
	// failed run is drawn full height whatever it took (a timeout takes
	// long, a refused connection no time).
	scale := time.Duration(0)
	durations := make([]time.Duration, len(runs))
	reasons := map[string]int{}
	for i, r := range runs {
		durations[i] = r.Duration
		if r.Reason == "" {
			scale = max(scale, r.Duration)
		} else {
			s.Failures++
			reasons[r.Reason]++
		}
	}
	var passed, failed strings.Builder
	first := health.HistorySize - len(runs) // the strip is right-aligned
	for i, r := range runs {
		x := (first+i)*barPitch + barPitch/2
		height := stripHeight
		path := &failed
		if r.Reason == "" {
			path = &passed
			height = minBar
			if scale > 0 {
				height = max(minBar, int((r.Duration*stripHeight+scale-1)/scale))
			}
		}
		path.WriteByte('M')
		path.WriteString(strconv.Itoa(x))
		path.WriteString(" " + strconv.Itoa(stripHeight) + "v-")
		path.WriteString(strconv.Itoa(height))
	}
	s.Passed, s.Failed = passed.String(), failed.String()

	slices.Sort(durations)
	label := fmt.Sprintf("last %d runs: %d passed", len(runs), len(runs)-s.Failures)
	if len(runs) == 1 {
		label = fmt.Sprintf("last run: %d passed", len(runs)-s.Failures)
	}
	if s.Failures > 0 {
		names := make([]string, 0, len(reasons))
		for reason := range reasons {
			names = append(names, reason)
		}
		slices.Sort(names)
		for i, reason := range names {
			if n := reasons[reason]; n > 1 {
				names[i] = reason + " ×" + strconv.Itoa(n)
			}
		}
		label += fmt.Sprintf(", %d failed (%s)", s.Failures, strings.Join(names, ", "))
	}
	s.Label = label + fmt.Sprintf("; latency median %s, max %s", latency(durations[len(durations)/2]), latency(durations[len(durations)-1]))
	return s
}

// latency formats a run's duration for people: 850 µs, 4.2 ms, 120 ms,
// 2.00 s.
func latency(d time.Duration) string {
	switch {
	case d < time.Millisecond:
		return strconv.FormatInt(d.Microseconds(), 10) + " µs"
	case d < 100*time.Millisecond:
		return strconv.FormatFloat(float64(d)/float64(time.Millisecond), 'f', 1, 64) + " ms"
	case d < time.Second:
		return strconv.FormatInt(d.Milliseconds(), 10) + " ms"
	}
	return strconv.FormatFloat(d.Seconds(), 'f', 2, 64) + " s"
}
