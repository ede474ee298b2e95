package probes

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/dbhealth/dbhealth-exporter/internal/health"
)

// fuzzSources are the snapshots FuzzHandler serves, picked by a fuzzed byte.
func fuzzSources() []fixed {
	stale := ranCheck("database", true, "")
	stale.Status, stale.StaleAt = health.StatusStale, stale.Last.Finished.Add(32*time.Second)
	details := ranCheck("migrations", true, "2 pending (0003_x,\n0004_y)")
	details.Last.Details = map[string]any{"status": "overridden?", "pending": []string{"0003_x", "0004_y"}}
	wedged := health.Liveness{OK: false, LastStart: t0, Bound: 2 * time.Minute}
	return []fixed{
		{snapshot(false, ranCheck("database", true, "")), alive},
		// The only failing critical check is migrations: excluding it
		// makes /readyz ready.
		{snapshot(false, ranCheck("database", true, ""), ranCheck("migrations", true, "1 pending")), alive},
		{snapshot(false, ranCheck("audit", false, "disk full"), ranCheck("database", true, "connection refused"), details), alive},
		{snapshot(true, ranCheck("database", true, "")), alive},
		{snapshot(false, health.CheckSnapshot{Definition: health.Definition{Name: "database", Critical: true}, Status: health.StatusUnknown}), wedged},
		{snapshot(false, stale, ranCheck("migrations", true, "")), alive},
		{snapshot(false), wedged},
	}
}

// route says what the mux routes a request URL to, matching as it does the
// unescaped segments of the escaped path: readiness (with the check name
// of /readyz/<name>, "" for the whole snapshot), liveness, or the landing
// page.
func route(u *url.URL) (readiness bool, name string, liveness, landing bool) {
	raw := strings.Split(u.EscapedPath(), "/")
	segs := make([]string, len(raw))
	for i, r := range raw {
		seg, err := url.PathUnescape(r)
		if err != nil {
			return false, "", false, false
		}
		segs[i] = seg
	}
	is := func(patterns ...string) bool {
		return slices.ContainsFunc(patterns, func(p string) bool { return slices.Equal(strings.Split(p, "/"), segs) })
	}
	switch {
	case is(readinessPaths...):
		return true, "", false, false
	case len(segs) == 3 && segs[1] == "readyz" && segs[2] != "":
		return true, segs[2], false, false
	case is(livenessPaths...):
		return false, "", true, false
	case u.EscapedPath() == "/":
		return false, "", false, true
	}
	return false, "", false, false
}

// expectedReadiness is the status code of a GET of /readyz (name "") or
// /readyz/<name> by the definition: the verdict of the snapshot, or of the
// one check, less the excluded checks; 404 for an unknown check.
func expectedReadiness(snap *health.Snapshot, name string, exclude []string) int {
	verdict := snap.Readiness
	switch {
	case name == shutdownCheck:
		verdict = health.ReadinessReady
		if snap.ShuttingDown {
			verdict = health.ReadinessShuttingDown
		}
	case name != "":
		c, ok := snap.Check(name)
		if !ok {
			return http.StatusNotFound
		}
		verdict = health.CheckVerdict(c)
		if snap.ShuttingDown {
			verdict = health.ReadinessShuttingDown
		}
	case len(exclude) > 0:
		verdict = health.Verdict(snap.Checks, snap.ShuttingDown, func(n string) bool { return slices.Contains(exclude, n) })
	}
	if verdict == health.ReadinessReady {
		return http.StatusOK
	}
	return http.StatusServiceUnavailable
}

// muxCleanPath is ServeMux's canonical path: path.Clean keeping a trailing
// slash. The mux redirects any other spelling to it.
func muxCleanPath(p string) string {
	np := path.Clean(p)
	if strings.HasSuffix(p, "/") && np != "/" {
		np += "/"
	}
	return np
}

// validMethod reports whether the server would accept method: a non-empty
// RFC 9110 token.
func validMethod(method string) bool {
	if method == "" {
		return false
	}
	for _, c := range []byte(method) {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0) {
			return false
		}
	}
	return true
}

// FuzzHandler sends fuzzed request targets (path, query with ?verbose,
// ?exclude=..., escapes, garbage), methods and Accept headers to the probe
// handler over fixed snapshots. Properties:
//
//   - it answers 200, 404, 405 or 503 (or, from the mux, a redirect of an
//     unclean path such as //readyz to the cleaned one), never panics;
//   - anything but GET and HEAD on a probe path is 405 with Allow;
//   - GET on a readiness path answers the verdict of its definition
//     (exclusions included: excluding the only failing critical check
//     makes /readyz 200), as application/json (a JSON object whose status
//     says the verdict) or text/plain (ending "readyz check passed" exactly
//     when 200), as ?verbose and Accept ask; never cached by clients;
//   - HEAD gives the same status and Content-Type as GET;
//   - a request leaves nothing behind: a plain GET /readyz afterwards
//     still answers the snapshot's own verdict.
func FuzzHandler(f *testing.F) {
	seeds := []struct {
		target, method, accept string
		src                    uint8
	}{
		{"/readyz", "GET", "", 0},
		{"/readyz?verbose", "GET", "", 1},
		{"/readyz?exclude=migrations", "GET", "", 1},
		{"/readyz?verbose&exclude=migrations&exclude=nope", "GET", "", 1},
		{"/readyz?exclude=migrations&exclude=database", "GET", "application/json", 2},
		{"/readyz?exclude=%6Digrations", "GET", "", 1},
		{"/readyz?exclude=migrations%00", "GET", "", 1},
		{"/readyz?exclude=;bad&verbose=%zz", "GET", "", 1},
		{"/readyz?exclude", "GET", "", 1},
		{"/-/ready?exclude=database", "GET", "text/plain", 5},
		{"/readyz/database", "GET", "", 0},
		{"/readyz/audit?verbose", "GET", "", 2},
		{"/readyz/nope", "GET", "", 0},
		{"/readyz/shutdown", "GET", "", 3},
		{"/readyz/data%2Fbase", "GET", "", 0},
		{"/readyz/", "GET", "", 0},
		{"/readyz/database/extra", "GET", "", 0},
		{"/readyz", "GET", "text/plain;q=0.9, application/json", 0},
		{"/readyz", "GET", "text/plain", 4},
		{"/readyz", "POST", "", 0},
		{"/readyz/database", "DELETE", "", 0},
		{"/readyz", "HEAD", "", 1},
		{"/livez?verbose", "GET", "", 4},
		{"/healthz", "GET", "text/plain", 0},
		{"/-/healthy", "PUT", "", 0},
		{"/", "GET", "text/html", 2},
		{"/", "HEAD", "", 6},
		{"/nope", "GET", "", 0},
		{"//readyz", "GET", "", 0},
		{"/readyz/../livez", "GET", "", 0},
		{"/READYZ", "GET", "", 0},
		{"/-%2Fready", "GET", "", 0},
		{"/ready%7A/data%62ase", "GET", "", 0},
		{"/metrics", "GET", "", 0},
	}
	for _, s := range seeds {
		f.Add(s.target, s.method, s.accept, s.src)
	}
	sources := fuzzSources()
	f.Fuzz(func(t *testing.T, target, method, accept string, srcByte uint8) {
		u, err := url.ParseRequestURI(target)
		if err != nil || !strings.HasPrefix(u.Path, "/") || u.Host != "" || u.Scheme != "" {
			return // the server answers 400 before any handler runs
		}
		if !validMethod(method) {
			return // the server answers 400 to a method that is not a token
		}
		src := sources[int(srcByte)%len(sources)]
		h := NewHandler(src, Options{})
		serve := func(method string) *httptest.ResponseRecorder {
			req := httptest.NewRequest(http.MethodGet, "/", nil)
			req.Method, req.URL, req.RequestURI = method, u, target
			if accept != "" {
				req.Header.Set("Accept", accept)
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			return rec
		}
		rec := serve(method)
		code, ct := rec.Code, rec.Header().Get("Content-Type")
		clean := muxCleanPath(u.Path) == u.Path
		isReadiness, name, isLiveness, isLanding := route(u)
		isProbe := isReadiness || isLiveness || isLanding
		get := method == http.MethodGet || method == http.MethodHead

		switch code {
		case http.StatusOK, http.StatusNotFound, http.StatusMethodNotAllowed, http.StatusServiceUnavailable:
		case http.StatusMovedPermanently, http.StatusTemporaryRedirect, http.StatusPermanentRedirect:
			if clean || rec.Header().Get("Location") == "" {
				t.Fatalf("%s %s: %d to %q for a clean path", method, target, code, rec.Header().Get("Location"))
			}
			return
		default:
			t.Fatalf("%s %s: status %d: %s", method, target, code, rec.Body)
		}
		if !isProbe && clean && code != http.StatusNotFound {
			t.Fatalf("%s %s: %d for a path no probe serves", method, target, code)
		}
		if isProbe && !get && code != http.StatusMethodNotAllowed {
			t.Fatalf("%s %s: %d, want 405", method, target, code)
		}
		if code == http.StatusMethodNotAllowed && rec.Header().Get("Allow") != "GET, HEAD" {
			t.Fatalf("%s %s: 405 with Allow %q", method, target, rec.Header().Get("Allow"))
		}
		if !get || !isProbe {
			return
		}

		getRec := rec
		if method == http.MethodHead {
			getRec = serve(http.MethodGet)
		} else if head := serve(http.MethodHead); head.Code != code || head.Header().Get("Content-Type") != ct {
			t.Fatalf("HEAD %s: %d %q, GET: %d %q", target, head.Code, head.Header().Get("Content-Type"), code, ct)
		}
		if getRec.Code != code || getRec.Header().Get("Content-Type") != ct {
			t.Fatalf("GET %s: %d %q, HEAD: %d %q", target, getRec.Code, getRec.Header().Get("Content-Type"), code, ct)
		}
		body := getRec.Body.Bytes()

		if isReadiness {
			var exclude []string
			if u.RawQuery != "" {
				exclude = u.Query()["exclude"]
			}
			if want := expectedReadiness(src.snap, name, exclude); code != want {
				t.Fatalf("GET %s on %+v: %d, want %d: %s", target, src.snap.Checks, code, want, body)
			}
			// Spelt out for the snapshot whose only failing critical check
			// is migrations, without health.Verdict.
			if srcByte%uint8(len(sources)) == 1 && name == "" && slices.Contains(exclude, "migrations") && code != http.StatusOK {
				t.Fatalf("GET %s: excluding the only failing check gives %d", target, code)
			}
			if cc := getRec.Header().Get("Cache-Control"); cc != "no-store" {
				t.Fatalf("GET %s: Cache-Control %q", target, cc)
			}
			text := code != http.StatusNotFound && ((u.RawQuery != "" && u.Query().Has("verbose")) ||
				(strings.Contains(accept, "text/plain") && !strings.Contains(accept, "application/json")))
			switch {
			case text && ct == contentText:
				last := "readyz check failed\n"
				if code == http.StatusOK {
					last = "readyz check passed\n"
				}
				if !bytes.HasSuffix(body, []byte(last)) {
					t.Fatalf("GET %s: text body does not end %q: %q", target, last, body)
				}
			case !text && ct == contentJSON:
				var payload map[string]any
				if err := json.Unmarshal(body, &payload); err != nil {
					t.Fatalf("GET %s: body is not a JSON object: %v: %q", target, err, body)
				}
				status, _ := payload["status"].(string)
				switch {
				case code == http.StatusNotFound && status != "error",
					code == http.StatusOK && status != string(health.ReadinessReady),
					code == http.StatusServiceUnavailable && (status == string(health.ReadinessReady) || status == ""):
					t.Fatalf("GET %s: %d with status %q: %s", target, code, status, body)
				}
			default:
				t.Fatalf("GET %s (Accept %q): Content-Type %q", target, accept, ct)
			}
		}
		if isLiveness {
			if want := map[bool]int{true: http.StatusOK, false: http.StatusServiceUnavailable}[src.live.OK]; code != want {
				t.Fatalf("GET %s: %d, want %d", target, code, want)
			}
			if ct != contentJSON && ct != contentText {
				t.Fatalf("GET %s: Content-Type %q", target, ct)
			}
			if ct == contentJSON && !json.Valid(body) {
				t.Fatalf("GET %s: invalid JSON %q", target, body)
			}
		}

		after := serve(http.MethodGet)
		plain := httptest.NewRecorder()
		h.ServeHTTP(plain, httptest.NewRequest(http.MethodGet, "/readyz", nil))
		if want := expectedReadiness(src.snap, "", nil); plain.Code != want {
			t.Fatalf("after %s, GET /readyz: %d, want %d", target, plain.Code, want)
		}
		if after.Code != code || !bytes.Equal(after.Body.Bytes(), body) && isReadiness {
			t.Fatalf("GET %s twice: %d %q then %d %q", target, code, body, after.Code, after.Body)
		}
	})
}
