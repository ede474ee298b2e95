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
	return strings.HasPrefix(path, "/readyz/")
}

// NewHandler returns a handler serving every probe path and the landing page.
func NewHandler(src Source, opts Options) http.Handler {
	if opts.MetricsPath == "" {
		opts.MetricsPath = "/metrics"
	}
	mux := http.NewServeMux()
	live := getOnly(liveness{src})
	for _, p := range livenessPaths {
		mux.Handle(p, live)
	}
	ready := getOnly(newReadiness(src))
	for _, p := range readinessPaths {
		mux.Handle(p, ready)
	}
	mux.Handle("/readyz/{check}", ready)
	mux.Handle("/{$}", getOnly(newLanding(src, opts)))
	return mux
}

// getOnly answers 405 to anything but GET and HEAD.
func getOnly(h http.Handler) http.Handler {
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

// write sends a probe response: fixed headers, status and body.
func write(w http.ResponseWriter, code int, contentType string, body []byte) {
	h := w.Header()
	h.Set("Content-Type", contentType)
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(code)
	_, _ = w.Write(body)
}

const (
	contentJSON = "application/json"
	contentText = "text/plain; charset=utf-8"
)
