package probes

import (
	"bytes"
	"compress/gzip"
	_ "embed"
	"errors"
	"html"
	"html/template"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/exporter-toolkit/web"

	"github.com/dbhealth/dbhealth-exporter/internal/health"
)

// landing serves "/", the status page: every target and check with its
// state, since when, the last error and the last runs, worst first, inside
// exporter-toolkit's landing page (name, version, links). It is plain HTML
// with inline CSS and SVG: no script, nothing fetched from elsewhere.
//
// Each target's part is rendered once per snapshot of that target and
// cached; the page for a set of snapshots (its order and counts) once per
// set. A request then costs one pass over the cached parts, writing the
// time elapsed since each "since" as of now.
type landing struct {
	src   Source
	fleet Fleet // nil in sidecar mode: the page shows src's one target
	frame func() (frame, error)
	now   func() time.Time

	mu   sync.Mutex
	view *statusView // the last set of snapshots rendered
}

// frame is the toolkit's landing page around the status.
type frame struct{ head, tail []byte }

// openUpTo is how many ready targets the page shows without a click: more
// are collapsed, so that the others stay in sight in a large fleet.
const openUpTo = 20

var (
	//go:embed status.html
	statusHTML string
	//go:embed status.css
	statusCSS string

	statusTemplates = template.Must(template.New("status").Funcs(template.FuncMap{
		"stamp":   stamp,
		"rfc3339": func(t time.Time) string { return t.UTC().Format(time.RFC3339) },
	}).Parse(statusHTML))
)

// contentSecurity lets the page load nothing but itself and run no script.
const contentSecurity = "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

func newLanding(src Source, opts Options) *landing {
	return &landing{src: src, fleet: opts.Fleet, now: time.Now,
		frame: sync.OnceValues(func() (frame, error) { return newFrame(opts) })}
}

func (l *landing) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := l.render(l.now())
	if err != nil {
		http.Error(w, "status page: "+err.Error(), http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Security-Policy", contentSecurity)
	h.Set("Vary", "Accept-Encoding")
	if len(body) >= compressFrom && acceptsGzip(r) {
		body = gzipped(body)
		h.Set("Content-Encoding", "gzip")
	}
	write(w, http.StatusOK, contentHTML, body)
}

// compressFrom is the page size from which it is sent compressed to
// clients that accept gzip: a fleet's page is about 2 KB per target and
// compresses 20 to 50 times in a few milliseconds; one target's (about
// 15 KB) is not worth the trouble.
const compressFrom = 32 << 10

// acceptsGzip reports whether the request's Accept-Encoding lists gzip
// with a non-zero weight.
func acceptsGzip(r *http.Request) bool {
	for _, coding := range strings.Split(r.Header.Get("Accept-Encoding"), ",") {
		name, params, _ := strings.Cut(coding, ";")
		if !strings.EqualFold(strings.TrimSpace(name), "gzip") {
			continue
		}
		weight, ok := strings.CutPrefix(strings.TrimSpace(params), "q=")
		if !ok {
			return true
		}
		q, err := strconv.ParseFloat(strings.TrimSpace(weight), 64)
		return err == nil && q > 0
	}
	return false
}

var gzipWriters = sync.Pool{New: func() any {
	zw, _ := gzip.NewWriterLevel(nil, gzip.BestSpeed)
	return zw
}}

// gzipped compresses body, fast rather than small.
func gzipped(body []byte) []byte {
	var b bytes.Buffer
	b.Grow(len(body) / 8)
	zw := gzipWriters.Get().(*gzip.Writer)
	defer gzipWriters.Put(zw)
	zw.Reset(&b)
	_, _ = zw.Write(body) // writing to a bytes.Buffer cannot fail
	_ = zw.Close()
	return b.Bytes()
}

const contentHTML = "text/html; charset=utf-8"

// render returns the page as of now.
func (l *landing) render(now time.Time) ([]byte, error) {
	fr, err := l.frame()
	if err != nil {
		return nil, err
	}
	own := l.src.Snapshot()
	targets := []Target{{Name: own.Target, Snapshot: own}}
	if l.fleet != nil {
		targets = l.fleet.Targets()
	}
	v, err := l.current(targets)
	if err != nil {
		return nil, err
	}

	var b bytes.Buffer
	b.Grow(len(fr.head) + v.size + len(fr.tail) + 4<<10)
	b.Write(fr.head)
	head := headData{Now: now, Fleet: l.fleet != nil, Total: len(targets), Target: own.Target,
		Readiness: own.Readiness, ShuttingDown: own.ShuttingDown}
	for g, n := range v.counts {
		if n > 0 {
			head.Counts = append(head.Counts, newGroupHead(group(g), n))
		}
	}
	if err := statusTemplates.ExecuteTemplate(&b, "head", head); err != nil {
		return nil, err
	}
	for i, f := range v.order {
		if i == 0 || v.order[i-1].group != f.group {
			if i > 0 {
				if err := statusTemplates.ExecuteTemplate(&b, "group-close", nil); err != nil {
					return nil, err
				}
			}
			if err := statusTemplates.ExecuteTemplate(&b, "group-open", newGroupHead(f.group, v.counts[f.group])); err != nil {
				return nil, err
			}
		}
		f.writeTo(&b, now)
	}
	if len(v.order) > 0 {
		if err := statusTemplates.ExecuteTemplate(&b, "group-close", nil); err != nil {
			return nil, err
		}
	}
	if err := statusTemplates.ExecuteTemplate(&b, "tail", nil); err != nil {
		return nil, err
	}
	b.Write(fr.tail)
	return b.Bytes(), nil
}

// headData is what the "head" template shows above the groups.
type headData struct {
	Now          time.Time
	Fleet        bool
	Total        int
	Target       string           // sidecar mode: the one target
	Readiness    health.Readiness // the exporter's own (fleet mode: ready unless shutting down)
	ShuttingDown bool
	Counts       []groupHead
}

// groupHead is one group's line in the summary and its heading.
type groupHead struct {
	ID, Title   string
	N           int
	Open        bool
	HistorySize int
}

func newGroupHead(g group, n int) groupHead {
	return groupHead{ID: groupInfo[g].ID, Title: groupInfo[g].Title, N: n,
		Open: g != groupReady || n <= openUpTo, HistorySize: health.HistorySize}
}

// newFrame renders exporter-toolkit's landing page with the links and the
// status page's CSS, and cuts it where the status goes. The toolkit's page
// has no doctype (browsers would lay it out in quirks mode): it gets one.
func newFrame(opts Options) (frame, error) {
	ready := "every critical check ok, fresh, and not shutting down (JSON without ?verbose)"
	if opts.Fleet != nil {
		ready = "whether the exporter can serve, not whether every database is up (each target's readiness is linked below)"
	}
	links := []web.LandingLinks{
		{Address: opts.MetricsPath, Text: "Metrics", Description: "Prometheus metrics"},
		{Address: "/readyz?verbose", Text: "Readiness", Description: ready},
		{Address: "/livez?verbose", Text: "Liveness", Description: "the exporter itself; never the database"},
	}
	if opts.Fleet != nil {
		links = append(links, web.LandingLinks{Address: "/targets", Text: "Targets", Description: "every target with its verdict (JSON)"})
	}
	// The toolkit's page is a text/template: what it shows is escaped here.
	for i, link := range links {
		links[i] = web.LandingLinks{Address: link.Address, Text: html.EscapeString(link.Text), Description: html.EscapeString(link.Description)}
	}
	const mark = "<!--dbhealth:status-->"
	page, err := web.NewLandingPage(web.LandingConfig{
		Name:        "dbhealth-exporter",
		Description: "Database health for probes, metrics and traces",
		Version:     html.EscapeString(opts.Version),
		Links:       links,
		ExtraHTML:   mark,
		ExtraCSS:    statusCSS,
		Profiling:   "false",
	})
	if err != nil {
		return frame{}, err
	}
	var rec captured
	page.ServeHTTP(&rec, &http.Request{Method: http.MethodGet, URL: &url.URL{Path: "/"}})
	head, tail, ok := bytes.Cut(rec.body.Bytes(), []byte(mark))
	if !ok {
		return frame{}, errors.New("exporter-toolkit's landing page has no place for the status")
	}
	return frame{head: append([]byte("<!DOCTYPE html>\n"), head...), tail: tail}, nil
}

// captured is a ResponseWriter keeping the body.
type captured struct {
	header http.Header
	body   bytes.Buffer
}

func (c *captured) Header() http.Header {
	if c.header == nil {
		c.header = http.Header{}
	}
	return c.header
}
func (c *captured) Write(p []byte) (int, error) { return c.body.Write(p) }
func (c *captured) WriteHeader(int)             {}
