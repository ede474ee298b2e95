package bench

import (
	"net/http"

	"github.com/dbhealth/dbhealth-exporter/internal/exporter"
)

// NewServer returns an http.Server for h with the exporter's limits. Every
// server in a comparison uses them: a server with deadlines sets them on the
// connection for every request, which costs a little, and the comparisons
// are about the handlers.
func NewServer(h http.Handler) *http.Server { return exporter.NewHTTPServer(h, nil) }
