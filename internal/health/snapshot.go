package health

import "time"

// Snapshot is one generation of everything the exporter knows. It is never
// modified after it is published: readers may keep and share it freely.
type Snapshot struct {
	// Generation increases by one with every publish; 0 is the initial
	// snapshot, before any run.
	Generation uint64
	// Target names the database being watched ("default" by default).
	Target string
	// PublishedAt is when this generation was made.
	PublishedAt time.Time
	// Readiness is the verdict over all critical checks, computed once, at
	// publish.
	Readiness Readiness
	// ShuttingDown is set once the exporter has been asked to stop.
	ShuttingDown bool
	// Checks are sorted by name.
	Checks []CheckSnapshot
}

// Check returns the named check.
func (s *Snapshot) Check(name string) (CheckSnapshot, bool) {
	for _, c := range s.Checks {
		if c.Name == name {
			return c, true
		}
	}
	return CheckSnapshot{}, false
}

// CheckSnapshot is one check's state in a snapshot: its definition, what
// probes and metrics show, and the latest outcome.
type CheckSnapshot struct {
	Definition
	// Status is what probes and metrics show: the threshold state (ok,
	// failing, or unknown before the first run), or stale when the last
	// result (or, before any, the exporter's start) is older than the
	// staleness bound.
	Status Status
	// StaleAt is when the check turns stale unless a new result arrives.
	StaleAt time.Time
	// Last is the latest finished run; nil before the first.
	Last        *Outcome
	LastSuccess time.Time // zero if no run has passed yet
	// ConsecutiveFailures counts the failed runs since the last success.
	ConsecutiveFailures int
	Stats               *Stats
	// Since is when Status last changed (or the check was defined).
	Since time.Time
	// History are the latest runs, oldest first, at most HistorySize: a
	// strip for the status page. Never modified once published.
	History []RunSummary

	state  Status // the threshold state beneath staleness
	streak streak
}

// HistorySize bounds CheckSnapshot.History.
const HistorySize = 30

// RunSummary is one run in a check's history.
type RunSummary struct {
	Finished time.Time
	Duration time.Duration
	Reason   string // "" when the run passed
}

// withRun returns h with one more run, dropping the oldest past
// HistorySize; h itself is not changed.
func withRun(h []RunSummary, r RunSummary) []RunSummary {
	start := max(0, len(h)+1-HistorySize)
	next := make([]RunSummary, 0, min(len(h)+1, HistorySize))
	next = append(next, h[start:]...)
	return append(next, r)
}

// Outcome is what one finished run of a check found, with its error and
// details already redacted.
type Outcome struct {
	Started  time.Time
	Finished time.Time
	Error    string // empty when the run passed
	Reason   string
	Details  any
}

// OK reports whether the run passed.
func (o *Outcome) OK() bool { return o.Error == "" }

// Duration is how long the run took.
func (o *Outcome) Duration() time.Duration { return o.Finished.Sub(o.Started) }

// DurationBuckets are the upper bounds, in seconds, of the run duration
// histogram: from a fast local ping to a slow migration scan.
var DurationBuckets = []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10}

// Stats are a check's cumulative counts since the exporter started. A Stats
// value is immutable; each run makes a new one.
type Stats struct {
	Successes uint64
	Failures  uint64
	// FailuresByReason counts failed runs by Result.Reason; every reason
	// the check can report (see Checker) is there from the start, at 0.
	FailuresByReason map[string]uint64
	// DurationBuckets[i] counts runs that took at most
	// health.DurationBuckets[i] seconds (cumulative, as Prometheus wants).
	DurationBuckets []uint64
	DurationCount   uint64
	DurationSum     float64 // seconds
}

// newStats returns the stats of a check that has not run, counting reasons
// from 0.
func newStats(reasons []string) *Stats {
	return (&Stats{DurationBuckets: make([]uint64, len(DurationBuckets))}).counting(reasons)
}

// counting returns s counting reasons too (from 0), or s itself when it
// does already.
func (s *Stats) counting(reasons []string) *Stats {
	missing := false
	for _, r := range reasons {
		if _, ok := s.FailuresByReason[r]; !ok {
			missing = true
		}
	}
	if !missing {
		return s
	}
	next := *s
	next.FailuresByReason = make(map[string]uint64, len(s.FailuresByReason)+len(reasons))
	for k, v := range s.FailuresByReason {
		next.FailuresByReason[k] = v
	}
	for _, r := range reasons {
		next.FailuresByReason[r] += 0
	}
	return &next
}

// with returns the stats after one more run.
func (s *Stats) with(ok bool, reason string, d time.Duration) *Stats {
	next := &Stats{
		Successes:        s.Successes,
		Failures:         s.Failures,
		FailuresByReason: s.FailuresByReason,
		DurationBuckets:  make([]uint64, len(DurationBuckets)),
		DurationCount:    s.DurationCount + 1,
		DurationSum:      s.DurationSum + d.Seconds(),
	}
	if ok {
		next.Successes++
	} else {
		next.Failures++
		next.FailuresByReason = make(map[string]uint64, len(s.FailuresByReason)+1)
		for k, v := range s.FailuresByReason {
			next.FailuresByReason[k] = v
		}
		next.FailuresByReason[reason]++
	}
	copy(next.DurationBuckets, s.DurationBuckets)
	for i, bound := range DurationBuckets {
		if d.Seconds() <= bound {
			next.DurationBuckets[i]++
		}
	}
	return next
}
