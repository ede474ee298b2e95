// Package bench holds what the benchmarks of the exporter need (`make
// bench`, results in docs/benchmarks.md): the exporter's HTTP side assembled
// in process, and the handlers it is compared with.
//
//   - Exporter (exporter.go) is the exporter built in process by
//     exporter.New, the constructor the command uses, with the defaults of
//     its flags: a real engine running the real database check, the same
//     registry, probe and metrics handlers and web layer. It serves the Go
//     benchmarks and CPU profiles; the wrk measurements use the real binary.
//   - The comparison handlers (compare.go): Bare, a constant answer with the
//     exporter's headers and body size (the limit of net/http here);
//     LibHealth, github.com/alexliesenfeld/health's own handler over the same
//     periodic database check; and Naive, a handler running SELECT 1 through
//     pgxpool on every request (the design the exporter replaced).
//   - NewServer (server.go) gives every server the exporter's http.Server
//     limits (exporter.NewHTTPServer), so that the comparisons differ in
//     their handlers only.
//
// The Go benchmarks (go test -run '^$' -bench . ./internal/bench/) compare
// the handlers in one run through httptest.NewRecorder. The wrk side-by-side
// run, the database cost, the exporter's memory and the outage-detection
// latency are measured by the command in devtools/exporterbench,
// which `make bench` runs after the Go benchmarks; nothing in `go test ./...`
// needs wrk.
package bench
