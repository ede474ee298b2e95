package bench_test

import (
	"bytes"
	"maps"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"
	"time"

	"github.com/dbhealth/dbhealth-exporter/internal/bench"
	"github.com/dbhealth/dbhealth-exporter/internal/pgtest"
)

// fixture is the in-process exporter and the three handlers it is compared
// with, each on its own database of the shared cluster.
type fixture struct {
	exporter  *bench.Exporter
	readyBody []byte
	bare      http.Handler
	libhealth *bench.LibHealth
	naive     *bench.Naive
}

func newFixture(tb testing.TB) *fixture {
	tb.Helper()
	srv := pgtest.Shared(tb)
	ex, err := bench.StartExporter(srv.NewDatabase(tb), bench.Schedule{})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(ex.Close)
	if err := ex.WaitReady(10 * time.Second); err != nil {
		tb.Fatal(err)
	}
	_, body := bench.Get(ex.Handler, "/readyz", nil)
	lh, err := bench.StartLibHealth(srv.NewDatabase(tb), bench.Schedule{}, len(body))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(lh.Close)
	naive, err := bench.NewNaive(srv.NewDatabase(tb), body)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(naive.Close)
	waitOK(tb, lh.Handler, "/")
	return &fixture{exporter: ex, readyBody: body, bare: bench.Bare(body), libhealth: lh, naive: naive}
}

func waitOK(tb testing.TB, h http.Handler, path string) {
	tb.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		code, body := bench.Get(h, path, nil)
		if code == http.StatusOK {
			return
		}
		if time.Now().After(deadline) {
			tb.Fatalf("%s: %d %s", path, code, body)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func serve(h http.Handler, path string) *httptest.ResponseRecorder {
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest(http.MethodGet, path, nil))
	return w
}

// The comparisons are like with like: the same headers as the exporter's
// probes and about the same body size.
func TestComparisonHandlers(t *testing.T) {
	f := newFixture(t)

	ready := serve(f.exporter.Handler, "/readyz")
	if ready.Code != http.StatusOK || !bytes.Contains(ready.Body.Bytes(), []byte(`"status":"ready"`)) {
		t.Fatalf("exporter /readyz: %d %s", ready.Code, ready.Body)
	}
	for name, h := range map[string]http.Handler{"bare": f.bare, "naive": f.naive.Handler} {
		w := serve(h, "/readyz")
		if w.Code != http.StatusOK || !bytes.Equal(w.Body.Bytes(), f.readyBody) {
			t.Errorf("%s: %d %s, want the exporter's body", name, w.Code, w.Body)
		}
		if got, want := slices.Sorted(maps.Keys(w.Header())), slices.Sorted(maps.Keys(ready.Header())); !slices.Equal(got, want) {
			t.Errorf("%s sends headers %v, the exporter %v", name, got, want)
		}
		for k := range ready.Header() {
			if w.Header().Get(k) != ready.Header().Get(k) {
				t.Errorf("%s: %s is %q, the exporter's %q", name, k, w.Header().Get(k), ready.Header().Get(k))
			}
		}
	}

	lh := serve(f.libhealth.Handler, "/")
	if lh.Code != http.StatusOK || !bytes.Contains(lh.Body.Bytes(), []byte(`"status":"up"`)) {
		t.Fatalf("libhealth: %d %s", lh.Code, lh.Body)
	}
	if d := lh.Body.Len() - len(f.readyBody); d < -16 || d > 16 {
		t.Errorf("libhealth answers %d bytes, the exporter %d", lh.Body.Len(), len(f.readyBody))
	}

	metrics := serve(f.exporter.Handler, "/metrics")
	if metrics.Code != http.StatusOK || !bytes.Contains(metrics.Body.Bytes(), []byte("\ndbhealth_up{target=\"default\"} 1\n")) {
		t.Errorf("exporter /metrics: %d\n%s", metrics.Code, metrics.Body)
	}
	if live := serve(f.exporter.Handler, "/healthz"); live.Code != http.StatusOK {
		t.Errorf("exporter /healthz: %d %s", live.Code, live.Body)
	}
}

// The naive handler really queries: it fails when the database is gone.
func TestNaiveQueriesEveryRequest(t *testing.T) {
	c := pgtest.New(t)
	naive, err := bench.NewNaive(c.DSN("postgres"), []byte("{}\n"))
	if err != nil {
		t.Fatal(err)
	}
	defer naive.Close()
	if w := serve(naive.Handler, "/"); w.Code != http.StatusOK {
		t.Fatalf("database up: %d %s", w.Code, w.Body)
	}
	c.Stop(t)
	if w := serve(naive.Handler, "/"); w.Code != http.StatusServiceUnavailable {
		t.Fatalf("database stopped: %d %s", w.Code, w.Body)
	}
}
