package probes

import (
	"fmt"
	"net/http"
	"time"

	"github.com/dbhealth/dbhealth-exporter/internal/health"
)

// Fleet is what the fleet-mode handlers read: the targets, sorted by name.
type Fleet interface {
	// Targets lists every target with its current snapshot, each read
	// once.
	Targets() []Target
	// Readiness returns the readiness handler of the named target (see
	// NewReadiness).
	Readiness(name string) (http.Handler, bool)
}

// Target is one target of a fleet.
type Target struct {
	Name     string
	Labels   map[string]string
	Snapshot *health.Snapshot
}

// RegisterFleet adds fleet mode's paths to mux: GET /targets, the list of
// targets with their verdicts, and each target's readiness,
// /targets/<name>/readyz and /targets/<name>/readyz/<check>, with
// ?verbose and ?exclude= as on /readyz.
func RegisterFleet(mux *http.ServeMux, fleet Fleet) {
	mux.Handle("/targets", GetOnly(targetList{fleet}))
	ready := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h, ok := fleet.Readiness(r.PathValue("target"))
		if !ok {
			write(w, http.StatusNotFound, contentJSON,
				jsonLine(map[string]string{"status": "error", "error": fmt.Sprintf("no target named %q", short(r.PathValue("target")))}))
			return
		}
		h.ServeHTTP(w, r)
	})
	mux.Handle("/targets/{target}/readyz", ready)
	mux.Handle("/targets/{target}/readyz/{check}", ready)
}

// targetList serves GET /targets.
type targetList struct{ fleet Fleet }

// targetJSON is one target in the list.
type targetJSON struct {
	Name       string               `json:"name"`
	Labels     map[string]string    `json:"labels,omitempty"`
	Status     health.Readiness     `json:"status"`
	Generation uint64               `json:"generation"`
	Checks     map[string]checkJSON `json:"checks"`
}

type checkJSON struct {
	Status   health.Status `json:"status"`
	Critical bool          `json:"critical"`
	Since    string        `json:"since"`
	Reason   string        `json:"reason,omitempty"`
}

func (l targetList) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	targets := l.fleet.Targets()
	out := make([]targetJSON, 0, len(targets))
	for _, t := range targets {
		tj := targetJSON{Name: t.Name, Labels: t.Labels, Status: t.Snapshot.Readiness,
			Generation: t.Snapshot.Generation, Checks: make(map[string]checkJSON, len(t.Snapshot.Checks))}
		for _, c := range t.Snapshot.Checks {
			cj := checkJSON{Status: c.Status, Critical: c.Critical, Since: c.Since.UTC().Format(time.RFC3339)}
			if c.Last != nil && !c.Last.OK() {
				cj.Reason = c.Last.Reason
			}
			tj.Checks[c.Name] = cj
		}
		out = append(out, tj)
	}
	write(w, http.StatusOK, contentJSON, jsonLine(map[string]any{"targets": out}))
}
