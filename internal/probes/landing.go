package probes

import (
	"bytes"
	"html/template"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/prometheus/exporter-toolkit/web"

	"github.com/dbhealth/dbhealth-exporter/internal/health"
)

// landing serves exporter-toolkit's landing page with the current status
// added, rebuilt at most once per generation.
type landing struct {
	src  Source
	opts Options
	page atomic.Pointer[landingPage]
}

type landingPage struct {
	snap    *health.Snapshot
	handler http.Handler
}

func newLanding(src Source, opts Options) *landing { return &landing{src: src, opts: opts} }

func (l *landing) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	snap := l.src.Snapshot()
	page := l.page.Load()
	if page == nil || page.snap != snap {
		h, err := l.build(snap)
		if err != nil {
			http.Error(w, "landing page: "+err.Error(), http.StatusInternalServerError)
			return
		}
		page = &landingPage{snap: snap, handler: h}
		l.page.Store(page)
	}
	w.Header().Set("Cache-Control", "no-store")
	page.handler.ServeHTTP(w, r)
}

var statusTable = template.Must(template.New("status").Parse(`
<h2>Status</h2>
<p>Target <code>{{.Target}}</code>: <strong>{{.Readiness}}</strong> (generation {{.Generation}}, {{.PublishedAt}})</p>
<table>
<tr><th>check</th><th>status</th><th>critical</th><th>last run</th><th>error</th></tr>
{{range .Checks}}<tr><td>{{.Name}}</td><td>{{.Status}}</td><td>{{.Critical}}</td><td>{{.LastRun}}</td><td>{{.Problem}}</td></tr>
{{end}}</table>`))

type statusRow struct {
	Name, Status, LastRun, Problem string
	Critical                       bool
}

func (l *landing) build(snap *health.Snapshot) (http.Handler, error) {
	links := []web.LandingLinks{
		{Address: l.opts.MetricsPath, Text: "Metrics", Description: "Prometheus metrics"},
		{Address: "/readyz?verbose", Text: "Readiness", Description: "every critical check ok, fresh, and not shutting down (JSON without ?verbose)"},
		{Address: "/livez?verbose", Text: "Liveness", Description: "the exporter itself; never the database"},
	}
	rows := make([]statusRow, 0, len(snap.Checks))
	for _, c := range snap.Checks {
		links = append(links, web.LandingLinks{Address: "/readyz/" + c.Name + "?verbose", Text: "Check " + c.Name})
		row := statusRow{Name: c.Name, Status: string(c.Status), Critical: c.Critical, Problem: problem(c, false), LastRun: "never"}
		if c.Last != nil {
			row.LastRun = c.Last.Finished.UTC().Format(time.RFC3339)
		}
		rows = append(rows, row)
	}
	var extra bytes.Buffer
	err := statusTable.Execute(&extra, map[string]any{
		"Target": snap.Target, "Readiness": snap.Readiness, "Generation": snap.Generation,
		"PublishedAt": snap.PublishedAt.UTC().Format(time.RFC3339), "Checks": rows,
	})
	if err != nil {
		return nil, err
	}
	return web.NewLandingPage(web.LandingConfig{
		Name:        "dbhealth-exporter",
		Description: "Database health for probes, metrics and traces",
		Version:     l.opts.Version,
		Links:       links,
		ExtraHTML:   extra.String(),
		Profiling:   "false",
	})
}
