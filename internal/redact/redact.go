// Package redact keeps secrets out of everything the exporter shows: error
// texts in probes, metrics and spans, and every log line.
//
//	r := redact.New(cfg.ConnConfig.Password)
//	safe := r.String(err.Error())
//	logger := slog.New(r.Handler(handler))
package redact

import (
	"net/url"
	"slices"
	"strings"
	"unicode"
)

// Mask replaces every secret.
const Mask = "xxxxx"

// Redactor replaces known secrets, in the forms they take in DSNs and error
// texts, with Mask. The zero value and a nil *Redactor redact nothing.
type Redactor struct {
	replacer *strings.Replacer
}

// New returns a Redactor for the given secrets; empty ones are ignored.
func New(secrets ...string) *Redactor {
	var forms []string
	for _, s := range secrets {
		if s == "" {
			continue
		}
		forms = append(forms, s, url.QueryEscape(s), url.PathEscape(s), url.UserPassword("u", s).String()[2:])
	}
	if len(forms) == 0 {
		return &Redactor{}
	}
	// Longest first: an escaped form must be replaced before a shorter
	// form it contains.
	slices.SortFunc(forms, func(a, b string) int {
		if n := len(b) - len(a); n != 0 {
			return n
		}
		return strings.Compare(a, b)
	})
	forms = slices.Compact(forms)
	pairs := make([]string, 0, 2*len(forms))
	for _, f := range forms {
		pairs = append(pairs, f, Mask)
	}
	return &Redactor{replacer: strings.NewReplacer(pairs...)}
}

// String returns s with every secret masked.
func (r *Redactor) String(s string) string {
	if r == nil || r.replacer == nil {
		return s
	}
	return r.replacer.Replace(s)
}

// Line returns s as one line: every run of white space and control
// characters (newlines, tabs, escapes) becomes a single space.
func Line(s string) string {
	return strings.Join(strings.FieldsFunc(s, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }), " ")
}
