// Package probes serves the exporter's probe endpoints and landing page from
// the current health.Snapshot. No handler here touches the database: a probe
// is one atomic load and, at most once per generation, one rendering.
//
//	mux.Handle("/", probes.NewHandler(engine, probes.Options{MetricsPath: "/metrics"}))
//
// Endpoints: /healthz, /livez and /-/healthy (liveness of the exporter
// itself), /readyz and /-/ready (readiness), /readyz/<check> (one check),
// and / (the status page: every target and check, failing first, with its
// recent runs; landing.go). See docs/endpoints.md.
package probes
