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

// HTTP server limits, so that no client can hold a connection, a
// goroutine or memory for long (the reasons and the connection bound are in
// docs/endpoints.md, "Limits").
const (
	// readTimeout bounds reading a whole request, headers and body, and
	// the TLS handshake; readHeaderTimeout the headers alone. Probes and
	// scrapes send their request in one packet; no endpoint takes a body.
	readHeaderTimeout = 5 * time.Second
	readTimeout       = 5 * time.Second
	// writeTimeout bounds a request from its headers to the end of the
	// answer: Prometheus's default scrape timeout.
	writeTimeout = 10 * time.Second
	// idleTimeout lets a keep-alive connection wait for its next request
	// (Prometheus scrapes every 15s to 1m); at the connection bound, idle
	// connections are the first to be closed.
	idleTimeout = 2 * time.Minute
	// maxHeaderBytes bounds the request line and headers (net/http adds
	// 4 KiB of slack): probes and scrapes send 100 to 400 bytes, and 8 KiB
	// still fits a bearer token or a browser's cookies. It is the limit of
	// nginx and Apache.
	maxHeaderBytes = 8 << 10
	// maxStreams bounds the concurrent requests of one HTTP/2 connection.
	maxStreams = 16
)

// NewHTTPServer returns an http.Server for h with the exporter's limits.
// The benchmarks' comparison servers use it too, so that they differ from
// the exporter in their handlers only.
func NewHTTPServer(h http.Handler, errorLog *log.Logger) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: readHeaderTimeout,
		ReadTimeout:       readTimeout,
		WriteTimeout:      writeTimeout,
		IdleTimeout:       idleTimeout,
		MaxHeaderBytes:    maxHeaderBytes,
		HTTP2:             &http.HTTP2Config{MaxConcurrentStreams: maxStreams},
		// OPTIONS * would otherwise be answered by net/http itself,
		// reading its body outside the handler's refusal.
		DisableGeneralOptionsHandler: true,
		ErrorLog:                     errorLog,
	}
}

// routes registers the collectors and builds the handler of every path:
// the metrics, the probes and the landing page, behind the web
// configuration (TLS, basic auth on every path but the probes).
func (e *Exporter) routes() (http.Handler, *web.Server, error) {
	fleet := fleetSource{e}
	var src probes.Source = fleet
	if e.fleet {
		e.registry.MustRegister(metrics.NewFleetCollector(fleet.metricTargets, func() bool { return !e.shuttingDown.Load() }))
	} else {
		engine := e.view.Load().targets[0].engine // the one target: its engine lives as long as the exporter
		src = engine
		e.registry.MustRegister(metrics.NewCollector(engine.Snapshot))
	}
	e.registry.MustRegister(
		versioncollector.NewCollector("dbhealth_exporter"),
		promcollectors.NewGoCollector(),
		promcollectors.NewProcessCollector(promcollectors.ProcessCollectorOpts{}),
	)
	mux := http.NewServeMux()
	mux.Handle(e.cfg.Web.TelemetryPath, probes.GetOnly(promhttp.InstrumentMetricHandler(e.registry, promhttp.HandlerFor(e.registry, promhttp.HandlerOpts{
		EnableOpenMetrics: true,
		// One target's exposition is small (about 16 KB); gzip would cost a
		// third of each scrape's CPU (docs/benchmarks.md). A fleet's is
		// about that per target: compressed when the scraper asks.
		DisableCompression:  !e.fleet,
		MaxRequestsInFlight: e.cfg.Web.MaxScrapes,
		ErrorLog:            slog.NewLogLogger(e.logger.Handler(), slog.LevelError),
	}))))
	opts := probes.Options{MetricsPath: e.cfg.Web.TelemetryPath, Version: version.Version, Withhold: e.withhold}
	if e.fleet {
		opts.Fleet = fleet // the landing page shows every target
		probes.RegisterFleet(mux, fleet)
	}
	probes.Register(mux, src, opts)
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
	e.registry.MustRegister(ws.Collector())
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

// ReloadWebConfig re-reads the web configuration file now (for SIGHUP and
// POST /-/reload); on error the configuration in force stays (see
// web.Server.Reload). Serve also reloads it by itself when the files
// change.
func (e *Exporter) ReloadWebConfig() error { return e.web.Reload() }
