package redact

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"testing"
)

// forms are the spellings of a secret the Redactor promises to mask: as is,
// query-escaped, path-escaped and escaped as URL userinfo.
func forms(secret string) []string {
	return []string{
		secret,
		url.QueryEscape(secret),
		url.PathEscape(secret),
		url.UserPassword("u", secret).String()[2:],
	}
}

// checkable reports whether "the output holds no form of s" is a sound
// property for a form s. An empty secret redacts nothing, and a secret
// starting or ending with 'x', or holding the mask, can be spelt anew by the
// mask and its neighbours without leaking anything: "ax" in "aax" becomes
// "axxxxx". (Any other secret cannot overlap a mask: an occurrence in the
// output is an occurrence left unmasked.)
func checkable(s string) bool {
	return s != "" && s[0] != 'x' && s[len(s)-1] != 'x' && !strings.Contains(s, Mask)
}

// leaked returns the first form of a secret that out still holds.
func leaked(out string, secrets ...string) (string, bool) {
	for _, s := range secrets {
		if s == "" {
			continue
		}
		for _, f := range forms(s) {
			if checkable(f) && strings.Contains(out, f) {
				return f, true
			}
		}
	}
	return "", false
}

// FuzzString puts a secret, in one of the forms it takes in DSNs and error
// texts, between fuzzed text. Properties: no form of any secret survives;
// every secret that was there leaves a mask; text holding no form of a
// secret comes out unchanged; redacting is deterministic.
func FuzzString(f *testing.F) {
	f.Add("c4n4ry/p@ss word", "", "postgres://app:", "@db:5432/app", uint8(1))
	f.Add("c4n4ry/p@ss word", "", "password=", " host=db", uint8(0))
	f.Add("s3cret", "", "", "", uint8(0))
	f.Add("s3cret", "PGPASS", "auth failed for ", " (PGPASS also set)", uint8(2))
	f.Add("a b+c%d&e=f?g#h", "", "dsn ", "", uint8(3))
	f.Add("ünï©ødé", "", "«", "»", uint8(1))
	f.Add("%2541", "%41", "x%2541%41y", "", uint8(1))
	f.Add("ab", "ba", "aba", "bab", uint8(0))
	f.Add("p", "", "p", "p", uint8(0))
	f.Add("", "", "nothing to hide", "", uint8(0))
	f.Add("xxxxx", "", "", "", uint8(0))
	f.Add("secret", "", "no secret here", "", uint8(4)) // form 4: not inserted
	f.Fuzz(func(t *testing.T, secret, other, prefix, suffix string, form uint8) {
		text := prefix + suffix
		inserted := int(form) < len(forms(secret))
		if inserted {
			text = prefix + forms(secret)[form] + suffix
		}
		r := New(secret, other)
		out := r.String(text)
		if again := New(secret, other).String(text); again != out {
			t.Fatalf("not deterministic: %q then %q", out, again)
		}
		if f, ok := leaked(out, secret, other); ok {
			t.Fatalf("String(%q) = %q still holds %q", text, out, f)
		}
		if inserted && secret != "" && !strings.Contains(out, Mask) {
			t.Fatalf("String(%q) = %q holds no mask", text, out)
		}
		present := false
		for _, s := range []string{secret, other} {
			for _, f := range forms(s) {
				present = present || (s != "" && strings.Contains(text, f))
			}
		}
		if !present && out != text {
			t.Fatalf("text without secrets changed: %q -> %q", text, out)
		}
		// One secret alone masks what it masked among others.
		if _, ok := leaked(New(secret).String(text), secret); ok {
			t.Fatalf("New(%q) alone leaks in %q", secret, text)
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

// FuzzHandler logs a secret, in a fuzzed form and fuzzed surroundings,
// through every path an attribute takes (message, string, error, group,
// LogValuer, fmt value, With, WithGroup). Property: the wrapped handler
// never receives a form of the secret in a message or string attribute
// value (every attribute that held text reaches it as a string), and
// numbers and booleans keep their kind and value.
func FuzzHandler(f *testing.F) {
	f.Add("c4n4ry/p@ss word", "connecting with ", uint8(0))
	f.Add("c4n4ry/p@ss word", "postgres://app:", uint8(1))
	f.Add("s3cret", "", uint8(2))
	f.Add("a=b c", "password=", uint8(3))
	f.Add("\"quoted\"", "{\"json\":", uint8(0))
	f.Add("\n", "line\nbreak", uint8(0))
	f.Fuzz(func(t *testing.T, secret, context string, form uint8) {
		all := forms(secret)
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
			"n", 3,
			"ok", true,
		)
		if len(got) != 1 {
			t.Fatalf("%d records", len(got))
		}
		rec := got[0]
		if f, ok := leaked(rec.msg, secret); ok {
			t.Fatalf("message %q holds %q", rec.msg, f)
		}
		for k, v := range rec.values {
			// Numbers, booleans, durations and times pass as they are:
			// a secret "7" is not leaked by the int 7.
			if v.Kind() != slog.KindString {
				continue
			}
			if f, ok := leaked(v.String(), secret); ok {
				t.Fatalf("attribute %s = %q holds %q", k, v.String(), f)
			}
		}
		for _, k := range []string{"with", "wg.v", "grp.with2", "grp.s", "grp.err", "grp.g.a", "grp.g.h.b",
			"grp.valuer.inner", "grp.valuer.err", "grp.any", "grp.slice"} {
			if v, ok := rec.values[k]; !ok || v.Kind() != slog.KindString {
				t.Fatalf("attribute %s missing or not a string: %v (all: %v)", k, v, rec.values)
			}
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
