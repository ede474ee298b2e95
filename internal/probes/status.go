package probes

import (
	"html/template"
	"maps"
	"slices"
	"time"

	"github.com/dbhealth/dbhealth-exporter/internal/health"
)

// group is where the status page lists a target: the groups are shown in
// this order, worst first, and by name within a group.
type group int

const (
	groupFailing      group = iota // not ready: a critical check is failing
	groupStale                     // not ready: a critical check is stale, none failing
	groupStarting                  // a critical check has no result yet
	groupShuttingDown              // the exporter is draining
	groupWarning                   // ready, but a non-critical check is not ok
	groupReady                     // ready, every check ok
	groups
)

// groupInfo names a group on the page: its anchor and its heading.
var groupInfo = [groups]struct{ ID, Title string }{
	groupFailing:      {"failing", "failing"},
	groupStale:        {"stale", "stale"},
	groupStarting:     {"starting", "starting"},
	groupShuttingDown: {"shutting-down", "shutting down"},
	groupWarning:      {"warning", "ready, a non-critical check failing"},
	groupReady:        {"ready", "ready"},
}

// classify returns the group of a target by its snapshot.
func classify(snap *health.Snapshot) group {
	switch snap.Readiness {
	case health.ReadinessNotReady:
		for _, c := range snap.Checks {
			if c.Critical && c.Status == health.StatusFailing {
				return groupFailing
			}
		}
		return groupStale
	case health.ReadinessStarting:
		return groupStarting
	case health.ReadinessShuttingDown:
		return groupShuttingDown
	}
	for _, c := range snap.Checks {
		if c.Status == health.StatusFailing || c.Status == health.StatusStale {
			return groupWarning
		}
	}
	return groupReady
}

// targetRow is one target as the "target" template renders it.
type targetRow struct {
	Name      string
	Fleet     bool // links go to /targets/<name>/readyz, not /readyz
	Readiness health.Readiness
	Labels    []string // "key=value", sorted
	Checks    []checkRow
}

// checkRow is one check of a target. What the template shows is worked
// out here, so that the template's actions are few: a large fleet's page
// has thousands of rows, and each action costs a reflective call.
type checkRow struct {
	Name     string
	Critical bool
	Status   health.Status
	Unknown  bool // no result yet
	Failures int  // consecutive
	// Since is when Status last changed: its age (an ageMark) and the
	// moment, for machines and for people; empty if unknown.
	SinceAge             template.HTML
	SinceRFC, SinceStamp string
	// Latency and FinishedAge are the last run's; empty before the first.
	Latency     string
	FinishedAge template.HTML
	// Problem says why the check is not ok (problem()); for an ok check
	// that failed within its history, LastFailure is that run.
	Problem        string
	LastFailure    string // its reason
	LastFailureAge template.HTML
	History        template.HTML
}

func newTargetRow(t Target, fleet bool) targetRow {
	row := targetRow{Name: t.Name, Fleet: fleet, Readiness: t.Snapshot.Readiness}
	for _, k := range slices.Sorted(maps.Keys(t.Labels)) {
		row.Labels = append(row.Labels, k+"="+t.Labels[k])
	}
	for _, c := range t.Snapshot.Checks {
		cr := checkRow{Name: c.Name, Critical: c.Critical, Status: c.Status, Unknown: c.Status == health.StatusUnknown,
			Failures: c.ConsecutiveFailures, Problem: problem(c, false), History: newStrip(c.History).html()}
		if !c.Since.IsZero() {
			cr.SinceAge, cr.SinceRFC, cr.SinceStamp = ageMark(c.Since), c.Since.UTC().Format(time.RFC3339), stamp(c.Since)
		}
		if c.Last != nil {
			cr.Latency, cr.FinishedAge = latency(c.Last.Duration()), ageMark(c.Last.Finished)
		}
		if cr.Problem == "" {
			for i := len(c.History) - 1; i >= 0; i-- {
				if r := c.History[i]; r.Reason != "" {
					cr.LastFailure, cr.LastFailureAge = r.Reason, ageMark(r.Finished)
					break
				}
			}
		}
		row.Checks = append(row.Checks, cr)
	}
	return row
}

// stamp is a moment for people: 2026-11-22 03:00:00Z.
func stamp(t time.Time) string { return t.UTC().Format("2006-01-02 15:04:05Z") }
