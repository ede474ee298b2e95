// Package web serves the exporter's HTTP endpoints with the exporter-toolkit
// web configuration file (--web.config.file): TLS, basic auth, extra headers
// and a rate limit, read in the toolkit's format and validated by the
// toolkit.
//
// It differs from the toolkit's own server in one way: authentication
// applies only to the paths the caller marks private. Probes must answer the
// kubelet and load balancers, which carry no credentials, while /metrics
// stays protected; the toolkit applies basic auth to every path and has no
// exclusion (see docs/architecture.md).
//
//	srv, err := web.New(web.Options{ConfigFile: path, Public: probes.IsProbePath}, mux)
//	httpServer.Handler = srv.Handler()
//	err = srv.Serve(httpServer, listener)
package web
