package exporter

import (
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/dbhealth/dbhealth-exporter/internal/health"
	"github.com/dbhealth/dbhealth-exporter/internal/metrics"
	"github.com/dbhealth/dbhealth-exporter/internal/probes"
)

// fleetView is the targets as readers (probes, metrics) see them: an
// immutable list sorted by name, replaced whole when a reload adds or
// removes targets. Each target's snapshot is read from its engine.
type fleetView struct {
	targets    []*target
	generation uint64 // increases with every new view
	// own is the exporter's own snapshot in fleet mode: no checks, ready
	// unless shutting down (what /readyz means there).
	own *health.Snapshot
}

// publishView makes the current targets the view. e.mu must be held, or
// the exporter not yet shared.
func (e *Exporter) publishView() {
	prev := e.view.Load()
	next := &fleetView{}
	if prev != nil {
		next.generation = prev.generation + 1
	}
	for _, tg := range e.targets {
		next.targets = append(next.targets, tg)
	}
	slices.SortFunc(next.targets, func(a, b *target) int { return strings.Compare(a.cfg.Name, b.cfg.Name) })
	next.own = e.ownSnapshot(next.generation)
	e.view.Store(next)
}

// ownSnapshot is the exporter's own readiness in fleet mode.
func (e *Exporter) ownSnapshot(generation uint64) *health.Snapshot {
	s := &health.Snapshot{Generation: generation, PublishedAt: time.Now(), Readiness: health.ReadinessReady}
	if e.shuttingDown.Load() {
		s.Readiness, s.ShuttingDown = health.ReadinessShuttingDown, true
	}
	return s
}

// find returns the named target.
func (v *fleetView) find(name string) (*target, bool) {
	i, ok := slices.BinarySearchFunc(v.targets, name, func(t *target, name string) int { return strings.Compare(t.cfg.Name, name) })
	if !ok {
		return nil, false
	}
	return v.targets[i], true
}

// fleetSource is the exporter itself as a probes.Source in fleet mode: ready to
// serve unless shutting down (a broken database never takes the exporter
// out of its Service), alive while any target's checks start.
type fleetSource struct{ e *Exporter }

func (o fleetSource) Snapshot() *health.Snapshot { return o.e.view.Load().own }

func (o fleetSource) Liveness() health.Liveness {
	l := health.Liveness{OK: true}
	for _, tg := range o.e.view.Load().targets {
		tl := tg.engine.Liveness()
		if tl.LastStart.After(l.LastStart) {
			l.LastStart = tl.LastStart
		}
		l.Bound = max(l.Bound, tl.Bound)
	}
	if !l.LastStart.IsZero() {
		l.OK = time.Since(l.LastStart) <= l.Bound
	}
	return l
}

// Targets implements probes.Fleet.
func (o fleetSource) Targets() []probes.Target {
	v := o.e.view.Load()
	out := make([]probes.Target, len(v.targets))
	for i, tg := range v.targets {
		out[i] = probes.Target{Name: tg.cfg.Name, Labels: tg.cfg.Labels, Snapshot: tg.engine.Snapshot()}
	}
	return out
}

// Readiness implements probes.Fleet.
func (o fleetSource) Readiness(name string) (http.Handler, bool) {
	tg, ok := o.e.view.Load().find(name)
	if !ok {
		return nil, false
	}
	return tg.ready, true
}

// metricTargets is what a scrape reads in fleet mode: every target's
// snapshot, once.
func (o fleetSource) metricTargets() []metrics.Target {
	v := o.e.view.Load()
	out := make([]metrics.Target, len(v.targets))
	for i, tg := range v.targets {
		out[i] = metrics.Target{Snapshot: tg.engine.Snapshot(), Labels: tg.cfg.Labels}
	}
	return out
}
