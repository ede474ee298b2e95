package bench

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"time"

	libhealth "github.com/alexliesenfeld/health"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/dbhealth/dbhealth-exporter/internal/collectors"
	"github.com/dbhealth/dbhealth-exporter/internal/health"
)

// The headers the exporter's probes send with a JSON body
// (internal/probes.write); the comparison handlers send the same ones, so
// every response in a comparison has the same size on the wire.
var (
	contentJSON = []string{"application/json"}
	noStore     = []string{"no-store"}
	noSniff     = []string{"nosniff"}
)

// writeProbe sends code and body with the probe headers. The header values
// are shared slices: nothing is allocated.
func writeProbe(w http.ResponseWriter, code int, body []byte) {
	h := w.Header()
	h["Content-Type"] = contentJSON
	h["Cache-Control"] = noStore
	h["X-Content-Type-Options"] = noSniff
	w.WriteHeader(code)
	_, _ = w.Write(body)
}

// Bare answers every request with 200 and body, with the probe headers,
// doing nothing else: the most a net/http handler can serve on this machine.
// Give it the exporter's /readyz body to compare like with like.
func Bare(body []byte) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		writeProbe(w, http.StatusOK, body)
	})
}

// LibHealth is github.com/alexliesenfeld/health's own handler
// (health.NewHandler) over the exporter's database check (a fresh connection,
// SELECT 1, pg_is_in_recovery()) run periodically by the library with the
// exporter's schedule: the library used as its README suggests.
type LibHealth struct {
	Handler http.Handler
	checker libhealth.Checker
	pool    *pgxpool.Pool
}

// StartLibHealth starts the periodic check on dsn. The answer is padded (an
// "info" field) to about size bytes, the size of the exporter's answer;
// 0 leaves it unpadded. Close stops the check.
func StartLibHealth(dsn string, sched Schedule, size int) (*LibHealth, error) {
	if sched.Interval == 0 {
		sched.Interval = health.DefaultInterval
	}
	if sched.Timeout == 0 {
		sched.Timeout = health.DefaultTimeout
	}
	pool, err := newPool(dsn)
	if err != nil {
		return nil, err
	}
	db := collectors.NewDatabase(pool, collectors.DatabaseOptions{})
	checker := libhealth.NewChecker(
		libhealth.WithDisabledAutostart(),
		libhealth.WithInfo(map[string]any{"padding": padding(size)}),
		libhealth.WithPeriodicCheck(sched.Interval, 0, libhealth.Check{
			Name:    "database",
			Timeout: sched.Timeout,
			Check:   func(ctx context.Context) error { return db.Run(ctx).Err },
		}),
	)
	checker.Start()
	return &LibHealth{Handler: libhealth.NewHandler(checker), checker: checker, pool: pool}, nil
}

// padding returns the filler that brings the library's "up" answer to about
// size bytes (the timestamp's length varies by a few).
func padding(size int) string {
	up, _ := json.Marshal(libhealth.CheckerResult{
		Status:  libhealth.StatusUp,
		Info:    map[string]any{"padding": ""},
		Details: map[string]libhealth.CheckResult{"database": {Status: libhealth.StatusUp, Timestamp: time.Now().UTC()}},
	})
	if n := size - len(up); n > 0 {
		return strings.Repeat("x", n)
	}
	return ""
}

// Close stops the periodic check and closes the pool.
func (l *LibHealth) Close() {
	l.checker.Stop()
	l.pool.Close()
}

// Naive runs SELECT 1 through pgxpool on every request: the design the
// exporter replaced, where each probe costs the database a query. The pool
// has pgxpool's defaults (at most max(4, GOMAXPROCS) connections).
type Naive struct {
	Handler http.Handler
	Pool    *pgxpool.Pool
}

// NaiveTimeout bounds one naive probe's query, like the exporter's default
// check timeout.
const NaiveTimeout = 2 * time.Second

// NewNaive returns the naive handler on dsn; it answers 200 with okBody, or
// 503 when the query fails.
func NewNaive(dsn string, okBody []byte) (*Naive, error) {
	pool, err := pgxpool.New(context.Background(), dsn)
	if err != nil {
		return nil, err
	}
	failBody := []byte(`{"status":"not_ready","database":"error"}` + "\n")
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), NaiveTimeout)
		defer cancel()
		if _, err := pool.Exec(ctx, "SELECT 1"); err != nil {
			writeProbe(w, http.StatusServiceUnavailable, failBody)
			return
		}
		writeProbe(w, http.StatusOK, okBody)
	})
	return &Naive{Handler: h, Pool: pool}, nil
}

// Close closes the pool.
func (n *Naive) Close() { n.Pool.Close() }
