package redact

import (
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
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
// and quoted text. It is safe for concurrent use, and Add may teach it more
// secrets while it is in use (rotated credentials). The zero value and a
// nil *Redactor mask credentials only.
type Redactor struct {
	mu    sync.Mutex // serialises Add
	known atomic.Pointer[known]
}

// known are a Redactor's secrets, the names that hold none of them, and
// the replacer masking the long ones.
type known struct {
	secrets, names []string
	replacer       *strings.Replacer // nil for none
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
	r := &Redactor{}
	r.known.Store(newKnown(secrets, names))
	return r
}

// Add makes r mask other's secrets too, from now on.
func (r *Redactor) Add(other *Redactor) {
	more := other.known.Load()
	if more == nil {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	secrets, names := more.secrets, more.names
	if cur := r.known.Load(); cur != nil {
		secrets = append(slices.Clone(cur.secrets), secrets...)
		names = append(slices.Clone(cur.names), names...)
	}
	r.known.Store(newKnown(secrets, names))
}

func newKnown(secrets, names []string) *known {
	k := &known{secrets: compact(secrets), names: compact(names)}
	var forms []string
	for _, s := range secrets {
		if utf8.RuneCountInString(s) < MinAnywhere || slices.ContainsFunc(names, func(n string) bool { return strings.Contains(n, s) }) {
			continue
		}
		forms = append(forms, spellings(s)...)
	}
	if len(forms) == 0 {
		return k
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
	k.replacer = strings.NewReplacer(pairs...)
	return k
}

// compact returns the distinct non-empty strings of list, sorted.
func compact(list []string) []string {
	list = slices.DeleteFunc(slices.Clone(list), func(s string) bool { return s == "" })
	slices.Sort(list)
	return slices.Compact(list)
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
	if r != nil {
		if k := r.known.Load(); k != nil && k.replacer != nil {
			s = k.replacer.Replace(s)
		}
	}
	return maskCredentials(s)
}

// Line returns s as one line: every run of white space and control
// characters (newlines, tabs, escapes) becomes a single space.
func Line(s string) string {
	return strings.Join(strings.FieldsFunc(s, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }), " ")
}
