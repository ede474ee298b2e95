package probes

import (
	"bytes"
	"compress/gzip"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dbhealth/dbhealth-exporter/internal/health"
)

// statusPage serves "/" from src (and fleet, if not nil) as of now.
func statusPage(t *testing.T, src Source, fleet Fleet, now time.Time, header ...string) *httptest.ResponseRecorder {
	t.Helper()
	l := newLanding(src, Options{MetricsPath: "/metrics", Version: "1.4.0", Fleet: fleet})
	l.now = func() time.Time { return now }
	return get(l, "/", header...)
}

func get(h http.Handler, target string, header ...string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(http.MethodGet, target, nil)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

var listedTarget = regexp.MustCompile(`data-target="([^"]*)"`)

// listed returns the targets in the order the page lists them.
func listed(page string) []string {
	var names []string
	for _, m := range listedTarget.FindAllStringSubmatch(page, -1) {
		names = append(names, m[1])
	}
	return names
}

func wantAll(t *testing.T, page string, wants ...string) {
	t.Helper()
	for _, want := range wants {
		if !strings.Contains(page, want) {
			t.Errorf("the page lacks %q", want)
		}
	}
}

func TestStatusPage_Sidecar_ShowsTheOneTargetItsChecksAndLinks(t *testing.T) {
	db := ranCheck("database", true, "connect 10.0.0.5:5432: connection refused")
	db.Since, db.History = t0.Add(-3*time.Minute), runs(t0, 3, func(int) time.Duration { return time.Millisecond }, func(int) string { return "refused" })
	src := fixed{snapshot(false, db, ranCheck("migrations", true, "")), alive}
	rec := statusPage(t, src, nil, t0)
	if rec.Code != http.StatusOK {
		t.Fatalf("%d %s", rec.Code, rec.Body)
	}
	for header, want := range map[string]string{
		"Content-Type": "text/html; charset=utf-8", "Cache-Control": "no-store", "X-Content-Type-Options": "nosniff",
		"Content-Security-Policy": contentSecurity,
	} {
		if got := rec.Header().Get(header); got != want {
			t.Errorf("%s: %q, want %q", header, got, want)
		}
	}
	page := rec.Body.String()
	if !strings.HasPrefix(page, "<!DOCTYPE html>\n<html") {
		t.Errorf("the page does not start with a doctype: %.40q", page)
	}
	wantAll(t, page, "Version: 1.4.0", `href="/metrics"`, `href="/readyz?verbose"`, `href="/livez?verbose"`,
		`data-target="default" data-readiness="not_ready"`, `href="/readyz/database?verbose"`, `href="/readyz/migrations?verbose"`,
		`data-check="database" data-status="failing"`, "connect 10.0.0.5:5432: connection refused", "for 3m",
		`<title>last 3 runs: 0 passed, 3 failed (refused ×3); latency median 1.0 ms, max 1.0 ms</title>`)
	for _, unwanted := range []string{"/targets", "<script", "http://", "https://"} {
		if strings.Contains(page, unwanted) {
			t.Errorf("the page holds %q", unwanted)
		}
	}
	if got := listed(page); !slices.Equal(got, []string{"default"}) {
		t.Errorf("targets listed: %q", got)
	}
}

func TestStatusPage_Fleet_FailingFirstThenStaleStartingReady(t *testing.T) {
	now := time.Now()
	rec := get(fleetMux(demoFleet(now)), "/")
	page := rec.Body.String()
	want := []string{"orders", "payments", "search", "analytics", "users", "billing", "catalog", "inventory", "shipping"}
	if got := listed(page); !slices.Equal(got, want) {
		t.Fatalf("targets listed %q, want %q", got, want)
	}
	wantAll(t, page,
		`<strong>2</strong> failing`, `<strong>1</strong> stale`, `<strong>1</strong> starting`,
		`<strong>1</strong> ready, a non-critical check failing`, `<strong>4</strong> ready`,
		`href="/targets"`, `href="/targets/orders/readyz?verbose"`, `href="/targets/orders/readyz/database?verbose"`,
		"connection refused", "2 pending (0042_add_refund_index, 0043_backfill_refunds)", "stale: no result since",
		`team=payments`, `tier=1`, "9 targets on this exporter")
	// Every link on the page is one the exporter serves.
	for _, m := range regexp.MustCompile(`href="([^"#]+)"`).FindAllStringSubmatch(page, -1) {
		if m[1] == "/metrics" {
			continue
		}
		if rec := get(fleetMux(demoFleet(now)), strings.ReplaceAll(m[1], "&amp;", "&")); rec.Code == http.StatusNotFound || rec.Code == http.StatusMethodNotAllowed {
			t.Errorf("link %s: %d", m[1], rec.Code)
		}
	}
}

func TestStatusPage_AgesAreAsOfEachRequest(t *testing.T) {
	fleet := demoFleet(t0)
	src := fixed{&health.Snapshot{Readiness: health.ReadinessReady}, alive}
	l := newLanding(src, Options{Fleet: fleet})
	for _, tc := range []struct {
		after time.Duration
		wants []string
	}{
		{0, []string{"for 12m<br>", "for 1d 2h<br>", "last failed 1m 10s ago: timeout", "for 4s<br>", "1m 22s ago"}},
		{time.Hour + 30*time.Second, []string{"for 1h 12m<br>", "for 1d 3h<br>", "last failed 1h 1m ago: timeout", "for 1h<br>"}},
	} {
		now := t0.Add(tc.after)
		l.now = func() time.Time { return now }
		rec := get(l, "/")
		wantAll(t, rec.Body.String(), tc.wants...)
		wantAll(t, rec.Body.String(), `<time datetime="`+now.UTC().Format(time.RFC3339)+`">`)
	}
}

func TestStatusPage_RendersATargetOncePerSnapshot(t *testing.T) {
	fleet := demoFleet(t0)
	l := newLanding(fixed{&health.Snapshot{}, alive}, Options{Fleet: fleet})
	first, err := l.current(fleet.Targets())
	if err != nil {
		t.Fatal(err)
	}
	if again, _ := l.current(fleet.Targets()); again != first {
		t.Fatal("the same snapshots were rendered again")
	}
	// One target publishes a new generation, another's labels change.
	fleet.targets[1].Snapshot = snapshotOf("billing", checkOf("database", true, health.StatusFailing, t0, nil, "refused"))
	fleet.targets[2].Labels = map[string]string{"team": "search"}
	next, _ := l.current(fleet.Targets())
	for i, f := range next.byTarget {
		if rerendered := f != first.byTarget[i]; rerendered != (i == 1 || i == 2) {
			t.Errorf("target %s: rendered again %v", f.name, rerendered)
		}
	}
	if next.counts[groupFailing] != 3 || next.order[0].name != "billing" || !bytes.Contains(next.byTarget[2].html, []byte("team=search")) {
		t.Errorf("the new view: counts %v, first %s", next.counts, next.order[0].name)
	}
}

func TestStatusPage_LargeFleet_CollapsesTheReadyTargets(t *testing.T) {
	open := regexp.MustCompile(`<details class="group g-(\w+)" id="\w+"( open)?>`)
	for _, tc := range []struct {
		targets int
		want    map[string]bool // group -> open
	}{
		{9, map[string]bool{"failing": true, "ready": true}},
		{300, map[string]bool{"failing": true, "ready": false}},
	} {
		page := get(fleetMux(bigFleet(t0, tc.targets)), "/").Body.String()
		got := map[string]bool{}
		for _, m := range open.FindAllStringSubmatch(page, -1) {
			got[m[1]] = m[2] != ""
		}
		if len(got) != len(tc.want) || got["failing"] != tc.want["failing"] || got["ready"] != tc.want["ready"] {
			t.Errorf("%d targets: groups open %v, want %v", tc.targets, got, tc.want)
		}
		if n := len(listed(page)); n != tc.targets {
			t.Errorf("%d targets: %d listed", tc.targets, n)
		}
	}
}

func TestStatusPage_EscapesWhatChecksAndTargetsSay(t *testing.T) {
	c := ranCheck("database", true, `FATAL: role "<script>alert(1)</script>" does not exist`+"\x00"+`"><img src=x>`)
	c.History = []health.RunSummary{{Finished: t0, Duration: time.Millisecond, Reason: `<b>odd</b>`}}
	fleet := &fakeFleet{targets: []Target{{Name: `a"<b>`, Labels: map[string]string{"team": "<i>x</i>"}, Snapshot: snapshotOf("a", c)}}}
	rec := statusPage(t, fixed{&health.Snapshot{}, alive}, fleet, t0)
	page := rec.Body.String()
	if rec.Code != http.StatusOK {
		t.Fatalf("%d %s", rec.Code, page)
	}
	for _, raw := range []string{"<script>", "<img", "<b>", "<i>", "\x00"} {
		if strings.Contains(page, raw) {
			t.Errorf("the page holds %q unescaped", raw)
		}
	}
	wantAll(t, page, "&lt;script&gt;alert(1)&lt;/script&gt;", "\uFFFD", "team=&lt;i&gt;x&lt;/i&gt;", "failed (&lt;b&gt;odd&lt;/b&gt;)",
		`href="/targets/a%22%3cb%3e/readyz?verbose"`)
}

func TestStatusPage_ShuttingDownAndEmpty(t *testing.T) {
	rec := statusPage(t, fixed{snapshot(true, ranCheck("database", true, "")), alive}, nil, t0)
	wantAll(t, rec.Body.String(), "The exporter is shutting down", `data-readiness="shutting_down"`, `<strong>1</strong> shutting down`)
	rec = statusPage(t, fixed{&health.Snapshot{Readiness: health.ReadinessReady}, alive}, &fakeFleet{}, t0)
	wantAll(t, rec.Body.String(), "No targets on this exporter.", "0 targets on this exporter")
	rec = statusPage(t, fixed{snapshot(false), alive}, nil, t0)
	wantAll(t, rec.Body.String(), `data-target="default" data-readiness="ready"`, "no checks")
}

func TestStatusPage_LargePageIsCompressedForClientsThatAccept(t *testing.T) {
	src, fleet := fixed{&health.Snapshot{}, alive}, bigFleet(t0, 100)
	plain := statusPage(t, src, fleet, t0)
	for _, tc := range []struct {
		fleet          Fleet
		acceptEncoding string
		compressed     bool
	}{
		{fleet, "gzip, deflate, br", true},
		{fleet, "br;q=1.0, gzip;q=0.8", true},
		{fleet, "gzip;q=0", false},
		{fleet, "", false},
		{demoFleet(t0), "gzip", false}, // small
	} {
		rec := statusPage(t, src, tc.fleet, t0, "Accept-Encoding", tc.acceptEncoding)
		if got := rec.Header().Get("Content-Encoding") == "gzip"; got != tc.compressed {
			t.Errorf("%q: compressed %v", tc.acceptEncoding, got)
		}
		if rec.Header().Get("Vary") != "Accept-Encoding" {
			t.Errorf("%q: Vary %q", tc.acceptEncoding, rec.Header().Get("Vary"))
		}
		if !tc.compressed {
			continue
		}
		zr, err := gzip.NewReader(rec.Body)
		if err != nil {
			t.Fatal(err)
		}
		body, err := io.ReadAll(zr)
		if err != nil || !bytes.Equal(body, plain.Body.Bytes()) {
			t.Errorf("%q: the compressed page differs (%v)", tc.acceptEncoding, err)
		}
	}
}

func TestAppendAge_ToTheSecondThenToTheMinute(t *testing.T) {
	for d, want := range map[time.Duration]string{
		-time.Second:                          "0s",
		0:                                     "0s",
		59*time.Second + 999*time.Millisecond: "59s",
		time.Minute:                           "1m",
		12*time.Minute + 5*time.Second:        "12m 5s",
		3*time.Hour + 59*time.Second:          "3h",
		3*time.Hour + 12*time.Minute:          "3h 12m",
		50 * time.Hour:                        "2d 2h",
	} {
		if got := string(appendAge(nil, d)); got != want {
			t.Errorf("%s: %q, want %q", d, got, want)
		}
	}
}

func TestCutAgeMarks_RefusesAStrayNUL(t *testing.T) {
	html, ages, err := cutAgeMarks([]byte("for " + string(ageMark(time.Unix(0, 42))) + " now"))
	if err != nil || string(html) != "for  now" || len(ages) != 1 || ages[0] != (ageSlot{at: 4, since: 42}) {
		t.Fatalf("%q %v %v", html, ages, err)
	}
	if _, _, err := cutAgeMarks([]byte("a\x00b")); err == nil {
		t.Fatal("a NUL that is no mark was taken for one")
	}
}

// swapping is a fleet whose targets another goroutine replaces.
type swapping struct{ current atomic.Pointer[fakeFleet] }

func (s *swapping) Targets() []Target { return s.current.Load().Targets() }
func (s *swapping) Readiness(name string) (http.Handler, bool) {
	return s.current.Load().Readiness(name)
}

// Requests while the targets publish new generations each get a whole
// page of one set of snapshots (run with -race).
func TestStatusPage_ConcurrentRequestsWhileTargetsPublish(t *testing.T) {
	fleets := []*fakeFleet{demoFleet(t0), demoFleet(t0.Add(time.Minute)), bigFleet(t0, 9)}
	var fleet swapping
	fleet.current.Store(fleets[0])
	h := fleetMux(&fleet)
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for range 50 {
				if got := listed(get(h, "/").Body.String()); len(got) != 9 {
					t.Errorf("%d targets listed: %q", len(got), got)
					return
				}
			}
		})
	}
	done := make(chan struct{})
	go func() {
		wg.Wait()
		close(done)
	}()
	for i := 0; ; i++ {
		select {
		case <-done:
			return
		default:
			fleet.current.Store(fleets[i%len(fleets)])
			time.Sleep(100 * time.Microsecond) // a publish now and then, not a spin
		}
	}
}
