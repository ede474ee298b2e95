package redact

import (
	"bytes"
	"errors"
	"log/slog"
	"net/url"
	"strings"
	"testing"
)

// canary is a long secret: masked wherever it appears.
const canary = "c4n4ry/p@ss word"

func TestString_MasksCredentialsByTheirPosition(t *testing.T) {
	cases := []struct{ in, want string }{
		{"postgres://app:app@db:5432/app", "postgres://app:xxxxx@db:5432/app"},
		{"postgresql://app:p%40ss@db/app?sslmode=disable", "postgresql://app:xxxxx@db/app?sslmode=disable"},
		{"dial https://u:p@ss@host/x failed", "dial https://u:xxxxx@host/x failed"}, // a raw '@': up to the last
		{"host=db password=s3cret port=5432", "host=db password=xxxxx port=5432"},
		{"host=db password = s3cret port=5432", "host=db password = xxxxx port=5432"},
		{`host=db password='it\'s a b' user=app`, `host=db password='xxxxx' user=app`},
		{`password=a\ b user=app`, `password=xxxxx user=app`},
		{"user=app password='never closed dbname=app", "user=app password='xxxxx"},
		{"postgres://app@db/app?password=abc&sslmode=disable", "postgres://app@db/app?password=xxxxx&sslmode=disable"},
		{"postgres://app@db/app?sslpassword=abc", "postgres://app@db/app?sslpassword=xxxxx"},
		{"postgres://app@db/app?pass%77ord=abc&x=1", "postgres://app@db/app?pass%77ord=xxxxx&x=1"},
		{"PGPASSWORD=abc psql", "PGPASSWORD=xxxxx psql"},
		{"postgres://app:xxxxx@db/app", "postgres://app:xxxxx@db/app"},
	}
	for _, tc := range cases {
		if got := New().String(tc.in); got != tc.want {
			t.Errorf("String(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// Short passwords are words, names and numbers: text that merely holds
// their letters is left alone, and only credentials are masked.
func TestString_ShortSecretsAreMaskedOnlyAsCredentials(t *testing.T) {
	cases := []struct{ secret, in, want string }{
		{"app", "failed to connect to `user=app database=app`: password authentication failed for user \"app\"",
			"failed to connect to `user=app database=app`: password authentication failed for user \"app\""},
		{"app", "app@127.0.0.1:5432/app postgres://app:app@db/app", "app@127.0.0.1:5432/app postgres://app:xxxxx@db/app"},
		{"demo", `dbhealth_database_info{database="demo"} password=demo`, `dbhealth_database_info{database="demo"} password=xxxxx`},
		{"e", "OpenTelemetry exporter started password='e'", "OpenTelemetry exporter started password='xxxxx'"},
		{"1", "127.0.0.1:5432 (SQLSTATE 28P01)", "127.0.0.1:5432 (SQLSTATE 28P01)"},
		{"postgres", "postgresql://postgres:postgres@db/postgres", "postgresql://postgres:xxxxx@db/postgres"},
	}
	for _, tc := range cases {
		if got := New(tc.secret).String(tc.in); got != tc.want {
			t.Errorf("New(%q).String(%q) = %q, want %q", tc.secret, tc.in, got, tc.want)
		}
	}
}

func TestString_MasksLongSecretsAnywhereInEveryForm(t *testing.T) {
	r := New(canary)
	for _, in := range []string{
		"server said: " + canary,
		"dsn postgres://app:" + url.QueryEscape(canary) + "@db/app",
		"path /" + url.PathEscape(canary),
		`unexpected "` + strings.ReplaceAll(canary, `"`, `\"`) + `"`,
	} {
		out := r.String(in)
		for _, f := range spellings(canary) {
			if strings.Contains(out, f) {
				t.Errorf("String(%q) = %q still holds %q", in, out, f)
			}
		}
		if !strings.Contains(out, Mask) {
			t.Errorf("String(%q) = %q has no mask", in, out)
		}
	}
}

// A long password that a user, database or host name holds is shown by
// that name anyway: masking it would mangle the name and point at the
// password, so it is masked as a credential only.
func TestForConnString_LongSecretInANameIsMaskedOnlyAsCredential(t *testing.T) {
	dsn := "postgres://orders-production:orders-production@db/orders-production-eu"
	r := ForConnString(dsn, "orders-production", func(string) string { return "" })
	in := "starting database=orders-production@db:5432/orders-production-eu dsn=" + dsn
	want := "starting database=orders-production@db:5432/orders-production-eu dsn=postgres://orders-production:xxxxx@db/orders-production-eu"
	if got := r.String(in); got != want {
		t.Fatalf("String(%q) = %q, want %q", in, got, want)
	}
}

func TestString_NilAndEmptyLeaveTextWithoutCredentials(t *testing.T) {
	var r *Redactor
	if got := r.String("abc"); got != "abc" {
		t.Fatalf("nil redactor changed text: %q", got)
	}
	if got := r.String("postgres://u:p@h"); got != "postgres://u:xxxxx@h" {
		t.Fatalf("nil redactor left a credential: %q", got)
	}
	if got := New("").String("abc"); got != "abc" {
		t.Fatalf("empty secret changed text: %q", got)
	}
}

func TestHandler_RedactsMessagesAttributesErrorsAndGroups(t *testing.T) {
	var buf bytes.Buffer
	r := New(canary)
	logger := slog.New(r.Handler(slog.NewTextHandler(&buf, nil))).With("dsn", "password="+canary)
	logger.Info("connecting with "+canary,
		"err", errors.New("auth failed for "+canary),
		slog.Group("db", "url", "postgres://u:"+url.QueryEscape(canary)+"@h/db"),
		"password", "short", "db_password", 42,
		"user", "app", "n", 3)
	out := buf.String()
	if strings.Contains(out, canary) || strings.Contains(out, url.QueryEscape(canary)) || strings.Contains(out, "short") || strings.Contains(out, "42") {
		t.Fatalf("log line leaks a secret: %s", out)
	}
	for _, want := range []string{"password=xxxxx", "db_password=xxxxx", "user=app", "n=3", "db.url=postgres://u:xxxxx@h/db"} {
		if !strings.Contains(out, want) {
			t.Fatalf("log line lacks %q: %s", want, out)
		}
	}
}

func TestLine_JoinsLinesAndDropsControlCharacters(t *testing.T) {
	if got := Line("a\n\tb\x1bc  d\r\n"); got != "a b c d" {
		t.Fatalf("Line = %q", got)
	}
}

func TestAdd_MasksOldAndNewSecrets(t *testing.T) {
	r := New("first-s3cret")
	r.Add(New("second-s3cret"))
	r.Add(New(""))
	if got := r.String("first-s3cret then second-s3cret"); got != Mask+" then "+Mask {
		t.Fatalf("after Add: %q", got)
	}
	var zero Redactor
	zero.Add(New("third-s3cret"))
	if got := zero.String("third-s3cret"); got != Mask {
		t.Fatalf("Add to the zero Redactor: %q", got)
	}
}
