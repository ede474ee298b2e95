package redact

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"
)

// libpqQuote quotes a keyword/value value as libpq reads it.
func libpqQuote(s string) string {
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(s) + "'"
}

// bareEscape writes s as a bare keyword/value value: white space,
// backslashes and a leading quote escaped by a backslash.
func bareEscape(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if isSpace(s[i]) || s[i] == '\\' || (i == 0 && s[i] == '\'') {
			b.WriteByte('\\')
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// credentialForms write a credential holding a password the ways
// connection strings do; each returns the credential, and the same with
// the password masked.
var credentialForms = []func(p string) (string, string){
	func(p string) (string, string) { // URL userinfo
		esc := url.UserPassword("app", p).String()
		return "postgres://" + esc + "@db:5432/app", "postgres://app:" + Mask + "@db:5432/app"
	},
	func(p string) (string, string) { // keyword/value, quoted
		return "host=db password=" + libpqQuote(p) + " dbname=app", "host=db password='" + Mask + "' dbname=app"
	},
	func(p string) (string, string) { // keyword/value, bare
		return "host=db password=" + bareEscape(p) + " dbname=app", "host=db password=" + Mask + " dbname=app"
	},
	func(p string) (string, string) { // URL query
		return "postgres://app@db/app?password=" + url.QueryEscape(p) + "&sslmode=disable",
			"postgres://app@db/app?password=" + Mask + "&sslmode=disable"
	},
}

// plain drops from s everything that can start or end a credential: then
// a credential placed between two plain texts is one by any reading.
func plain(s string) string {
	return strings.Map(func(r rune) rune {
		if r == utf8.RuneError || strings.ContainsRune(`'"\=@:/?&%`, r) {
			return -1
		}
		return r
	}, s)
}

// checkable reports whether "the output holds no s" is sound for a
// spelling s of a secret: a mask next to an 'x' can spell anew a secret
// that starts or ends with 'x' or holds the mask.
func checkable(s string) bool {
	return s != "" && s[0] != 'x' && s[len(s)-1] != 'x' && !strings.Contains(s, Mask)
}

// longLeak returns a spelling of a long secret that out holds.
func longLeak(out, secret string) (string, bool) {
	if utf8.RuneCountInString(secret) < MinAnywhere {
		return "", false
	}
	for _, f := range spellings(secret) {
		if checkable(f) && strings.Contains(out, f) {
			return f, true
		}
	}
	return "", false
}

// FuzzString checks the rule on fuzzed text and passwords.
//
//   - A credential holding the password, written each way connection
//     strings write one and put between plain texts: the output is the
//     text with that password, and nothing else, masked (and a long
//     password masked wherever it appears).
//   - Any text, the credential between fuzzed texts: the output holds no
//     credential whose value is not the mask, holds no spelling of a long
//     password, and is the same when redacted again.
//   - Text that cannot hold a credential (no '=' and no '@') and no long
//     password comes out as it went in, whatever the password.
func FuzzString(f *testing.F) {
	f.Add("app", "user=app database=app", "app@127.0.0.1/app", uint8(0))
	f.Add("e", "OpenTelemetry", "level=debug", uint8(1))
	f.Add("1", "127.0.0.1:5432", "SQLSTATE 28P01", uint8(2))
	f.Add("p@ss:w/rd%20x", "", "", uint8(3))
	f.Add("c4n4ry/p@ss word 64 characters long, and then some more of them", "dsn ", "", uint8(0))
	f.Add("it's \\ tricky", "«", "»", uint8(1))
	f.Add("пароль", "password", "", uint8(2))
	f.Add("xxxxx", "", "", uint8(0))
	f.Add("", "nothing to hide", "", uint8(4))
	f.Fuzz(func(t *testing.T, password, prefix, suffix string, form uint8) {
		r := New(password)
		if i := int(form); i < len(credentialForms) && password != "" {
			cred, masked := credentialForms[i](password)
			pre, post := plain(prefix), plain(suffix)
			text := pre + " " + cred + " " + post
			out := r.String(text)
			if utf8.RuneCountInString(password) < MinAnywhere {
				if want := pre + " " + masked + " " + post; out != want {
					t.Fatalf("String(%q) = %q, want %q", text, out, want)
				}
			} else if !strings.Contains(out, masked) {
				t.Fatalf("String(%q) = %q lacks %q", text, out, masked)
			}
			if s, ok := longLeak(out, password); ok {
				t.Fatalf("String(%q) = %q holds %q", text, out, s)
			}
		}

		text := prefix + suffix
		if i := int(form); i < len(credentialForms) {
			cred, _ := credentialForms[i](password)
			text = prefix + cred + suffix
		}
		out := r.String(text)
		if again := New(password).String(text); again != out {
			t.Fatalf("not deterministic: %q then %q", out, again)
		}
		for _, sp := range append(userinfoPasswords(out), keywordPasswords(out)...) {
			if v := out[sp.start:sp.end]; v != Mask {
				t.Fatalf("String(%q) = %q holds the credential %q", text, out, v)
			}
		}
		if s, ok := longLeak(out, password); ok {
			t.Fatalf("String(%q) = %q holds %q", text, out, s)
		}
		if again := r.String(out); again != out {
			t.Fatalf("String(%q) = %q, and again %q", text, out, again)
		}
		long := utf8.RuneCountInString(password) >= MinAnywhere && slices.ContainsFunc(spellings(password), func(s string) bool { return strings.Contains(text, s) })
		if !long && !strings.ContainsAny(text, "=@") && out != text {
			t.Fatalf("text without credentials changed: %q -> %q", text, out)
		}
	})
}

// record is what the wrapped handler was given: the message and every
// attribute value, flattened with its group path.
type record struct {
	msg    string
	values map[string]slog.Value
}

// recorder keeps the records it handles, with the attributes of With
// calls. It sees values before any encoding, so a test cannot mistake a
// JSON or logfmt escape for the secret.
type recorder struct {
	prefix string     // the WithGroup path, "a.b."
	attrs  []prefixed // from WithAttrs
	out    *[]record
}

type prefixed struct {
	prefix string
	attr   slog.Attr
}

func (h recorder) Enabled(context.Context, slog.Level) bool { return true }

func (h recorder) Handle(_ context.Context, r slog.Record) error {
	rec := record{msg: r.Message, values: map[string]slog.Value{}}
	var add func(prefix string, a slog.Attr)
	add = func(prefix string, a slog.Attr) {
		if a.Value.Kind() == slog.KindGroup {
			for _, g := range a.Value.Group() {
				add(prefix+a.Key+".", g)
			}
			return
		}
		rec.values[prefix+a.Key] = a.Value
	}
	for _, p := range h.attrs {
		add(p.prefix, p.attr)
	}
	r.Attrs(func(a slog.Attr) bool { add(h.prefix, a); return true })
	*h.out = append(*h.out, rec)
	return nil
}

func (h recorder) WithAttrs(attrs []slog.Attr) slog.Handler {
	h.attrs = h.attrs[:len(h.attrs):len(h.attrs)]
	for _, a := range attrs {
		h.attrs = append(h.attrs, prefixed{h.prefix, a})
	}
	return h
}

func (h recorder) WithGroup(name string) slog.Handler {
	h.prefix += name + "."
	return h
}

// valuer is a LogValuer that resolves to a group holding the secret.
type valuer struct{ s string }

func (v valuer) LogValue() slog.Value {
	return slog.GroupValue(slog.String("inner", v.s), slog.Any("err", errors.New("failed: "+v.s)))
}

// stringer is a value slog formats with fmt.
type stringer struct{ s string }

func (s stringer) String() string { return "stringer(" + s.s + ")" }

// FuzzHandler logs a long secret, in a fuzzed spelling and fuzzed
// surroundings, through every path an attribute takes (message, string,
// error, group, LogValuer, fmt value, With, WithGroup), and a short one
// under a password key. Properties: the wrapped handler never receives a
// spelling of the long secret in a message or string attribute value
// (every attribute that held text reaches it as a string), an attribute
// named *password reaches it as the mask, and numbers and booleans keep
// their kind and value.
func FuzzHandler(f *testing.F) {
	f.Add("c4n4ry/p@ss word", "connecting with ", uint8(0))
	f.Add("c4n4ry/p@ss word", "postgres://app:", uint8(1))
	f.Add("s3cret", "", uint8(2))
	f.Add("a=b c", "password=", uint8(3))
	f.Add("\"quoted\"", "{\"json\":", uint8(0))
	f.Add("\n", "line\nbreak", uint8(0))
	f.Fuzz(func(t *testing.T, fuzzed, context string, form uint8) {
		secret := "Fz9Q" + fuzzed + "Wv3J-K8m2" // long: masked anywhere
		all := spellings(secret)
		text := context + all[int(form)%len(all)] + context
		var got []record
		r := New(secret)
		logger := slog.New(r.Handler(recorder{out: &got})).
			With("with", text, slog.Group("wg", "v", text)).
			WithGroup("grp").
			With("with2", errors.New(text))
		logger.Info(text,
			"s", text,
			"err", fmt.Errorf("wrapped: %w", errors.New(text)),
			slog.Group("g", "a", text, slog.Group("h", "b", text, "n", 7)),
			"valuer", valuer{text},
			"any", stringer{text},
			"slice", []string{text, text},
			"password", fuzzed,
			"n", 3,
			"ok", true,
		)
		if len(got) != 1 {
			t.Fatalf("%d records", len(got))
		}
		rec := got[0]
		if s, ok := longLeak(rec.msg, secret); ok {
			t.Fatalf("message %q holds %q", rec.msg, s)
		}
		for k, v := range rec.values {
			// Numbers, booleans, durations and times pass as they are.
			if v.Kind() != slog.KindString {
				continue
			}
			if s, ok := longLeak(v.String(), secret); ok {
				t.Fatalf("attribute %s = %q holds %q", k, v.String(), s)
			}
		}
		for _, k := range []string{"with", "wg.v", "grp.with2", "grp.s", "grp.err", "grp.g.a", "grp.g.h.b",
			"grp.valuer.inner", "grp.valuer.err", "grp.any", "grp.slice"} {
			if v, ok := rec.values[k]; !ok || v.Kind() != slog.KindString {
				t.Fatalf("attribute %s missing or not a string: %v (all: %v)", k, v, rec.values)
			}
		}
		if v := rec.values["grp.password"]; v.Kind() != slog.KindString || v.String() != Mask {
			t.Fatalf("password = %v, want the mask", v)
		}
		if v := rec.values["grp.n"]; v.Kind() != slog.KindInt64 || v.Int64() != 3 {
			t.Fatalf("n = %v, want the int 3", v)
		}
		if v := rec.values["grp.g.h.n"]; v.Kind() != slog.KindInt64 || v.Int64() != 7 {
			t.Fatalf("g.h.n = %v, want the int 7", v)
		}
		if v := rec.values["grp.ok"]; v.Kind() != slog.KindBool || !v.Bool() {
			t.Fatalf("ok = %v, want true", v)
		}
	})
}
