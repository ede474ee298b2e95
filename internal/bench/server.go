package bench

import (
	"net/http"
	"time"
)

// The exporter's HTTP server limits (cmd/exporter/exporter.go). Every server
// in a comparison uses them: a server with deadlines sets them on the
// connection for every request, which costs a little, and the comparisons
// are about the handlers.
const (
	ReadHeaderTimeout = 10 * time.Second
	WriteTimeout      = 30 * time.Second
	IdleTimeout       = 2 * time.Minute
)

// NewServer returns an http.Server for h with the exporter's limits.
func NewServer(h http.Handler) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: ReadHeaderTimeout,
		WriteTimeout:      WriteTimeout,
		IdleTimeout:       IdleTimeout,
	}
}
