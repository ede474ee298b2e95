package probes

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/dbhealth/dbhealth-exporter/internal/health"
)

// fixed is a Source serving one hand-made snapshot: the handlers are pure
// functions of it, so no engine is needed to test their output.
type fixed struct {
	snap *health.Snapshot
	live health.Liveness
}

func (f fixed) Snapshot() *health.Snapshot { return f.snap }
func (f fixed) Liveness() health.Liveness  { return f.live }

var t0 = time.Date(2026, 11, 22, 3, 0, 0, 0, time.UTC)

func ranCheck(name string, critical bool, errText string) health.CheckSnapshot {
	c := health.CheckSnapshot{Definition: health.Definition{Name: name, Critical: critical}, Status: health.StatusOK,
		Last: &health.Outcome{Started: t0, Finished: t0.Add(5 * time.Millisecond)}, LastSuccess: t0}
	if errText != "" {
		c.Status, c.ConsecutiveFailures = health.StatusFailing, 2
		c.Last.Error, c.Last.Reason, c.LastSuccess = errText, "refused", time.Time{}
	}
	return c
}

func snapshot(shuttingDown bool, checks ...health.CheckSnapshot) *health.Snapshot {
	return &health.Snapshot{Generation: 7, Target: "default", Checks: checks, ShuttingDown: shuttingDown,
		Readiness: health.Verdict(checks, shuttingDown, nil)}
}

func serve(src Source, method, target string, header ...string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, target, nil)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	rec := httptest.NewRecorder()
	NewHandler(src, Options{}).ServeHTTP(rec, req)
	return rec
}

var alive = health.Liveness{OK: true, Bound: 2 * time.Minute}

func TestReadyz_Healthy_Returns200WithSeedShapeAndChecks(t *testing.T) {
	src := fixed{snapshot(false, ranCheck("database", true, "")), alive}
	for _, path := range []string{"/readyz", "/-/ready"} {
		rec := serve(src, http.MethodGet, path)
		if rec.Code != http.StatusOK {
			t.Fatalf("%s: %d", path, rec.Code)
		}
		if ct, cc := rec.Header().Get("Content-Type"), rec.Header().Get("Cache-Control"); ct != "application/json" || cc != "no-store" {
			t.Fatalf("%s headers: %q %q", path, ct, cc)
		}
		var body map[string]any
		if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
			t.Fatal(err)
		}
		check := body["checks"].(map[string]any)["database"].(map[string]any)
		if body["status"] != "ready" || body["database"] != "ok" || body["generation"] != 7.0 ||
			check["status"] != "ok" || check["critical"] != true || check["consecutive_failures"] != 0.0 ||
			check["checked_at"] != "2026-11-22T03:00:00.005Z" || check["duration_seconds"] != 0.005 {
			t.Fatalf("%s body: %s", path, rec.Body)
		}
		if _, ok := body["database_error"]; ok {
			t.Fatalf("database_error on a healthy database: %s", rec.Body)
		}
	}
}

func TestReadyz_DatabaseFailing_Returns503WithReason(t *testing.T) {
	src := fixed{snapshot(false, ranCheck("database", true, "dial tcp: connection refused")), alive}
	rec := serve(src, http.MethodGet, "/readyz")
	var body map[string]any
	_ = json.Unmarshal(rec.Body.Bytes(), &body)
	check := body["checks"].(map[string]any)["database"].(map[string]any)
	if rec.Code != http.StatusServiceUnavailable || body["status"] != "not_ready" || body["database"] != "error" ||
		body["database_error"] != "dial tcp: connection refused" || check["reason"] != "refused" || check["consecutive_failures"] != 2.0 {
		t.Fatalf("%d %s", rec.Code, rec.Body)
	}
}

func TestReadyz_Verbose_IsTheKubernetesTextForm(t *testing.T) {
	src := fixed{snapshot(false, ranCheck("database", true, ""), ranCheck("migrations", true, "2 pending (0003_x, 0004_y)")), alive}
	want := "[+]database ok\n[-]migrations failed: 2 pending (0003_x, 0004_y)\n[+]shutdown ok\nreadyz check failed\n"
	for _, rec := range []*httptest.ResponseRecorder{
		serve(src, http.MethodGet, "/readyz?verbose"),
		serve(src, http.MethodGet, "/readyz", "Accept", "text/plain"),
	} {
		if rec.Code != http.StatusServiceUnavailable || rec.Body.String() != want || !strings.HasPrefix(rec.Header().Get("Content-Type"), "text/plain") {
			t.Fatalf("%d %q", rec.Code, rec.Body)
		}
	}
}

func TestReadyz_Exclude_DropsChecksFromThisVerdictOnly(t *testing.T) {
	src := fixed{snapshot(false, ranCheck("database", true, ""), ranCheck("migrations", true, "1 pending")), alive}
	rec := serve(src, http.MethodGet, "/readyz?verbose&exclude=migrations&exclude=nope")
	want := "[+]database ok\n[+]migrations excluded: ok\n[+]shutdown ok\nwarn: some health checks cannot be excluded: no matches for \"nope\"\nreadyz check passed\n"
	if rec.Code != http.StatusOK || rec.Body.String() != want {
		t.Fatalf("%d %q", rec.Code, rec.Body)
	}
	if rec := serve(src, http.MethodGet, "/readyz"); rec.Code != http.StatusServiceUnavailable {
		t.Fatalf("an exclusion leaked into the next request: %d", rec.Code)
	}
}

func TestReadyz_PerCheckPath_AnswersForThatCheckOnly(t *testing.T) {
	src := fixed{snapshot(false, ranCheck("database", true, ""), ranCheck("audit", false, "disk full")), alive}
	if rec := serve(src, http.MethodGet, "/readyz/database"); rec.Code != http.StatusOK || strings.Contains(rec.Body.String(), "audit") {
		t.Fatalf("/readyz/database: %d %s", rec.Code, rec.Body)
	}
	if rec := serve(src, http.MethodGet, "/readyz"); rec.Code != http.StatusOK {
		t.Fatalf("a non-critical failure must not fail /readyz: %d", rec.Code)
	}
	if rec := serve(src, http.MethodGet, "/readyz/audit?verbose"); rec.Code != http.StatusServiceUnavailable ||
		rec.Body.String() != "[-]audit failed (not critical): disk full\nreadyz check failed\n" {
		t.Fatalf("/readyz/audit: %d %q", rec.Code, rec.Body)
	}
	if rec := serve(src, http.MethodGet, "/readyz/nope"); rec.Code != http.StatusNotFound {
		t.Fatalf("/readyz/nope: %d", rec.Code)
	}
}

func TestReadyz_ColdStart_IsStarting(t *testing.T) {
	src := fixed{snapshot(false, health.CheckSnapshot{Definition: health.Definition{Name: "database", Critical: true}, Status: health.StatusUnknown}), alive}
	rec := serve(src, http.MethodGet, "/readyz")
	var body map[string]any
	_ = json.Unmarshal(rec.Body.Bytes(), &body)
	if rec.Code != http.StatusServiceUnavailable || body["status"] != "starting" || body["database"] != "unknown" {
		t.Fatalf("%d %s", rec.Code, rec.Body)
	}
}

func TestReadyz_Stale_NamesTheAgeOfTheLastResult(t *testing.T) {
	c := ranCheck("database", true, "")
	c.Status, c.StaleAt = health.StatusStale, c.Last.Finished.Add(32*time.Second)
	src := fixed{snapshot(false, c), alive}
	rec := serve(src, http.MethodGet, "/readyz?verbose")
	if rec.Code != http.StatusServiceUnavailable ||
		!strings.Contains(rec.Body.String(), "[-]database failed: stale: no result since 2026-11-22T03:00:00Z (bound 32s)") {
		t.Fatalf("%d %q", rec.Code, rec.Body)
	}
}

func TestReadyz_ShuttingDown_Is503AndNamesTheShutdown(t *testing.T) {
	src := fixed{snapshot(true, ranCheck("database", true, "")), alive}
	rec := serve(src, http.MethodGet, "/readyz?verbose")
	if rec.Code != http.StatusServiceUnavailable || !strings.Contains(rec.Body.String(), "[-]shutdown failed") {
		t.Fatalf("%d %q", rec.Code, rec.Body)
	}
	if rec := serve(src, http.MethodGet, "/readyz/shutdown"); rec.Code != http.StatusServiceUnavailable {
		t.Fatalf("/readyz/shutdown: %d", rec.Code)
	}
}

func TestLiveness_IsOKWhateverTheDatabaseAndFailsOnlyWhenWedged(t *testing.T) {
	down := fixed{snapshot(false, ranCheck("database", true, "connection refused")), alive}
	for _, path := range []string{"/healthz", "/livez", "/-/healthy"} {
		if rec := serve(down, http.MethodGet, path); rec.Code != http.StatusOK || rec.Body.String() != "{\"status\":\"ok\"}\n" {
			t.Fatalf("%s with the database down: %d %q", path, rec.Code, rec.Body)
		}
	}
	wedged := fixed{down.snap, health.Liveness{OK: false, LastStart: t0, Bound: 2 * time.Minute}}
	rec := serve(wedged, http.MethodGet, "/livez?verbose")
	if rec.Code != http.StatusServiceUnavailable || !strings.Contains(rec.Body.String(), "[-]scheduler failed: no check has started since 2026-11-22T03:00:00Z (bound 2m0s)") {
		t.Fatalf("wedged: %d %q", rec.Code, rec.Body)
	}
}

func TestProbes_OnlyGETAndHEAD(t *testing.T) {
	src := fixed{snapshot(false, ranCheck("database", true, "")), alive}
	for _, path := range []string{"/healthz", "/readyz", "/readyz/database", "/"} {
		rec := serve(src, http.MethodPost, path)
		if rec.Code != http.StatusMethodNotAllowed || rec.Header().Get("Allow") != "GET, HEAD" {
			t.Errorf("POST %s: %d allow %q", path, rec.Code, rec.Header().Get("Allow"))
		}
		if rec := serve(src, http.MethodHead, path); rec.Code != http.StatusOK {
			t.Errorf("HEAD %s: %d", path, rec.Code)
		}
	}
}

func TestReadyz_RendersOncePerGeneration(t *testing.T) {
	src := &fixed{snapshot(false, ranCheck("database", true, "")), alive}
	h := newReadiness(src, nil)
	first := h.cached(view{snap: src.snap})
	if again := h.cached(view{snap: src.snap}); again != first {
		t.Fatal("the same generation was rendered twice")
	}
	src.snap = snapshot(false, ranCheck("database", true, "refused"))
	if next := h.cached(view{snap: src.snap}); next == first || next.code != http.StatusServiceUnavailable {
		t.Fatal("a new generation was served from the old rendering")
	}
}

// private is a check's details with a part anonymous clients must not see.
type private struct {
	Name    string `json:"name,omitempty"`
	Version string `json:"version"`
}

func (p private) Withheld() any { return private{Version: "15"} }

func TestReadyz_Withheld_ReasonClassOnlyForAnonymousRequests(t *testing.T) {
	c := ranCheck("database", true, `auth 10.0.0.7:5432: FATAL: password authentication failed for user "app" (SQLSTATE 28P01)`)
	c.Last.Reason = "auth_failed"
	c.Last.Details = private{Name: "orders_db", Version: "15.18 (Debian)"}
	src := fixed{snapshot(false, c), alive}
	h := http.NewServeMux()
	Register(h, src, Options{Withhold: func(r *http.Request) bool { return r.Header.Get("Authorization") == "" }})
	get := func(target string, header ...string) string {
		req := httptest.NewRequest(http.MethodGet, target, nil)
		for i := 0; i+1 < len(header); i += 2 {
			req.Header.Set(header[i], header[i+1])
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec.Body.String()
	}
	for _, target := range []string{"/readyz", "/readyz?verbose", "/readyz/database", "/readyz?exclude=nothing"} {
		anonymous := get(target)
		for _, secret := range []string{"10.0.0.7", `user \"app\"`, `user "app"`, "orders_db", "Debian"} {
			if strings.Contains(anonymous, secret) {
				t.Errorf("anonymous %s shows %q: %s", target, secret, anonymous)
			}
		}
		if !strings.Contains(anonymous, "auth_failed (details withheld)") {
			t.Errorf("anonymous %s lacks the reason class: %s", target, anonymous)
		}
		if full := get(target, "Authorization", "Basic x"); !strings.Contains(full, "10.0.0.7:5432") {
			t.Errorf("authenticated %s lacks the message: %s", target, full)
		}
	}
	// Renderings are cached per generation and per audience: neither
	// leaks into the other.
	if !strings.Contains(get("/readyz", "Authorization", "Basic x"), "orders_db") || strings.Contains(get("/readyz"), "orders_db") {
		t.Fatal("the cache mixed the anonymous and the authenticated renderings")
	}
}
