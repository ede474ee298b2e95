package exporter_test

import (
	"encoding/json"
	"fmt"
	"html"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/prometheus/common/promslog"
	"go.opentelemetry.io/otel/attribute"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/dbhealth/dbhealth-exporter/internal/exporter"
	"github.com/dbhealth/dbhealth-exporter/internal/pgtest"
	"github.com/dbhealth/dbhealth-exporter/internal/testtools"
)

// canary64 is a 64-character password that must appear in no output at
// all, credential position or not.
const canary64 = "Xq7mP2vL9cN4ry8Tz3Kw6Hj1Rb5Fd0Gs4Ua8Ye2Mi7On3Pc9Qh6Vk1Wl5Zx0Ab4C"

// redactionMatrix is a password per row, with the role that has it and the
// database the exporter watches. Several passwords are also user or
// database names, or letters of every log line, so a redactor that masks
// by substring shows up as a mangled user, database or host.
var redactionMatrix = []struct {
	name, role, password, db string
}{
	{"equal to user and database", "app", "app", "app"},
	{"equal to the database", "reader", "demo", "demo"},
	{"one letter", "tester", "e", "shop"},
	{"one digit", "u1", "1", "db1"},
	{"postgres", "watcher", "postgres", "postgres"},
	{"URL metacharacters", "svc", "p@ss:w/rd%20x", "svc"},
	{"64-character canary", "canary", canary64, "canarydb"},
	{"non-ASCII", "intl", "пароль", "intl"},
}

// spellings are the ways a secret can be written in what the exporter
// outputs: as is, escaped for URLs (query, path, userinfo), inside a JSON
// or Go string, and in HTML.
func spellings(secret string) []string {
	j, _ := json.Marshal(secret)
	q := strconv.Quote(secret)
	all := []string{
		secret,
		url.QueryEscape(secret),
		url.PathEscape(secret),
		url.UserPassword("u", secret).String()[2:],
		string(j[1 : len(j)-1]),
		q[1 : len(q)-1],
		html.EscapeString(secret),
	}
	var out []string
	for _, s := range all {
		if !containsString(out, s) {
			out = append(out, s)
		}
	}
	return out
}

func containsString(list []string, s string) bool {
	for _, l := range list {
		if l == s {
			return true
		}
	}
	return false
}

// credentialLeak returns the first place where text holds password as a
// credential: URL userinfo (":pw@"), a password= value (bare or quoted), a
// password query parameter.
func credentialLeak(text, password string) (string, bool) {
	for _, s := range spellings(password) {
		for _, shape := range []string{":%s@", "password=%s", "password='%s", "password = %s", "password=&#39;%s", `password=\'%s`} {
			if needle := fmt.Sprintf(shape, s); strings.Contains(text, needle) {
				return needle, true
			}
		}
	}
	return "", false
}

// anyLeak returns the first spelling of secret, or 16-character piece of
// it, that text holds.
func anyLeak(text, secret string) (string, bool) {
	for _, s := range spellings(secret) {
		if strings.Contains(text, s) {
			return s, true
		}
	}
	for i := 0; i+16 <= len(secret); i++ {
		if piece := secret[i : i+16]; strings.Contains(text, piece) {
			return piece, true
		}
	}
	return "", false
}

// watched is one exporter of the matrix, with everything it can show.
type watched struct {
	*inProcess
	logs  *testtools.Buffer
	spans *tracetest.SpanRecorder
}

func startWatched(t *testing.T, dsn string) *watched {
	t.Helper()
	logs := &testtools.Buffer{}
	level := promslog.NewLevel()
	if err := level.Set("debug"); err != nil {
		t.Fatal(err)
	}
	cfg := schedule(dsn, time.Second, 800*time.Millisecond)
	cfg.Log = &promslog.Config{Level: level, Format: promslog.NewFormat()}
	spans := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(spans))
	ex := startInProcess(t, cfg, exporter.WithLogOutput(logs), exporter.WithTracerProvider(tp))
	return &watched{inProcess: ex, logs: logs, spans: spans}
}

// outputs waits for a finished database check span, then reads every
// output: the log, every probe body, the metrics, the landing page and the
// spans.
func (w *watched) outputs(t *testing.T) map[string]string {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !w.hasSpan("check database") && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	out := map[string]string{}
	for _, path := range []string{"/readyz", "/readyz?verbose", "/readyz/database", "/readyz/database?verbose",
		"/livez", "/livez?verbose", "/healthz", "/metrics", "/"} {
		_, out[path] = w.get(t, path)
	}
	out["log"] = w.logs.String()
	out["spans"] = w.spanText()
	return out
}

func (w *watched) hasSpan(name string) bool {
	for _, s := range w.spans.Ended() {
		if s.Name() == name {
			return true
		}
	}
	return false
}

// spanText writes every ended span as one line: name, status,
// attributes, events and their attributes.
func (w *watched) spanText() string {
	var b strings.Builder
	kv := func(attrs []attribute.KeyValue) {
		for _, a := range attrs {
			fmt.Fprintf(&b, " %s=%s", a.Key, a.Value.Emit())
		}
	}
	for _, s := range w.spans.Ended() {
		fmt.Fprintf(&b, "span %q status=%s %q", s.Name(), s.Status().Code, s.Status().Description)
		kv(s.Attributes())
		for _, e := range s.Events() {
			fmt.Fprintf(&b, " event %q", e.Name)
			kv(e.Attributes)
		}
		b.WriteByte('\n')
	}
	return b.String()
}

// spanAttrs collects the values of key over every ended span named name.
func (w *watched) spanAttrs(name, key string) []string {
	var out []string
	for _, s := range w.spans.Ended() {
		if s.Name() == name {
			out = append(out, spanAttr(s, key))
		}
	}
	return out
}

// checkOutputs asserts what every row and variant shares: no output holds
// the password as a credential, and the canary is nowhere.
func checkOutputs(t *testing.T, outputs map[string]string, password string) {
	t.Helper()
	for name, text := range outputs {
		if needle, ok := credentialLeak(text, password); ok {
			t.Errorf("%s holds the password as a credential (%q):\n%s", name, needle, text)
		}
		if needle, ok := anyLeak(text, canary64); ok {
			t.Errorf("%s holds the canary (%q):\n%s", name, needle, text)
		}
	}
}

// wantIn asserts that output name holds every one of wants.
func wantIn(t *testing.T, outputs map[string]string, name string, wants ...string) {
	t.Helper()
	for _, want := range wants {
		if !strings.Contains(outputs[name], want) {
			t.Errorf("%s lacks %q:\n%s", name, want, outputs[name])
		}
	}
}

// readyzCheck decodes /readyz's entry for the database check.
func readyzCheck(t *testing.T, body string) map[string]any {
	t.Helper()
	var r struct {
		Checks map[string]map[string]any
	}
	if err := json.Unmarshal([]byte(body), &r); err != nil {
		t.Fatalf("/readyz is no JSON: %v\n%s", err, body)
	}
	return r.Checks["database"]
}

// keywordQuote quotes a keyword/value connection string value as libpq
// reads it.
func keywordQuote(s string) string {
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(s) + "'"
}

// For each password of the matrix, on a real server: the exporter watching
// the database through a working connection (URL and keyword/value
// connection strings) and through a wrong password, and a malformed
// connection string holding it. No log line, probe body, metric, landing
// page or span holds the password as a credential; user, database and host
// read as they are (with password "app" for role app on database app,
// /readyz says "database":"app" and the log says user=app); the 64-character
// canary is nowhere.
func TestRedaction_PasswordMatrix_NoCredentialLeaksAndNamesIntact(t *testing.T) {
	if n := utf8.RuneCountInString(canary64); n != 64 {
		t.Fatalf("the canary has %d characters", n)
	}
	c := pgtest.New(t)
	host := c.Host()
	hostPort := c.Addr()
	for _, row := range redactionMatrix {
		t.Run(row.name, func(t *testing.T) {
			c.CreateRole(t, row.role, row.password)
			if row.db != "postgres" {
				c.Exec(t, "postgres", fmt.Sprintf("CREATE DATABASE %q OWNER %q", row.db, row.role))
			}
			urlDSN := c.RoleDSN(row.role, row.password, row.db)
			kvDSN := fmt.Sprintf("host=%s port=%d user=%s dbname=%s sslmode=disable password=%s",
				host, c.Port(), row.role, row.db, keywordQuote(row.password))

			for _, dsn := range []struct{ form, dsn string }{{"URL", urlDSN}, {"keyword/value", kvDSN}} {
				t.Run("working "+dsn.form, func(t *testing.T) {
					w := startWatched(t, dsn.dsn)
					w.waitReadiness(t, "ready")
					out := w.outputs(t)
					checkOutputs(t, out, row.password)
					if got := readyzCheck(t, out["/readyz"])["database"]; got != row.db {
						t.Errorf(`/readyz says "database":%q, want %q`, got, row.db)
					}
					wantIn(t, out, "/metrics", fmt.Sprintf(`database=%q`, row.db))
					wantIn(t, out, "log", fmt.Sprintf("%s@%s/%s", row.role, hostPort, row.db))
					for attr, want := range map[string]string{"user.name": row.role, "db.namespace": row.db, "server.address": host} {
						if got := w.spanAttrs("connect", attr); len(got) == 0 || got[0] != want {
							t.Errorf("connect span %s = %q, want %q", attr, got, want)
						}
					}
					t.Logf("log:\n%s/readyz: %s", out["log"], out["/readyz"])
				})
			}

			t.Run("wrong password", func(t *testing.T) {
				c.Exec(t, "postgres", fmt.Sprintf("ALTER ROLE %q PASSWORD 'rotated-elsewhere'", row.role))
				t.Cleanup(func() {
					c.Exec(t, "postgres", fmt.Sprintf("ALTER ROLE %q PASSWORD '%s'", row.role, strings.ReplaceAll(row.password, "'", "''")))
				})
				w := startWatched(t, urlDSN)
				w.waitReadiness(t, "not_ready")
				out := w.outputs(t)
				checkOutputs(t, out, row.password)
				check := readyzCheck(t, out["/readyz"])
				if check["reason"] != "auth_failed" {
					t.Errorf("reason %v, want auth_failed:\n%s", check["reason"], out["/readyz"])
				}
				// The error names the address and the user as the server
				// does; the payload names the database.
				names := fmt.Sprintf(`for user "%s"`, row.role)
				if msg, _ := check["error"].(string); !strings.Contains(msg, names) || !strings.Contains(msg, hostPort) {
					t.Errorf("/readyz error %q does not name %q and %s", msg, names, hostPort)
				}
				if got := check["database"]; got != row.db {
					t.Errorf(`/readyz says "database":%q, want %q`, got, row.db)
				}
				wantIn(t, out, "/readyz?verbose", names, hostPort)
				wantIn(t, out, "/readyz/database?verbose", names, hostPort)
				wantIn(t, out, "log", fmt.Sprintf(`for user \"%s\"`, row.role), hostPort) // logfmt escapes the quotes
				wantIn(t, out, "spans", names)
				t.Logf("log:\n%s/readyz?verbose: %s", out["log"], out["/readyz?verbose"])
			})

			t.Run("malformed", func(t *testing.T) {
				base := fmt.Sprintf("postgres://%s@%s/%s", row.role, hostPort, row.db)
				esc := url.QueryEscape(row.password)
				for _, m := range []struct{ dsn, token string }{
					{base + "?password:" + esc, "password:" + esc},
					{base + "?password%3D" + esc, "password%3D" + esc},
					{base + "?sslmode=disable&password" + esc, "password" + esc},
					{fmt.Sprintf("host=%s port=%d user=%s password=x %s dbname=%s", host, c.Port(), row.role, row.password, row.db), `"` + row.password + `"`},
					{fmt.Sprintf("postgres://%s:%s@%s:port/%s", row.role, esc, host, row.db), ":" + esc + "@"},
				} {
					dsn := m.dsn
					cfg := schedule(dsn, time.Second, 800*time.Millisecond)
					cfg.Database.DSNSource = "--db.dsn"
					_, err := exporter.New(cfg, exporter.WithGetenv(func(string) string { return "" }))
					if err == nil {
						t.Errorf("%q parsed", dsn)
						continue
					}
					msg := err.Error()
					if !strings.HasPrefix(msg, "--db.dsn: ") {
						t.Errorf("%q: error %q does not name the flag", dsn, msg)
					}
					if strings.Contains(msg, m.token) || strings.Contains(msg, strconv.Quote(row.password)) {
						t.Errorf("%q: error %q quotes the password (%q)", dsn, msg, m.token)
					}
					if needle, ok := anyLeak(msg, canary64); ok {
						t.Errorf("%q: error %q holds the canary (%q)", dsn, msg, needle)
					}
					t.Logf("%s\n  -> %s", dsn, msg)
				}
			})
		})
	}
}
