package exporter

import (
	"log"
	"log/slog"
	"net/http"
	"time"

	promcollectors "github.com/prometheus/client_golang/prometheus/collectors"
	versioncollector "github.com/prometheus/client_golang/prometheus/collectors/version"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/prometheus/common/version"

	"github.com/dbhealth/dbhealth-exporter/internal/metrics"
	"github.com/dbhealth/dbhealth-exporter/internal/probes"
	"github.com/dbhealth/dbhealth-exporter/internal/web"
)

// HTTP server limits: a slow or idle client cannot hold the exporter's
// connections forever.
const (
	readHeaderTimeout = 10 * time.Second
	writeTimeout      = 30 * time.Second
	idleTimeout       = 2 * time.Minute
)

// NewHTTPServer returns an http.Server for h with the exporter's limits.
// The benchmarks' comparison servers use it too, so that they differ from
// the exporter in their handlers only.
func NewHTTPServer(h http.Handler, errorLog *log.Logger) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: readHeaderTimeout,
		WriteTimeout:      writeTimeout,
		IdleTimeout:       idleTimeout,
		ErrorLog:          errorLog,
	}
}

// routes registers the collectors and builds the handler of every path:
// the metrics, the probes and the landing page, behind the web
// configuration (TLS, basic auth on every path but the probes).
func (e *Exporter) routes() (http.Handler, *web.Server, error) {
	e.registry.MustRegister(
		metrics.NewCollector(e.engine.Snapshot),
		versioncollector.NewCollector("dbhealth_exporter"),
		promcollectors.NewGoCollector(),
		promcollectors.NewProcessCollector(promcollectors.ProcessCollectorOpts{}),
	)
	mux := http.NewServeMux()
	mux.Handle(e.cfg.Web.TelemetryPath, promhttp.InstrumentMetricHandler(e.registry, promhttp.HandlerFor(e.registry, promhttp.HandlerOpts{
		EnableOpenMetrics: true,
		// One target's exposition is small (about 16 KB); gzip would cost a
		// third of each scrape's CPU (docs/benchmarks.md).
		DisableCompression:  true,
		MaxRequestsInFlight: e.cfg.Web.MaxScrapes,
		ErrorLog:            slog.NewLogLogger(e.logger.Handler(), slog.LevelError),
	})))
	probes.Register(mux, e.engine, probes.Options{MetricsPath: e.cfg.Web.TelemetryPath, Version: version.Version})
	if e.cfg.Web.EnableLifecycle {
		mux.Handle("/-/reload", http.HandlerFunc(e.serveReload))
	}

	public := probes.IsProbePath
	if e.cfg.Web.ProbesRequireAuth {
		public = nil
	}
	ws, err := web.New(web.Options{ConfigFile: e.cfg.Web.ConfigFile, Public: public, Logger: e.logger}, mux)
	if err != nil {
		return nil, nil, err
	}
	return ws.Handler(), ws, nil
}

// serveReload is POST /-/reload, as Prometheus serves it: 200 once the
// configuration is reloaded, 500 with the reason when it is refused.
func (e *Exporter) serveReload(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost && r.Method != http.MethodPut {
		w.Header().Set("Allow", "POST, PUT")
		http.Error(w, "method not allowed: POST to reload", http.StatusMethodNotAllowed)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	if err := e.Reload(); err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	_, _ = w.Write([]byte("configuration reloaded\n"))
}
