package probes

import (
	"net/http"
	"strings"

	"github.com/dbhealth/dbhealth-exporter/internal/health"
)

// Source is what the handlers read: the engine.
type Source interface {
	Snapshot() *health.Snapshot
	Liveness() health.Liveness
}

// Options configure the handler.
type Options struct {
	// MetricsPath is linked from the landing page. Default "/metrics".
	MetricsPath string
	// Version is shown on the landing page.
	Version string
	// Fleet, in fleet mode, is what the landing page shows: every target.
	// Default nil: the page shows the Source's one target.
	Fleet Fleet
	// Withhold reports whether a readiness request is answered with its
	// failures' reason classes only, not their messages (which name users,
	// hosts and databases), and with details in their Withheld form.
	// Default: never.
	Withhold func(*http.Request) bool
}

var (
	livenessPaths  = []string{"/healthz", "/livez", "/-/healthy"}
	readinessPaths = []string{"/readyz", "/-/ready"}
)

// IsProbePath reports whether path is served by a probe handler (and so is
// reachable without authentication by default).
func IsProbePath(path string) bool {
	for _, p := range livenessPaths {
		if path == p {
			return true
		}
	}
	for _, p := range readinessPaths {
		if path == p {
			return true
		}
	}
	if strings.HasPrefix(path, "/readyz/") {
		return true
	}
	// A target's readiness in fleet mode: /targets/<name>/readyz[/<check>].
	rest, ok := strings.CutPrefix(path, "/targets/")
	if !ok {
		return false
	}
	_, tail, ok := strings.Cut(rest, "/")
	return ok && (tail == "readyz" || strings.HasPrefix(tail, "readyz/"))
}

// NewReadiness returns the readiness handler of one snapshot source, for
// paths with an optional {check} wildcard (/readyz, /readyz/{check}); only
// opts.Withhold is used. Register uses it for the exporter's own paths,
// RegisterFleet for each target's.
func NewReadiness(src Source, opts Options) http.Handler {
	return GetOnly(newReadiness(src, opts.Withhold))
}

// NewHandler returns a handler serving every probe path and the landing page.
func NewHandler(src Source, opts Options) http.Handler {
	mux := http.NewServeMux()
	Register(mux, src, opts)
	return mux
}

// Register adds every probe path and the landing page (at "/", exactly) to
// mux, so that a probe is routed once.
func Register(mux *http.ServeMux, src Source, opts Options) {
	if opts.MetricsPath == "" {
		opts.MetricsPath = "/metrics"
	}
	live := GetOnly(liveness{src})
	for _, p := range livenessPaths {
		mux.Handle(p, live)
	}
	ready := GetOnly(newReadiness(src, opts.Withhold))
	for _, p := range readinessPaths {
		mux.Handle(p, ready)
	}
	mux.Handle("/readyz/{check}", ready)
	mux.Handle("/{$}", GetOnly(newLanding(src, opts)))
}

// GetOnly answers 405 to anything but GET and HEAD: the probes, the
// landing page and the metrics read, never change.
func GetOnly(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		h.ServeHTTP(w, r)
	})
}

// wantsText reports whether the client asked for the Kubernetes text form:
// ?verbose, or an Accept header that prefers text/plain over JSON.
func wantsText(r *http.Request) bool {
	if r.URL.RawQuery != "" && r.URL.Query().Has("verbose") {
		return true
	}
	accept := r.Header.Get("Accept")
	return strings.Contains(accept, "text/plain") && !strings.Contains(accept, "application/json")
}

// Header values, shared by every response: assigning a header a slice
// allocates nothing, and net/http only ever replaces or appends to (never
// writes into) a header's value slice.
var (
	headerJSON    = []string{contentJSON}
	headerText    = []string{contentText}
	headerNoStore = []string{"no-store"}
	headerNoSniff = []string{"nosniff"}
)

// write sends a probe response: fixed headers, status and body.
func write(w http.ResponseWriter, code int, contentType string, body []byte) {
	h := w.Header()
	switch contentType {
	case contentJSON:
		h["Content-Type"] = headerJSON
	case contentText:
		h["Content-Type"] = headerText
	default:
		h.Set("Content-Type", contentType)
	}
	h["Cache-Control"] = headerNoStore
	h["X-Content-Type-Options"] = headerNoSniff
	w.WriteHeader(code)
	_, _ = w.Write(body)
}

const (
	contentJSON = "application/json"
	contentText = "text/plain; charset=utf-8"
)
