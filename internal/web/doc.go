// Package web serves the exporter's HTTP endpoints with the exporter-toolkit
// web configuration file (--web.config.file): TLS, basic auth, extra headers
// and a rate limit, read in the toolkit's format and validated by the
// toolkit, and with the limits that keep a hostile client from taking the
// server down.
//
//	srv, err := web.New(web.Options{ConfigFile: path, Public: probes.IsProbePath}, mux)
//	registry.MustRegister(srv.Collector())
//	httpServer.Handler = srv.Handler()
//	err = srv.Serve(httpServer, listeners...) // until httpServer shuts down
//
// It differs from the toolkit's own server (see docs/architecture.md):
//
//   - Authentication applies only to the paths the caller does not mark
//     Public. Probes must answer the kubelet and load balancers, which carry
//     no credentials, while /metrics stays protected.
//   - The files are read when their content changes (Serve looks every
//     ReloadInterval; Server.Reload reads them at once), not per request or
//     handshake, and a file that does not load leaves the last good
//     configuration in force.
//   - Credentials that passed are cached without a lock on the hit path;
//     unknown users cost a bcrypt comparison like wrong passwords; failed
//     comparisons are limited per client address and bcrypt runs at most
//     max(2, GOMAXPROCS) at a time, one per address.
//   - No request body is accepted (413, without reading it), and Serve
//     bounds the open connections (Options.MaxConnections, by default
//     MaxConnections(FileLimit())), closing idle connections of the address
//     that holds the most to make room.
//
// Authenticated tells a handler whether the request carried credentials
// the server accepted, on public paths too:
//
//	if web.Authenticated(r) { /* show details */ }
//
// It is false for anonymous requests, for credentials that failed (a
// public path is served all the same), for credentials not checked
// because bcrypt had no free turn (a probe never waits), and whenever the
// configuration has no users.
package web
