package redact

import (
	"net/url"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Mask replaces every secret.
const Mask = "xxxxx"

// MinAnywhere is the length, in characters, from which a known secret is
// masked wherever it appears and not only where it stands as a credential.
// Shorter secrets are words, names and numbers that ordinary text holds by
// chance ("app", "demo", "e", "1", "postgres"): masking them anywhere
// mangles that text, and masking a database name in one output but not
// in another tells a reader the password.
const MinAnywhere = 12

// Redactor masks secrets in text: every credential (see maskCredentials)
// by its position, and known secrets of at least MinAnywhere characters
// wherever they appear, in the spellings they take in connection strings
// and quoted text. The zero value and a nil *Redactor mask credentials
// only.
type Redactor struct {
	replacer *strings.Replacer // the known long secrets; nil for none
}

// New returns a Redactor for the given secrets. Those shorter than
// MinAnywhere (and empty ones) add nothing: like every other password,
// they are masked where they stand as credentials.
func New(secrets ...string) *Redactor { return newRedactor(secrets, nil) }

// newRedactor returns a Redactor for secrets, leaving out of the second
// layer every secret that names hold: a password that is part of a user,
// database or host name is shown by that name anyway, and masking it
// would mangle the name and point at the password.
func newRedactor(secrets, names []string) *Redactor {
	var forms []string
	for _, s := range secrets {
		if utf8.RuneCountInString(s) < MinAnywhere || slices.ContainsFunc(names, func(n string) bool { return strings.Contains(n, s) }) {
			continue
		}
		forms = append(forms, spellings(s)...)
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

// spellings are the forms a secret takes in connection strings and error
// texts: as is, escaped for a URL query, path or userinfo, inside a Go
// string (a flag parser's %q) and inside a libpq single-quoted value.
func spellings(s string) []string {
	quoted := strconv.Quote(s)
	return []string{
		s,
		url.QueryEscape(s),
		url.PathEscape(s),
		url.UserPassword("u", s).String()[2:],
		quoted[1 : len(quoted)-1],
		strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(s),
	}
}

// String returns s with its credentials and the known long secrets
// masked.
func (r *Redactor) String(s string) string {
	if r != nil && r.replacer != nil {
		s = r.replacer.Replace(s)
	}
	return maskCredentials(s)
}

// Line returns s as one line: every run of white space and control
// characters (newlines, tabs, escapes) becomes a single space.
func Line(s string) string {
	return strings.Join(strings.FieldsFunc(s, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }), " ")
}
