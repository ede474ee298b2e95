package bench_test

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

// The Go benchmarks serve one request per iteration through
// httptest.NewRecorder: the handlers' own cost, without sockets. The
// side-by-side run over loopback TCP with wrk is
// devtools/exporterbench.
//
//	go test -run '^$' -bench . -benchmem ./internal/bench/

// BenchmarkReadyz compares the exporter's /readyz with a constant handler
// sending the same bytes (bare), alexliesenfeld/health's handler over the
// same periodic check (libhealth) and SELECT 1 per request (naive).
func BenchmarkReadyz(b *testing.B) {
	f := newFixture(b)
	for _, c := range []struct {
		name string
		h    http.Handler
		path string
	}{
		{"bare", f.bare, "/readyz"},
		{"exporter", f.exporter.Handler, "/readyz"},
		{"libhealth", f.libhealth.Handler, "/"},
		{"naive", f.naive.Handler, "/readyz"},
	} {
		b.Run(c.name, func(b *testing.B) { loop(b, c.h, newRequest(c.path, nil)) })
	}
}

// BenchmarkHealthz is the exporter's liveness probe next to the constant
// handler.
func BenchmarkHealthz(b *testing.B) {
	f := newFixture(b)
	b.Run("bare", func(b *testing.B) { loop(b, f.bare, newRequest("/healthz", nil)) })
	b.Run("exporter", func(b *testing.B) { loop(b, f.exporter.Handler, newRequest("/healthz", nil)) })
}

// PrometheusScrapeHeader is what Prometheus sends with a scrape: it asks
// for OpenMetrics and gzip.
var PrometheusScrapeHeader = http.Header{
	"Accept":          {"application/openmetrics-text;version=1.0.0;q=0.5,application/openmetrics-text;version=0.0.1;q=0.4,text/plain;version=0.0.4;q=0.3,*/*;q=0.2"},
	"Accept-Encoding": {"gzip"},
}

// BenchmarkMetricsScrape is one scrape of one target: the registry's
// Gather alone, the whole /metrics handler in the text format, and as
// Prometheus asks for it (OpenMetrics, gzip).
func BenchmarkMetricsScrape(b *testing.B) {
	f := newFixture(b)
	b.Run("gather", func(b *testing.B) {
		for b.Loop() {
			if _, err := f.exporter.Gatherer().Gather(); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("http-text", func(b *testing.B) { loop(b, f.exporter.Handler, newRequest("/metrics", nil)) })
	b.Run("http-prometheus", func(b *testing.B) {
		loop(b, f.exporter.Handler, newRequest("/metrics", PrometheusScrapeHeader))
	})
}

func newRequest(path string, header http.Header) *http.Request {
	r := httptest.NewRequest(http.MethodGet, path, nil)
	for k, v := range header {
		r.Header[k] = v
	}
	return r
}

// loop serves r through h once per iteration and fails on any answer but
// 200.
func loop(b *testing.B, h http.Handler, r *http.Request) {
	b.ReportAllocs()
	for b.Loop() {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code != http.StatusOK {
			b.Fatalf("%s: %d %s", r.URL.Path, w.Code, w.Body)
		}
	}
}
